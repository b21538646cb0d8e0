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
};

struct route {
    std::vector<hop> hops; // the first is the nearest
    endpoint_name destination;
};

} // namespace corkscrew
