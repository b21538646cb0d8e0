#include "credentials.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace corkscrew;

TEST_CASE("user:password splits at the first colon") {
    auto c = parse_credentials("alice:pa:ss word\r\n", "test");
    REQUIRE(c);
    CHECK(c->user == "alice");
    CHECK(c->password == "pa:ss word");
    CHECK(c->source == "test");
    CHECK(parse_credentials("bob:", "t")->password.empty());
    CHECK_FALSE(parse_credentials("nocolon", "t"));
    CHECK_FALSE(parse_credentials(":pw", "t"));
    CHECK(parse_credentials("nocolon", "CORKSCREW_AUTH").err().message.find("CORKSCREW_AUTH") !=
          std::string::npos);
}

TEST_CASE("wipe clears a secret") {
    std::string secret = "hunter2";
    wipe(secret);
    CHECK(secret.empty());
}
