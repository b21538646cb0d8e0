// --probe: why a tunnel fails, told to its user. The route is set up as for a run (the same
// code, at full verbosity, its lines collected with their times instead of printed), nothing is
// sent to the destination, what it sends first is shown, and a verdict with a hint ends the
// report. --json gives the same facts as one JSON document.
#pragma once

#include "options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace corkscrew {

struct probe_step {
    double ms = 0; // since the start
    std::string text;
};

struct probe_facts {
    std::string destination;
    std::vector<probe_step> steps;
    bool tunnel_up = false;
    std::optional<std::string> first_bytes; // none: the destination said nothing in time
    int exit_status = 0;
    std::string error; // the failure's one line, when exit_status != 0
};

// What the user could try, from the failure and the route; empty when there is nothing to say.
std::string probe_hint(const config& settings, const probe_facts& facts);

std::string render_probe_text(const config& settings, const probe_facts& facts);
std::string render_probe_json(const config& settings, const probe_facts& facts);

// Runs the probe for `settings` and prints the report on stdout; returns the exit status.
int run_probe(const config& settings);

} // namespace corkscrew
