// Proxy credentials and the corkscrew-style auth file ("user:password" on one line).
#pragma once

#include "error.hpp"

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

// Overwrites a string that held a secret (with a store the compiler may not drop).
void wipe(std::string& secret);

// Splits "user:password" at the first ':' (the password may hold ':' and spaces). A trailing CR or
// LF is dropped. An empty user name or a missing ':' is a usage error naming `source`.
result<credentials> parse_credentials(std::string_view line, std::string_view source);

// An auth file's first line, parsed as above. `warning` is set when the file can be read by other
// users (as ssh does for private keys, the credential should be the owner's alone).
result<credentials> read_auth_file(const std::string& path, std::string& warning);

} // namespace corkscrew
