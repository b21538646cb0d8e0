#include "request.hpp"

#include "text.hpp"

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

// Headers whose values are credentials: shown as "<scheme> <redacted>" in the log.
bool is_credential(std::string_view name) {
    return iequals(name, "Proxy-Authorization") || iequals(name, "Authorization");
}

std::string redacted(std::string_view value) {
    auto space = value.find(' ');
    if (space == std::string_view::npos)
        return "<redacted>";
    return std::string(value.substr(0, space)) + " <redacted>";
}

std::string render_with(const connect_request& r, bool redact) {
    const auto& auth = r.proxy_authorization;
    auto target = authority(r.target);
    std::string out;
    out.reserve(256);
    out += "CONNECT " + target + " HTTP/1.1\r\n";
    out += "Host: " + target + "\r\n";
    out += "User-Agent: " + r.user_agent + "\r\n";
    if (auth)
        out += "Proxy-Authorization: " + (redact ? redacted(*auth) : *auth) + "\r\n";
    for (const auto& h : r.extra_headers)
        out += h.name + ": " + (redact && is_credential(h.name) ? redacted(h.value) : h.value) +
               "\r\n";
    out += "\r\n";
    return out;
}

} // namespace

result<header_field> parse_header_option(std::string_view text) {
    auto colon = text.find(':');
    auto bad = [&](const char* why) {
        return fail(failure::usage, "invalid header '" + printable(text) + "': " + why);
    };
    if (colon == std::string_view::npos || colon == 0)
        return bad("want 'Name: value'");
    auto name = text.substr(0, colon);
    for (unsigned char c : name)
        if (!is_tchar(c))
            return bad("the name may hold only token characters");
    // These frame the request or name its target; corkscrew++ sets them itself, and a second
    // Content-Length or Transfer-Encoding would make the proxy read tunnel data as a body.
    for (std::string_view own : {"Host", "Content-Length", "Transfer-Encoding"})
        if (iequals(name, own))
            return bad("corkscrew++ sets this header itself");
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
    return render_with(request, false);
}

std::string render_redacted(const connect_request& request) {
    return render_with(request, true);
}

} // namespace corkscrew
