#include "url.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace corkscrew;

TEST_CASE("authority brackets IPv6 literals only") {
    CHECK(authority({"git.example", 22}) == "git.example:22");
    CHECK(authority({"10.0.0.1", 3128}) == "10.0.0.1:3128");
    CHECK(authority({"::1", 22}) == "[::1]:22");
    CHECK(authority({"2001:db8::7", 443}) == "[2001:db8::7]:443");
}

TEST_CASE("ports are 1-65535 in decimal") {
    CHECK(*parse_port("1") == 1);
    CHECK(*parse_port("22") == 22);
    CHECK(*parse_port("65535") == 65535);
    for (auto bad : {"0", "65536", "70000", "", "-1", "22a", " 22", "0x16", "99999999999"}) {
        auto p = parse_port(bad);
        REQUIRE_FALSE(p);
        CHECK(p.err().kind == failure::usage);
    }
}

TEST_CASE("destination hosts reject bytes that could split a request") {
    CHECK(parse_destination("git.example", "22")->host == "git.example");
    CHECK(parse_destination("::1", "22")->host == "::1");
    CHECK(parse_destination("[::1]", "22")->host == "::1");
    for (std::string_view bad : std::vector<std::string_view>{
             "evil\r\nX-Injected: 1", "a b", "a\tb", "host\n", std::string_view("a\0b", 3), "a/b",
             "user@host", "", "[]", "::zz", "1:2", "[host]", "a\x7f"}) {
        auto d = parse_destination(bad, "22");
        REQUIRE_FALSE(d);
        CHECK(d.err().kind == failure::usage);
        CHECK(d.err().message.find('\r') == std::string::npos);
        CHECK(d.err().message.find('\n') == std::string::npos);
    }
    CHECK_FALSE(parse_destination("host", "0"));
}

TEST_CASE("proxy URLs") {
    SUBCASE("host and port") {
        auto u = parse_proxy_url("http://proxy.example:3128");
        REQUIRE(u);
        CHECK(u->server.host == "proxy.example");
        CHECK(u->server.port == 3128);
        CHECK_FALSE(u->userinfo);
    }
    SUBCASE("default port and trailing slash") {
        auto u = parse_proxy_url("http://proxy.example/");
        REQUIRE(u);
        CHECK(u->server.port == default_http_proxy_port);
    }
    SUBCASE("scheme is optional and case-insensitive") {
        CHECK(parse_proxy_url("proxy:81")->server.port == 81);
        CHECK(parse_proxy_url("HTTP://proxy:81")->server.host == "proxy");
    }
    SUBCASE("IPv6 literal") {
        auto u = parse_proxy_url("http://[::1]:3128");
        REQUIRE(u);
        CHECK(u->server.host == "::1");
        CHECK(u->server.port == 3128);
        CHECK(parse_proxy_url("http://[2001:db8::1]")->server.port == default_http_proxy_port);
    }
    SUBCASE("percent-decoded userinfo, password may hold ':' and '@'") {
        auto u = parse_proxy_url("http://al%40ice:p%3Aw%20d@proxy:3128");
        REQUIRE(u);
        REQUIRE(u->userinfo);
        CHECK(u->userinfo->user == "al@ice");
        CHECK(u->userinfo->password == "p:w d");
        CHECK(u->password_in_url);
        auto raw = parse_proxy_url("http://bob:a@b@proxy:3128");
        REQUIRE(raw);
        CHECK(raw->userinfo->password == "a@b");
        CHECK(raw->server.host == "proxy");
    }
    SUBCASE("user without password") {
        auto u = parse_proxy_url("http://bob@proxy:3128");
        REQUIRE(u);
        CHECK(u->userinfo->user == "bob");
        CHECK(u->userinfo->password.empty());
        CHECK_FALSE(u->password_in_url);
    }
    SUBCASE("errors") {
        for (auto bad :
             {"ftp://proxy:21", "http://proxy:0", "http://proxy:port", "http://proxy:3128/path",
              "http://[::1", "http://[::1]x", "http://%zz@proxy", "http://:pw@proxy", "http://",
              "http://pro xy:1", "http://::1:3128",
              "http://proxy:", "http://[::1]:", "http://pr\xc3\xb6xy"}) {
            auto u = parse_proxy_url(bad);
            CHECK_MESSAGE(!u, bad);
            if (!u)
                CHECK(u.err().kind == failure::usage);
        }
    }
}

TEST_CASE("a space or control character in a proxy URL's host and port is said as such") {
    for (const auto* bad : {"http://h:80\r\nX: 1", "http://h :80", "http://h:80\t",
                            "http://h\x7f:80", "http://u:p@h:80\r\n"}) {
        auto u = parse_proxy_url(bad);
        REQUIRE_MESSAGE(!u, bad);
        CHECK(u.err().kind == failure::usage);
        CHECK_MESSAGE(u.err().message.find("a space or a control character in the proxy URL") == 0,
                      u.err().message);
        CHECK(u.err().message.find('\r') == std::string::npos);
        CHECK(u.err().message.find('\n') == std::string::npos);
    }
}

TEST_CASE("messages about a bad proxy URL do not show its password") {
    for (auto bad : {"http://alice:s3cr/et@proxy:3128/x", "http://alice:s3cr/et@[::1",
                     "http://alice:s3cr/et@[::1]x", "alice:s3cr/et@::1:22"}) {
        auto u = parse_proxy_url(bad);
        REQUIRE_FALSE(u);
        CHECK_MESSAGE(u.err().message.find("s3cr") == std::string::npos, u.err().message);
    }
    CHECK(mask_url_password("http://a:b@c") == "http://a:*@c");
    CHECK(mask_url_password("a:b/c@d:1") == "a:***@d:1");
    CHECK(mask_url_password("http://a@c") == "http://a@c");
    CHECK(mask_url_password("http://c:1") == "http://c:1");
}

TEST_CASE("a '/' or '@' in the password needs no encoding") {
    auto u = parse_proxy_url("http://alice:s3cr/et@proxy:3128");
    REQUIRE(u);
    CHECK(u->userinfo->password == "s3cr/et");
    CHECK(u->server.host == "proxy");
}
