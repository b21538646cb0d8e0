// The relay's fast path, for the usual case: the tunnel is a socket, and stdin and stdout are
// pipes or sockets (as ssh gives them), regular files or /dev/null. It waits on an epoll set of its
// own, each descriptor registered once, edge-triggered, so a round trip costs one wait and one read
// and one write per direction, as a plain select() loop does; Asio's reactor re-arms a
// descriptor on every wait and polls once more after every completion. Bulk data moves by
// splice(2) through the pipe side, interactive data by read/write, each direction switching as
// the traffic changes.
#pragma once

#include "relay.hpp"

#include <optional>

namespace corkscrew {

// Relays as relay() does, with its guarantees (leftover first, each direction ends on its own,
// EPIPE on stdout ends the run, the idle timeout), or returns nothing at once, having touched
// nothing, when one of the three does not suit it (a terminal, whose read returns one line of
// several; a stream without a descriptor): relay() then runs its portable path.
net::awaitable<std::optional<relay_outcome>>
relay_descriptors(byte_stream& local_in, byte_stream& local_out, byte_stream& tunnel,
                  std::string& leftover, const relay_options& options);

} // namespace corkscrew
