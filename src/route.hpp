// Where the stream goes: through an ordered list of proxies (hops) to a destination.
#pragma once

#include "credentials.hpp"
#include "url.hpp"

#include <optional>
#include <vector>

namespace corkscrew {

struct hop {
    endpoint_name proxy;
    // Sent to this proxy only, never to another hop.
    std::optional<credentials> creds;
    // Send Basic before any challenge, as corkscrew does with its auth file.
    bool preemptive_basic = false;
    // Where this proxy's password comes from when it asks and `creds` has none (a prompt);
    // empty when none may be asked for.
    password_source ask;
    // An https:// proxy: TLS to it, inside the tunnel of the hops before it if any.
    bool tls = false;
};

// The hops are crossed in order: a connection to the first, CONNECT through it to the second,
// CONNECT through that tunnel to the third, and so on; the last one's tunnel leads to the
// destination.
struct route {
    std::vector<hop> hops; // the first is the nearest
    endpoint_name destination;
};

} // namespace corkscrew
