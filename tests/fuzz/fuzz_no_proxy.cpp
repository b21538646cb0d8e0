// Fuzzes no_proxy matching (proxy_env.hpp): the entry returned is one of the list's, separators
// and case change nothing, "*" matches every host, and a host's own name (with or without its
// port) is an entry that matches it.
//
// Input: two bytes, the port (big-endian; 0 is taken as 22); then the destination host, a
// newline, and the no_proxy list.
#include "proxy_env.hpp"

#include "fuzz_support.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

using namespace corkscrew;
using fuzz::require;

namespace {

bool is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string swapped_case(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        else if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// A DNS name as people write it: labels of letters, digits and '-', separated by single dots.
bool is_plain_name(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    });
}

// An IP literal without a zone, the only kind a matching entry can be written for exactly.
bool is_ip_literal(std::string_view s) {
    // Only hex digits, ':' and '.': Asio reads a std::string up to a NUL, so "::1\0]" would
    // count as an address, and the ']' split the entry written for it.
    if (s.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
        return false;
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(s), ec);
    return !ec;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto high = in.byte();
    std::uint16_t port = static_cast<std::uint16_t>(high << 8 | in.byte());
    if (port == 0)
        port = 22;
    const auto host = in.until("\n");
    const auto list = in.rest();

    const auto match = no_proxy_match(list, host, port);
    if (match) {
        require(!match->empty() && std::none_of(match->begin(), match->end(), is_separator),
                "the match is one entry");
        require(list.find(*match) != std::string_view::npos, "the match is written in the list");
        require(no_proxy_match(*match, host, port).has_value(), "the matching entry matches alone");
    }
    // Separators around the list and the case of letters do not matter.
    require(no_proxy_match(", \t" + std::string(list) + " ,", host, port) == match,
            "separators around the list change nothing");
    require(no_proxy_match(swapped_case(list), host, port).has_value() == match.has_value(),
            "entries match whatever their case");
    require(no_proxy_match(list, swapped_case(host), port).has_value() == match.has_value(),
            "hosts match whatever their case");

    // "*" matches every host, the empty one ("[]" is one too) excepted.
    std::string_view bare = host;
    if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']')
        bare = bare.substr(1, bare.size() - 2);
    require(no_proxy_match(std::string(list) + ",*", host, port).has_value() == !bare.empty(),
            "'*' matches every host");

    // A host's own name, or its address, matches it, on any port or on its own port only.
    const bool ip = is_ip_literal(bare);
    if (ip || is_plain_name(bare)) {
        const std::string self(bare);
        const std::string with_port =
            (bare.find(':') != std::string_view::npos ? "[" + self + "]" : self) + ":";
        require(no_proxy_match(self, host, port).has_value(), "a host's own name matches it");
        require(no_proxy_match(with_port + std::to_string(port), host, port).has_value(),
                "a host's own name with its port matches it");
        const auto other_port = static_cast<std::uint16_t>(port == 65535 ? 1 : port + 1);
        require(!no_proxy_match(with_port + std::to_string(other_port), host, port).has_value(),
                "a host's own name with another port does not match it");
        require(no_proxy_match("." + self, host, port).has_value() == !ip,
                "a name is its own subdomain entry; an address is not");
    }
    return 0;
}
