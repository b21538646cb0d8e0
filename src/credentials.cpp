#include "credentials.hpp"

#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace corkscrew {

void wipe(std::string& secret) {
    ::explicit_bzero(secret.data(), secret.size());
    secret.clear();
}

credentials::~credentials() {
    ::explicit_bzero(password.data(), password.size());
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

result<credentials> read_auth_file(const std::string& path, std::string& warning) {
    std::ifstream in(path);
    if (!in)
        return fail(failure::usage, "cannot read auth file " + path);
    std::string line;
    std::getline(in, line);
    if (line.empty() && !in.good() && !in.eof())
        return fail(failure::usage, "cannot read auth file " + path);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        warning = "auth file " + path + " is readable by other users (chmod 600 it)";
    return parse_credentials(line, "auth file " + path);
}

} // namespace corkscrew
