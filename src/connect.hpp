// Connecting to whichever of a host's addresses answers first, Happy Eyeballs style (RFC 8305):
// an address that does not answer (a dead IPv6 route, a blackholed server) delays the tunnel by
// a fraction of a second instead of a whole connect timeout.
#pragma once

#include "stream.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

namespace corkscrew {

using tcp_endpoint = net::ip::tcp::endpoint;

// How long an attempt runs alone before the next address is tried beside it: RFC 8305 section 8
// recommends 250 ms, long enough for a healthy connection on any continent to complete first.
inline constexpr std::chrono::milliseconds connection_attempt_delay{250};

// The order of the attempts (RFC 8305 section 4): the system's order, but alternating address
// families from the first one's, so one dead family costs one delay, not one per address.
std::vector<tcp_endpoint> interleave_families(const std::vector<tcp_endpoint>& addresses);

struct connect_result {
    std::optional<net::ip::tcp::socket> socket; // connected, when one attempt succeeded
    error_code ec;                              // else the last attempt's error
    tcp_endpoint endpoint;                      // the address connected to, or the last tried
};

// Tries `addresses` in order, starting the next one when the previous attempts failed or after
// `delay` without an answer, and returns the first connection made; the others are closed.
// `on_attempt` is told each address as it is tried. While it runs, `abort` holds a function that
// ends every attempt at once (for a deadline or a signal); it is cleared on return.
net::awaitable<connect_result>
connect_first(const std::vector<tcp_endpoint>& addresses, std::chrono::milliseconds delay,
              const std::function<void(const tcp_endpoint&)>& on_attempt,
              std::function<void()>& abort);

} // namespace corkscrew
