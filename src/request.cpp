#include "request.hpp"

namespace corkscrew {

namespace {

bool is_tchar(unsigned char c) {
    // RFC 9110 section 5.6.2
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return std::isalnum(c) || extra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_field_value_char(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

std::string render_with(const connect_request& r, const std::optional<std::string>& auth) {
    auto target = authority(r.target);
    std::string out;
    out.reserve(256);
    out += "CONNECT " + target + " HTTP/1.1\r\n";
    out += "Host: " + target + "\r\n";
    out += "User-Agent: " + r.user_agent + "\r\n";
    if (auth)
        out += "Proxy-Authorization: " + *auth + "\r\n";
    for (const auto& h : r.extra_headers)
        out += h.name + ": " + h.value + "\r\n";
    out += "\r\n";
    return out;
}

} // namespace

result<header_field> parse_header_option(std::string_view text) {
    auto colon = text.find(':');
    auto bad = [&](const char* why) {
        std::string shown;
        for (unsigned char c : text)
            shown += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
        return fail(failure::usage, "invalid header '" + shown + "': " + why);
    };
    if (colon == std::string_view::npos || colon == 0)
        return bad("want 'Name: value'");
    auto name = text.substr(0, colon);
    for (unsigned char c : name)
        if (!is_tchar(c))
            return bad("the name may hold only token characters");
    auto value = text.substr(colon + 1);
    for (unsigned char c : value)
        if (!is_field_value_char(c))
            return bad("control characters are not allowed");
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    return header_field{std::string(name), std::string(value)};
}

std::string render(const connect_request& request) {
    return render_with(request, request.proxy_authorization);
}

std::string render_redacted(const connect_request& request) {
    std::optional<std::string> shown;
    if (request.proxy_authorization) {
        const auto& v = *request.proxy_authorization;
        shown = v.substr(0, v.find(' ')) + " <redacted>";
    }
    return render_with(request, shown);
}

} // namespace corkscrew
