#include "url.hpp"

#include "text.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

namespace corkscrew {

namespace {

bool is_forbidden_host_char(unsigned char c) {
    // Controls, space, the characters that delimit an authority or a request line, and non-ASCII
    // bytes (an internationalized name goes on the wire in its ASCII "xn--" form).
    return c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '[' ||
           c == ']' || c == '\\' || c == '"';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size())
            return std::nullopt;
        int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

} // namespace

std::string authority(const endpoint_name& e) {
    auto port = std::to_string(e.port);
    if (e.host.find(':') != std::string::npos)
        return "[" + e.host + "]:" + port;
    return e.host + ":" + port;
}

result<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 1 ||
        value > 65535)
        return fail(failure::usage, "invalid port '" + printable(text) + "' (want 1-65535)");
    return static_cast<std::uint16_t>(value);
}

result<std::string> parse_host(std::string_view text) {
    std::string_view host = text;
    bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed)
        host = host.substr(1, host.size() - 2);
    for (unsigned char c : host) {
        if (is_forbidden_host_char(c))
            return fail(failure::usage, "invalid host name '" + printable(text) + "'");
    }
    if (host.empty())
        return fail(failure::usage, "empty host name");
    if (host.find(':') != std::string_view::npos || bracketed) {
        // Only an IPv6 literal may hold ':'; check it is one, so nothing odd reaches the request.
        boost::system::error_code ec;
        boost::asio::ip::make_address_v6(std::string(host), ec);
        if (ec)
            return fail(failure::usage, "invalid IPv6 address '" + std::string(host) + "'");
    }
    return std::string(host);
}

result<endpoint_name> parse_destination(std::string_view host, std::string_view port) {
    auto h = parse_host(host);
    if (!h)
        return h.err();
    auto p = parse_port(port);
    if (!p)
        return p.err();
    return endpoint_name{*h, *p};
}

result<proxy_url> parse_proxy_url(std::string_view text) {
    proxy_url url;
    const std::string shown = printable(mask_url_password(text));
    std::string_view rest = text;
    if (auto sep = rest.find("://"); sep != std::string_view::npos) {
        url.scheme = std::string(rest.substr(0, sep));
        for (auto& c : url.scheme)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        rest.remove_prefix(sep + 3);
    } else {
        url.scheme = "http";
    }
    if (url.scheme != "http" && url.scheme != "https")
        return fail(failure::usage, "unsupported proxy scheme '" + printable(url.scheme) +
                                        "' (want http://host:port or https://host:port)");
    // The userinfo ends at the last '@', so a password may hold '@' and '/' unencoded.
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto info = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        auto colon = info.find(':');
        auto user = percent_decode(info.substr(0, colon));
        std::optional<std::string> password = std::string();
        if (colon != std::string_view::npos) {
            password = percent_decode(info.substr(colon + 1));
            url.password_in_url = true;
        }
        if (!user || !password)
            return fail(failure::usage, "bad percent-encoding in the proxy URL's user name or "
                                        "password");
        if (user->empty())
            return fail(failure::usage, "the proxy URL has an empty user name");
        url.userinfo = credentials{*user, *password, "proxy URL", url.password_in_url};
    }
    // Said before any other complaint about the host and port, which such a byte would garble
    // (a CR LF and a header's "Name: value" look like an IPv6 address without brackets).
    if (std::any_of(rest.begin(), rest.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u <= 0x20 || u == 0x7f;
        }))
        return fail(failure::usage,
                    "a space or a control character in the proxy URL '" + shown + "'");
    // A trailing path ("http://proxy:3128/") is allowed and ignored, as curl and browsers do.
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        if (rest.find_first_not_of('/', slash) != std::string_view::npos)
            return fail(failure::usage, "a proxy URL takes no path: '" + shown + "'");
        rest = rest.substr(0, slash);
    }
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return fail(failure::usage, "unclosed '[' in proxy URL '" + shown + "'");
        host = rest.substr(0, close + 1);
        auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':' || after.size() == 1)
                return fail(failure::usage, "bad proxy URL '" + shown + "'");
            port = after.substr(1);
        }
    } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
        if (rest.find(':', colon + 1) != std::string_view::npos)
            return fail(failure::usage, "write an IPv6 proxy address in brackets "
                                        "(http://[::1]:3128), not '" +
                                            shown + "'");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (port.empty())
            return fail(failure::usage, "empty port in proxy URL '" + shown + "'");
    }
    auto h = parse_host(host);
    if (!h)
        return h.err();
    url.server.host = *h;
    url.server.port = url.scheme == "https" ? default_https_proxy_port : default_http_proxy_port;
    if (!port.empty()) {
        auto p = parse_port(port);
        if (!p)
            return p.err();
        url.server.port = *p;
    }
    return url;
}

std::optional<std::pair<std::size_t, std::size_t>> url_password_span(std::string_view text) {
    auto scheme = text.find("://");
    auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
    auto at = text.rfind('@');
    if (at == std::string_view::npos || at < start)
        return std::nullopt;
    auto colon = text.find(':', start);
    if (colon >= at)
        return std::nullopt;
    return std::pair{colon + 1, at - colon - 1};
}

std::string mask_url_password(std::string_view text) {
    std::string out(text);
    if (auto span = url_password_span(text))
        out.replace(span->first, span->second, span->second, '*');
    return out;
}

} // namespace corkscrew
