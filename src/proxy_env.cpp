#include "proxy_env.hpp"

#include "text.hpp"
#include "url.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

namespace corkscrew {

namespace {

namespace net = boost::asio;

// The address lengths in bits, the longest prefix a CIDR block may have in each family.
constexpr unsigned ipv4_bits = 32;
constexpr unsigned ipv6_bits = 128;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

template <std::size_t N>
std::optional<env_setting> first_set(const env_lookup& env,
                                     const std::array<const char*, N>& names) {
    for (const char* name : names) {
        auto value = env(name);
        if (!value)
            continue;
        if (auto v = trim(*value); !v.empty())
            return env_setting{name, std::string(v)};
    }
    return std::nullopt;
}

// An IP literal, or nothing for a name. The zone of an IPv6 address is cut off first: it names a
// link, not a host, and reading it would ask the system for its interfaces.
std::optional<net::ip::address> parse_ip(std::string_view text) {
    if (text.find(':') != std::string_view::npos)
        text = text.substr(0, text.find('%'));
    boost::system::error_code ec;
    auto address = net::ip::make_address(std::string(text), ec);
    if (ec)
        return std::nullopt;
    return address;
}

unsigned address_bits(const net::ip::address& a) {
    return a.is_v4() ? ipv4_bits : ipv6_bits;
}

template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                 unsigned bits) {
    for (std::size_t i = 0; bits > 0; ++i) {
        unsigned take = std::min(bits, 8u);
        unsigned mask = (0xff00u >> take) & 0xffu;
        if ((a[i] ^ b[i]) & mask)
            return false;
        bits -= take;
    }
    return true;
}

// Whether `host` is in the block of `bits` leading bits of `network`. The network's other bits
// are ignored, as curl ignores them ("10.1.2.3/8" is 10.0.0.0/8).
bool in_block(const net::ip::address& host, const net::ip::address& network, unsigned bits) {
    if (host.is_v4() != network.is_v4())
        return false;
    if (host.is_v4())
        return same_prefix(host.to_v4().to_bytes(), network.to_v4().to_bytes(), bits);
    return same_prefix(host.to_v6().to_bytes(), network.to_v6().to_bytes(), bits);
}

// An address entry ("10.0.0.1", "fd00::/8") against an IP host.
bool address_entry_matches(std::string_view pattern, const net::ip::address& host) {
    auto slash = pattern.find('/');
    auto network = parse_ip(pattern.substr(0, slash));
    if (!network)
        return false;
    unsigned bits = address_bits(*network);
    if (slash != std::string_view::npos) {
        auto text = pattern.substr(slash + 1);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
            bits > address_bits(*network))
            return false;
    }
    return in_block(host, *network, bits);
}

// `s` without one trailing dot: "example.com." is the same name, fully qualified.
std::string_view without_root_dot(std::string_view s) {
    if (!s.empty() && s.back() == '.')
        s.remove_suffix(1);
    return s;
}

// A name entry against a host name: the name itself or a subdomain of it, at a label boundary.
bool name_entry_matches(std::string_view pattern, std::string_view host) {
    if (pattern.starts_with("*."))
        pattern.remove_prefix(2);
    else if (pattern.starts_with('.'))
        pattern.remove_prefix(1);
    pattern = without_root_dot(pattern);
    host = without_root_dot(host);
    if (pattern.empty() || pattern.size() > host.size())
        return false;
    if (pattern.size() == host.size())
        return iequals(pattern, host);
    auto boundary = host.size() - pattern.size() - 1;
    return host[boundary] == '.' && iequals(host.substr(boundary + 1), pattern);
}

// One entry of the list, split into what it names and the port it is limited to.
struct entry {
    std::string_view pattern;
    std::optional<std::uint16_t> port;
    bool address_only = false; // written in brackets, so an IPv6 address or block
};

// The parts of `token`, or nothing if it is malformed (an unclosed '[', a bad port).
std::optional<entry> split_entry(std::string_view token) {
    entry e;
    e.pattern = token;
    std::optional<std::string_view> port;
    if (token.starts_with('[')) {
        auto close = token.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        e.pattern = token.substr(1, close - 1);
        e.address_only = true;
        auto after = token.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':'))
                return std::nullopt;
            port = after.substr(1);
        }
    } else if (std::count(token.begin(), token.end(), ':') == 1) {
        // With more than one colon it is an unbracketed IPv6 address, whose last group is no port.
        auto colon = token.find(':');
        e.pattern = token.substr(0, colon);
        port = token.substr(colon + 1);
    }
    if (port) {
        auto p = parse_port(*port);
        if (!p)
            return std::nullopt;
        e.port = *p;
    }
    return e;
}

bool entry_matches(std::string_view token, std::string_view host,
                   const std::optional<net::ip::address>& host_ip, std::uint16_t port) {
    auto e = split_entry(token);
    if (!e || (e->port && *e->port != port))
        return false;
    if (e->pattern == "*" && !e->address_only)
        return true;
    if (e->address_only || e->pattern.find('/') != std::string_view::npos || parse_ip(e->pattern))
        return host_ip && address_entry_matches(e->pattern, *host_ip);
    return !host_ip && name_entry_matches(e->pattern, host);
}

bool is_separator(char c) {
    return c == ',' || is_space(c);
}

} // namespace

std::optional<env_setting> proxy_from_env(const env_lookup& env) {
    return first_set(env, proxy_variables);
}

std::optional<env_setting> no_proxy_from_env(const env_lookup& env) {
    return first_set(env, no_proxy_variables);
}

std::optional<std::string> no_proxy_match(std::string_view list, std::string_view host,
                                          std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        return std::nullopt;
    const auto host_ip = parse_ip(host);
    while (!list.empty()) {
        auto start = std::find_if_not(list.begin(), list.end(), is_separator);
        auto end = std::find_if(start, list.end(), is_separator);
        std::string_view token(start, end);
        if (!token.empty() && entry_matches(token, host, host_ip, port))
            return std::string(token);
        list = std::string_view(end, list.end());
    }
    return std::nullopt;
}

} // namespace corkscrew
