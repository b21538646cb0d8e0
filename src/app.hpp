// One run of the program: set up the route, relay, and say how it ended.
#pragma once

#include "log.hpp"
#include "options.hpp"

namespace corkscrew {

// Runs the tunnel described by `settings` on stdin/stdout; returns the process exit status.
int run(const config& settings, const logger& log);

} // namespace corkscrew
