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

TEST_CASE("auth files: first line, permissions warned about") {
    char path[] = "/tmp/corkscrew-auth-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    {
        std::ofstream out(path);
        out << "carol:s3cret with:colon\nsecond line ignored\n";
    }
    std::string warning;
    ::chmod(path, 0600);
    auto c = read_auth_file(path, warning);
    REQUIRE(c);
    CHECK(c->user == "carol");
    CHECK(c->password == "s3cret with:colon");
    CHECK(warning.empty());

    ::chmod(path, 0644);
    c = read_auth_file(path, warning);
    REQUIRE(c);
    CHECK(warning.find("readable by other users") != std::string::npos);
    CHECK(warning.find("s3cret") == std::string::npos);
    std::remove(path);

    auto missing = read_auth_file("/nonexistent/corkscrew-auth", warning);
    REQUIRE_FALSE(missing);
    CHECK(missing.err().kind == failure::usage);
}
