#include "connect.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

namespace {

tcp_endpoint at(const char* address) {
    return {net::ip::make_address(address), 3128};
}

std::vector<std::string> shown(const std::vector<tcp_endpoint>& list) {
    std::vector<std::string> out;
    for (const auto& e : list)
        out.push_back(e.address().to_string());
    return out;
}

} // namespace

TEST_CASE("attempt order: families alternate from the first address's, each in system order") {
    using list = std::vector<std::string>;
    CHECK(shown(interleave_families({})) == list{});
    CHECK(shown(interleave_families(
              {at("::1"), at("2001:db8::2"), at("127.0.0.1"), at("10.0.0.2")})) ==
          list{"::1", "127.0.0.1", "2001:db8::2", "10.0.0.2"});
    CHECK(shown(interleave_families({at("127.0.0.1"), at("::1"), at("::2"), at("::3")})) ==
          list{"127.0.0.1", "::1", "::2", "::3"});
    CHECK(shown(interleave_families({at("10.0.0.1"), at("10.0.0.2")})) ==
          list{"10.0.0.1", "10.0.0.2"});
}
