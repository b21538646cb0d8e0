#include "request.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

TEST_CASE("CONNECT request wire form") {
    connect_request r{{"git.example", 22}, "corkscrew++/test", {}, std::nullopt};
    CHECK(render(r) == "CONNECT git.example:22 HTTP/1.1\r\n"
                       "Host: git.example:22\r\n"
                       "User-Agent: corkscrew++/test\r\n"
                       "\r\n");
}

TEST_CASE("IPv6 targets are bracketed in the request line and Host") {
    connect_request r{{"2001:db8::1", 443}, "ua", {}, std::nullopt};
    auto wire = render(r);
    CHECK(wire.rfind("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n", 0) == 0);
}

TEST_CASE("authorization and extra headers; the log form redacts the credentials") {
    connect_request r{
        {"h", 1}, "ua", {{"X-Trace", "abc"}, {"Via", "1.1 me"}}, "Basic YWxpY2U6c2VjcmV0"};
    auto wire = render(r);
    CHECK(wire == "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\n"
                  "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
                  "X-Trace: abc\r\nVia: 1.1 me\r\n\r\n");
    auto shown = render_redacted(r);
    CHECK(shown.find("YWxpY2U6c2VjcmV0") == std::string::npos);
    CHECK(shown.find("Proxy-Authorization: Basic <redacted>\r\n") != std::string::npos);
}

TEST_CASE("-H values: token names, no control characters") {
    auto h = parse_header_option("X-Forwarded-For:  10.1.2.3 ");
    REQUIRE(h);
    CHECK(h->name == "X-Forwarded-For");
    CHECK(h->value == "10.1.2.3");
    CHECK(parse_header_option("X-Empty:")->value.empty());
    CHECK(parse_header_option("X-Tab: a\tb")->value == "a\tb");
    for (auto bad :
         {"NoColon", ": value", "Bad Name: v", "X: a\r\nInjected: 1", "X: a\nb", "X(y): v"}) {
        auto r = parse_header_option(bad);
        REQUIRE_FALSE(r);
        CHECK(r.err().kind == failure::usage);
        CHECK(r.err().message.find('\n') == std::string::npos);
    }
    CHECK_FALSE(parse_header_option(std::string_view("X: a\0b", 6)));
}

TEST_CASE("credentials given with -H are redacted in the log too") {
    connect_request r{{"h", 1},
                      "ua",
                      {{"Proxy-Authorization", "Bearer t0ken"}, {"authorization", "rawsecret"}},
                      std::nullopt};
    auto shown = render_redacted(r);
    CHECK(shown.find("t0ken") == std::string::npos);
    CHECK(shown.find("rawsecret") == std::string::npos);
    CHECK(shown.find("Proxy-Authorization: Bearer <redacted>\r\n") != std::string::npos);
    CHECK(render(r).find("Bearer t0ken") != std::string::npos);
}
