// Fuzzes what becomes the CONNECT request's target and headers (url.hpp, request.hpp): proxy URLs,
// DESTHOST and DESTPORT, ports and -H headers. Whatever is accepted cannot split the request; a
// proxy URL written back out parses the same; messages are printable and mask the URL's password.
//
// Input: one byte, the separator; then, separated by it: a proxy URL, a destination host, a
// destination port, a -H header.
#include "url.hpp"

#include "fuzz_support.hpp"
#include "request.hpp"

#include <algorithm>

using namespace corkscrew;
using fuzz::require;

namespace {

// Shorter passwords turn up in the rest of the URL by chance; from this length on, seeing the
// password in a message is a leak.
constexpr std::size_t min_checked_password = 4;

// A byte of the userinfo that needs no percent-encoding (RFC 3986 unreserved).
bool is_unreserved(unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percent_encoded(std::string_view s) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (is_unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

std::optional<std::string> percent_decoded(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
            return std::nullopt;
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
    }
    return out;
}

// The URL written out again from what was parsed, every part explicit.
std::string rendered(const proxy_url& u) {
    std::string out = u.scheme + "://";
    if (u.userinfo) {
        out += percent_encoded(u.userinfo->user);
        if (u.password_in_url)
            out += ":" + percent_encoded(u.userinfo->password);
        out += "@";
    }
    return out + authority(u.server);
}

// A host that can go into a request line: what parse_host() lets through.
void check_host(const std::string& host) {
    require(!host.empty(), "a host is not empty");
    require(std::none_of(host.begin(), host.end(),
                         [](unsigned char c) {
                             return c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' ||
                                    c == '@' || c == '[' || c == ']' || c == '\\' || c == '"';
                         }),
            "a host holds no control, space, delimiter or non-ASCII byte");
    auto again = parse_host(host);
    require(again && *again == host, "an accepted host is accepted again as it is");
    if (host.find(':') != std::string::npos) {
        auto bracketed = parse_host("[" + host + "]");
        require(bracketed && *bracketed == host, "an IPv6 host reads the same in brackets");
    }
}

// The request built for `target` (and `header`): its lines are exactly the ones put in it.
void check_request(const endpoint_name& target, const std::optional<header_field>& header) {
    connect_request r{target, "fuzz-agent", {}, std::nullopt};
    if (header)
        r.extra_headers.push_back(*header);
    auto wire = render(r);
    const auto name = authority(target);
    std::string expected_start = "CONNECT " + name + " HTTP/1.1\r\nHost: " + name + "\r\n";
    require(wire.starts_with(expected_start), "the request line and Host name the target");
    std::size_t lines = 0;
    for (std::size_t at = 0, end; (end = wire.find("\r\n", at)) != std::string::npos;
         at = end + 2) {
        require(std::string_view(wire)
                        .substr(at, end - at)
                        .find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
                "no CR, LF or NUL inside a request line");
        ++lines;
    }
    require(lines == (header ? 5u : 4u), "the request has exactly the lines put in it");
}

void check_proxy_url(std::string_view text) {
    auto span = url_password_span(text);
    if (span)
        require(span->first + span->second <= text.size(), "the password span is in the text");
    auto masked = mask_url_password(text);
    require(masked.size() == text.size(), "masking keeps the length");

    auto u = parse_proxy_url(text);
    if (!u) {
        const auto& message = u.err().message;
        require(fuzz::is_printable(message), "URL messages are printable");
        if (span && span->second >= min_checked_password) {
            // The password's text may be in the message for another reason ("port or h" is in
            // "want http://host:port or https://host:port"): then it is there without it too.
            auto secret = text.substr(span->first, span->second);
            if (message.find(secret) != std::string::npos) {
                auto without = parse_proxy_url(masked);
                require(!without && without.err().message.find(secret) != std::string::npos,
                        "URL messages hold no password");
            }
        }
        return;
    }
    require(u->scheme == "http" || u->scheme == "https", "the scheme is http or https");
    check_host(u->server.host);
    require(u->server.port > 0, "the proxy has a port");
    if (u->userinfo) {
        require(!u->userinfo->user.empty(), "a user name is not empty");
        require(u->userinfo->has_password == u->password_in_url,
                "a password is known exactly when the URL has one");
    } else {
        require(!u->password_in_url, "no password without a user");
    }
    // What is masked in messages is exactly the password the parser took.
    require(bool(span) == u->password_in_url, "a password span exactly when there is a password");
    if (span)
        require(percent_decoded(text.substr(span->first, span->second)) == u->userinfo->password,
                "the masked span is the password");

    auto again = parse_proxy_url(rendered(*u));
    require(bool(again), "a parsed URL written out parses again");
    require(again->scheme == u->scheme && again->server.host == u->server.host &&
                again->server.port == u->server.port &&
                again->password_in_url == u->password_in_url &&
                bool(again->userinfo) == bool(u->userinfo),
            "a parsed URL written out parses the same");
    if (u->userinfo)
        require(again->userinfo->user == u->userinfo->user &&
                    again->userinfo->password == u->userinfo->password,
                "the userinfo survives writing out");
}

void check_port(std::string_view text) {
    auto p = parse_port(text);
    // Decimal digits only, 1 to 65535; leading zeros allowed.
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    unsigned long value = 0;
    if (digits) {
        auto first = text.find_first_not_of('0');
        auto significant = first == std::string_view::npos ? "0" : text.substr(first);
        value = significant.size() > 5 ? 100000 : std::stoul(std::string(significant));
    }
    require(bool(p) == (digits && value >= 1 && value <= 65535), "ports are 1-65535 in decimal");
    if (p)
        require(*p == value, "the port's value");
    else
        require(fuzz::is_printable(p.err().message), "port messages are printable");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const char separator = static_cast<char>(in.byte());
    const std::string_view sep(&separator, 1);
    const auto url = in.until(sep);
    const auto host = in.until(sep);
    const auto port = in.until(sep);
    const auto header_text = in.rest();

    check_proxy_url(url);
    check_port(port);

    std::optional<header_field> header;
    if (auto h = parse_header_option(header_text)) {
        require(!h->name.empty() && !fuzz::has_line_breaking_byte(h->name) &&
                    !fuzz::has_line_breaking_byte(h->value),
                "a -H header holds no CR, LF or NUL");
        header = *h;
    } else {
        require(fuzz::is_printable(h.err().message), "header messages are printable");
    }

    auto d = parse_destination(host, port);
    if (!d) {
        require(fuzz::is_printable(d.err().message), "destination messages are printable");
        return 0;
    }
    check_host(d->host);
    require(d->port > 0, "the destination has a port");
    check_request(*d, header);
    return 0;
}
