// What --version prints: the version, how this copy was built (which optional parts it has, with
// which compiler and libraries), and which of the libraries it loads on demand this machine has.
#pragma once

#include <string>

namespace corkscrew {

std::string version_text();

} // namespace corkscrew
