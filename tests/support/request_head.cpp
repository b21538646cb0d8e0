#include "request_head.hpp"

#include <algorithm>
#include <cctype>

namespace corkscrew_test {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && blank(s.back())) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

// Every '\n' preceded by '\r', every '\r' followed by '\n'.
bool only_crlf(std::string_view head) {
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
            return false;
        }
        if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) {
            return false;
        }
    }
    return true;
}

} // namespace

std::vector<std::string> request_head::values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : headers) {
        if (iequals(n, name)) {
            out.push_back(v);
        }
    }
    return out;
}

std::optional<std::string> request_head::value(std::string_view name) const {
    auto all = values(name);
    if (all.size() != 1) {
        return std::nullopt;
    }
    return all.front();
}

request_head parse_request_head(std::string_view head) {
    request_head out;
    out.crlf_only = only_crlf(head);
    bool first = true;
    while (!head.empty()) {
        const auto eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            break;
        }
        if (first) {
            out.request_line = std::string(line);
            first = false;
            continue;
        }
        const auto colon = line.find(':');
        out.headers.emplace_back(std::string(line.substr(0, colon)),
                                 colon == std::string_view::npos ? ""
                                                                 : trim(line.substr(colon + 1)));
    }
    return out;
}

} // namespace corkscrew_test
