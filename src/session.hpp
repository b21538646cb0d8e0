// One tunnel, from start to end: the route's set-up within its deadline (or ssh to a gateway),
// the compression handshake, the relay between the local side and the tunnel, and the exit
// status that says how it ended. The local side is stdin and stdout, or a connection the
// listener accepted.
#pragma once

#include "log.hpp"
#include "options.hpp"
#include "relay.hpp"
#include "stream.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>

namespace corkscrew {

class session {
public:
    // `local`: the local side, one stream both ways; none for stdin and stdout.
    session(const config& settings, logger log, net::io_context& io,
            std::unique_ptr<byte_stream> local = nullptr);
    ~session();

    // Runs the tunnel to its end; status() then says how it went.
    net::awaitable<void> run();
    // A stop signal (SIGHUP, SIGTERM, SIGINT, or the listener shutting down): whatever is in
    // progress ends now, and the status becomes 128 + signo.
    void stop(int signo);
    int status() const;
    // What the relay moved (zero when it never started).
    const relay_outcome& outcome() const;
    // With --probe: what the destination sent first, or nothing when it stayed silent.
    const std::optional<std::string>& first_bytes() const;

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

} // namespace corkscrew
