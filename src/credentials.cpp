#include "credentials.hpp"

#include "platform.hpp"

#include <cstring>

namespace corkscrew {

void wipe(std::string& secret) {
    secure_wipe(secret.data(), secret.size());
    secret.clear();
}

credentials::~credentials() {
    secure_wipe(password.data(), password.size());
}

result<credentials> parse_credentials(std::string_view line, std::string_view source) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
        return fail(failure::usage, std::string(source) + " must hold user:password");
    if (colon == 0)
        return fail(failure::usage, std::string(source) + " has an empty user name");
    return credentials{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)),
                       std::string(source)};
}

} // namespace corkscrew
