#include "auth.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

TEST_CASE("base64: RFC 4648 section 10 vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode(std::string_view("\xff\xfe\x00", 3)) == "//4A");
}

namespace {
answer_head challenge(std::vector<header_field> fields) {
    answer_head h;
    h.status = 407;
    h.fields = std::move(fields);
    return h;
}
} // namespace

TEST_CASE("Basic: RFC 7617 example, sent when the proxy asks for Basic") {
    auto basic = make_basic_auth({"Aladdin", "open sesame", "test"}, false);
    CHECK(basic->scheme() == "Basic");
    CHECK_FALSE(basic->preemptive());
    auto v = basic->respond(challenge({{"Proxy-Authenticate", "Basic realm=\"WallyWorld\""}}));
    REQUIRE(v);
    CHECK(*v == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("Basic: preemptive with corkscrew's auth file") {
    auto basic = make_basic_auth({"user", "pa:ss", "auth file"}, true);
    CHECK(basic->preemptive() == "Basic dXNlcjpwYTpzcw==");
}

TEST_CASE("Basic answers only challenges that offer it (or none at all)") {
    auto basic = make_basic_auth({"u", "p", "t"}, false);
    CHECK(basic->respond(challenge(
        {{"Proxy-Authenticate", "Negotiate"}, {"proxy-authenticate", "basic realm=\"x\""}})));
    CHECK(basic->respond(challenge({})));
    CHECK_FALSE(
        basic->respond(challenge({{"Proxy-Authenticate", "Digest realm=\"x\", nonce=\"y\""}})));
}

TEST_CASE("offered schemes, in order") {
    auto schemes = offered_schemes(challenge({{"Proxy-Authenticate", "Negotiate"},
                                              {"Proxy-Authenticate", "Basic realm=\"a b\""},
                                              {"Via", "1.1 squid"}}));
    CHECK(schemes == std::vector<std::string>{"Negotiate", "Basic"});
}

TEST_CASE("several challenges in one field (RFC 9110 section 11.6.1)") {
    auto schemes = offered_schemes(challenge(
        {{"Proxy-Authenticate", "Negotiate, NTLM, Basic realm=\"a, b\", charset=\"UTF-8\""},
         {"Proxy-Authenticate",
          "Digest realm=\"x\", nonce=\"n,=\", qop=\"auth\", Newauth abc=="}}));
    CHECK(schemes == std::vector<std::string>{"Negotiate", "NTLM", "Basic", "Digest", "Newauth"});
    auto basic = make_basic_auth({"u", "p", "t"}, false);
    CHECK(
        basic->respond(challenge({{"Proxy-Authenticate", "Negotiate, NTLM, Basic realm=\"x\""}})));
}
