// The CONNECT request as a plain value, and its wire form. No I/O.
#pragma once

#include "error.hpp"
#include "url.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

struct header_field {
    std::string name;
    std::string value;
};

// "Name: value" from -H. The name must be an RFC 9110 token; neither part may hold CR, LF, NUL or
// other control characters (HTAB is allowed in the value), so nothing can be injected. Host,
// Content-Length and Transfer-Encoding are refused: the program sets the first, and the others
// would change how the proxy frames the request.
result<header_field> parse_header_option(std::string_view text);

struct connect_request {
    endpoint_name target;
    std::string user_agent;
    std::vector<header_field> extra_headers;
    // The Proxy-Authorization value ("Basic dXNlcjpwdw=="), when the auth step has one.
    std::optional<std::string> proxy_authorization;
};

// The bytes sent to the proxy: "CONNECT host:port HTTP/1.1" with Host, User-Agent, the
// authorization and the extra headers, CRLF line ends, ending in an empty line.
std::string render(const connect_request& request);

// The same request for the log: the credentials of Proxy-Authorization and Authorization
// headers, the auth step's or from -H, replaced by "<redacted>".
std::string render_redacted(const connect_request& request);

} // namespace corkscrew
