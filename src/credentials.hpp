// Proxy credentials as a value; where they are read from is credential_files.hpp.
#pragma once

#include "error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace corkscrew {

struct credentials {
    std::string user;
    std::string password;
    // Where they came from, for -v ("auth file ~/.ssh/proxyauth", "CORKSCREW_AUTH", "proxy URL").
    std::string source;
    // False for a user name without a password (a URL's "user@"): the password is still to come.
    bool has_password = true;

    // The password does not outlive its holder in memory.
    ~credentials();
};

// Asks the user for what `partial` lacks (the password, maybe the user name) once the proxy
// `proxy_name` wants credentials: the last source, after the files and the environment. Fills
// `why_not` when it has nothing to give.
using password_source = std::function<std::optional<credentials>(
    const std::string& proxy_name, const std::optional<credentials>& partial,
    std::string& why_not)>;

// Overwrites a string that held a secret (with a store the compiler may not drop).
void wipe(std::string& secret);

// Splits "user:password" at the first ':' (the password may hold ':' and spaces). A trailing CR or
// LF is dropped. An empty user name or a missing ':' is a usage error naming `source`.
result<credentials> parse_credentials(std::string_view line, std::string_view source);

} // namespace corkscrew
