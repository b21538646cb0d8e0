// Splitting argv into options and arguments, GNU style, from a table of the options; the same
// table writes the option list of --help. What the options mean is options.cpp's business.
#pragma once

#include "error.hpp"

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

struct option_spec {
    char short_name = 0;         // 'x' for -x; 0 when there is none
    std::string_view long_name;  // "proxy" for --proxy; empty when there is none
    std::string_view value_name; // "URL": the option takes a value; empty: a flag
    std::string_view help;       // one sentence for --help
    // The name options are looked up by: the long name, else the short one.
    std::string key() const {
        return long_name.empty() ? std::string(1, short_name) : std::string(long_name);
    }
};

struct parsed_argv {
    // By option key, one entry per occurrence in order (an empty string for a flag).
    std::map<std::string, std::vector<std::string>, std::less<>> options;
    std::vector<std::string> arguments; // the non-option words, in order

    std::size_t count(std::string_view key) const;
    // The last value given (the one that wins for a single-valued option), or nullptr.
    const std::string* last(std::string_view key) const;
    // Every value given, in order.
    std::vector<std::string> all(std::string_view key) const;
};

// Accepts `--name value`, `--name=value`, `-x value`, `-xvalue`, bundled flags (`-vv`, `-4v`),
// options and arguments in any order, and `--` before arguments that start with '-'. A lone "-"
// is an argument. Unknown options, a missing value and a value given to a flag are usage errors.
result<parsed_argv> parse_argv(std::span<const option_spec> table, int argc,
                               const char* const* argv);

// The option list for --help: "  -x, --proxy URL   help...", the help wrapped to `width`.
std::string option_list(std::span<const option_spec> table, std::size_t width = 100);

} // namespace corkscrew
