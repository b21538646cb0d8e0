// Parse a request head the scripted proxy recorded, for assertions on its shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew_test {

struct request_head {
    std::string request_line;
    std::vector<std::pair<std::string, std::string>> headers; // in order, values trimmed
    bool crlf_only = false; // every line ends in CRLF, no bare LF or stray CR

    // Values of the header with this name (case-insensitive), in order.
    std::vector<std::string> values(std::string_view name) const;
    // The single value of the header, nullopt when absent or repeated.
    std::optional<std::string> value(std::string_view name) const;
};

request_head parse_request_head(std::string_view head);

} // namespace corkscrew_test
