// Small text helpers shared by the parsers and the messages.
#pragma once

#include <string>
#include <string_view>

namespace corkscrew {

// ASCII case-insensitive equality, as HTTP field names and auth schemes compare.
bool iequals(std::string_view a, std::string_view b);

// `s` with control characters replaced by '?', so text from the network or the command line
// cannot move the cursor or split a line of ours.
std::string printable(std::string_view s);

} // namespace corkscrew
