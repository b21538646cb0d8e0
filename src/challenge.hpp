// Proxy-Authenticate challenges (RFC 9110 section 11.6.1): parsing only, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

struct auth_param {
    std::string name;  // as sent; compared case-insensitively
    std::string value; // unquoted, escapes resolved
};

struct challenge {
    std::string scheme;  // as sent ("Basic", "digest"); compared case-insensitively
    std::string token68; // e.g. a Negotiate token; empty when the challenge has params instead
    std::vector<auth_param> params;

    bool is(std::string_view name) const;
    std::optional<std::string_view> param(std::string_view name) const;
};

struct parsed_challenges {
    std::vector<challenge> challenges;
    // What could not be parsed, one entry per field where parsing stopped (for -v and errors).
    std::vector<std::string> problems;
};

// Parses the values of every Proxy-Authenticate field. A field may hold several challenges; a
// syntax error drops the challenge it occurs in and the rest of that field, nothing else.
parsed_challenges parse_challenges(const std::vector<std::string_view>& field_values);

} // namespace corkscrew
