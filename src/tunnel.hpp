// The CONNECT exchange with one proxy, authentication retries included.
#pragma once

#include "auth.hpp"
#include "error.hpp"
#include "log.hpp"
#include "request.hpp"
#include "route.hpp"
#include "stream.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corkscrew {

// Requests that carry credentials before the proxy's refusal is final. Three, as OpenBSD nc does:
// enough for a stale nonce or a second leg, few enough not to lock an account.
inline constexpr int max_auth_tries = 3;

// The most body bytes of a 407 that are read and dropped to keep its connection; a larger body
// is cheaper to leave behind by opening a new connection.
inline constexpr std::size_t max_discarded_body_bytes = 1024 * 1024;

struct request_options {
    std::string user_agent;
    std::vector<header_field> extra_headers;
    auth_choice auth = auth_choice::any;
    // Take no byte past the proxy's final answer from the connection, so that the tunnel's first
    // bytes are still there when the socket is handed on (--fdpass): each read peeks, then takes
    // only what belongs to the answer. Needs a stream that can peek.
    bool exact = false;
};

struct tunnel {
    std::unique_ptr<byte_stream> stream;
    // Tunnel data that arrived with the proxy's answer; it comes before anything read later.
    // Always empty with request_options::exact.
    std::string leftover;
};

// Opens a new connection to the hop's proxy, for the first request and whenever the proxy closes
// the connection during authentication.
using connector = std::function<net::awaitable<result<std::unique_ptr<byte_stream>>>()>;

// Asks `through` for a tunnel to `target`, authenticating as the proxy requires.
net::awaitable<result<tunnel>> open_tunnel(const connector& connect, const hop& through,
                                           const endpoint_name& target,
                                           const request_options& options, const logger& log);

} // namespace corkscrew
