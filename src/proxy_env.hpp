// The proxy and no_proxy environment variables: which one applies, and whether a destination
// bypasses the proxy. Pure functions over values handed in: no getenv, no DNS, no sockets.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace corkscrew {

// Looks up an environment variable. The same type as options.hpp's, declared here too so this
// header stands alone; redeclaring an alias to the same type is allowed.
using env_lookup = std::function<std::optional<std::string>(const char* name)>;

// The variables that may name the proxy, the first set one winning. Ours first, then curl's order
// for an https URL (a tunnel, as ours is), then http_proxy, as many hosts set only that one.
// HTTP_PROXY is left out on purpose, as curl does: a CGI program gets the client's "Proxy:"
// request header as HTTP_PROXY ("httpoxy", CVE-2016-5385), so that name cannot be trusted.
inline constexpr std::array<const char*, 6> proxy_variables = {
    "CORKSCREW_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy"};

// The variables that may hold the no_proxy list, lowercase first as curl reads them.
inline constexpr std::array<const char*, 2> no_proxy_variables = {"no_proxy", "NO_PROXY"};

// A variable that was chosen, and its value with surrounding whitespace trimmed.
struct env_setting {
    std::string variable;
    std::string value;
};

// The proxy URL from the environment: the first of proxy_variables set to something other than
// whitespace, unparsed (parse_proxy_url() reads it). A set but empty variable counts as unset, as
// "https_proxy= ssh host" is how a proxy is cleared for one command.
std::optional<env_setting> proxy_from_env(const env_lookup& env);

// The no_proxy list from the environment, chosen as proxy_from_env() chooses, unparsed.
std::optional<env_setting> no_proxy_from_env(const env_lookup& env);

// The entry of a no_proxy `list` that makes `host`:`port` bypass the proxy, as written in the
// list, or nothing. The rules are curl's (lib/noproxy.c), with these additions and choices:
//  - entries are separated by commas and/or whitespace (curl stops at a space);
//  - "*" matches every host, as the whole list (as curl) or as one entry of it;
//  - a name matches itself and its subdomains at a label boundary, case-insensitively: "a.example",
//    ".a.example" and "*.a.example" are the same entry (curl knows no "*.", but that is what
//    people mean by it); a trailing dot on the host or the entry is ignored; any other '*' is a
//    literal character and matches no real host;
//  - an IPv4 or IPv6 address, bracketed or not, or a CIDR block ("10.0.0.0/8", "fd00::/8")
//    matches only a host written as an IP literal, compared by value; names are never resolved,
//    so a name never matches an address entry, nor an address a name entry;
//  - the families stay apart: "::ffff:10.1.2.3" is an IPv6 host that "10.0.0.0/8" does not match
//    (curl does not map either), and an IPv6 zone ("%eth0") is ignored;
//  - "/0" is the whole family (curl takes /0 as the full length); a prefix that is not a number
//    within the family's length makes the entry match nothing;
//  - "name:port", "10.0.0.1:22", "[::1]:22", "10.0.0.0/8:22" and "*:22" match only that port;
//    an unbracketed IPv6 address is never split at its last colon; a bad port makes the entry
//    match nothing.
std::optional<std::string> no_proxy_match(std::string_view list, std::string_view host,
                                          std::uint16_t port);

} // namespace corkscrew
