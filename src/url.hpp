// Host names, ports, destinations and proxy URLs: parsing and validation, no I/O.
#pragma once

#include "credentials.hpp"
#include "error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corkscrew {

// A host (name or IP literal, IPv6 without brackets) and a port.
struct endpoint_name {
    std::string host;
    std::uint16_t port = 0;
};

// "host:port", with an IPv6 literal in brackets ("[::1]:22"): the form of a CONNECT target and of
// every host:port in messages.
std::string authority(const endpoint_name& e);

// A port in 1-65535, in decimal.
result<std::uint16_t> parse_port(std::string_view text);

// A host name or IP literal as given on the command line (an IPv6 literal with or without
// brackets). Rejects control characters, spaces and other bytes that could split a request line.
result<std::string> parse_host(std::string_view text);

// DESTHOST and DESTPORT as given (ssh's %h and %p).
result<endpoint_name> parse_destination(std::string_view host, std::string_view port);

// The port an http:// proxy URL without one is taken to mean (the common corporate proxy port).
inline constexpr std::uint16_t default_http_proxy_port = 8080;

// The port of an https:// proxy URL without one (curl's choice too).
inline constexpr std::uint16_t default_https_proxy_port = 443;

struct proxy_url {
    std::string scheme; // "http" or "https", lowercase
    endpoint_name server;
    std::optional<credentials> userinfo;
    bool password_in_url = false;
};

// http[s]://[user[:password]@]host[:port][/] with percent-decoded userinfo; "host:port" alone is
// taken as http. Messages about a bad URL show it with the password masked.
result<proxy_url> parse_proxy_url(std::string_view text);

// Where the password of a proxy URL's userinfo is in `text` (offset and length), if it has one.
std::optional<std::pair<std::size_t, std::size_t>> url_password_span(std::string_view text);

// `text` with the password of its userinfo replaced by '*'.
std::string mask_url_password(std::string_view text);

} // namespace corkscrew
