#include "challenge.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

namespace {
parsed_challenges parse(std::vector<std::string_view> values) {
    return parse_challenges(values);
}
} // namespace

TEST_CASE("one challenge with parameters, quoted strings and escapes") {
    auto p = parse(
        {R"(Digest realm="proxy \"main\", floor 2", nonce="a,b=c", qop="auth,auth-int", algorithm=SHA-256, stale=FALSE)"});
    REQUIRE(p.problems.empty());
    REQUIRE(p.challenges.size() == 1);
    const auto& c = p.challenges[0];
    CHECK(c.is("digest"));
    CHECK(c.token68.empty());
    CHECK(c.param("REALM") == "proxy \"main\", floor 2");
    CHECK(c.param("nonce") == "a,b=c");
    CHECK(c.param("qop") == "auth,auth-int");
    CHECK(c.param("algorithm") == "SHA-256");
    CHECK(c.param("stale") == "FALSE");
    CHECK_FALSE(c.param("opaque"));
}

TEST_CASE("several challenges in one field and across fields, token68 included") {
    auto p = parse({"Negotiate, NTLM, Basic realm=\"a b\", charset=\"UTF-8\"",
                    "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==, Newauth realm=\"apps\", type=1",
                    ", , Bearer"});
    REQUIRE(p.problems.empty());
    std::vector<std::string> schemes;
    for (const auto& c : p.challenges)
        schemes.push_back(c.scheme);
    CHECK(schemes ==
          std::vector<std::string>{"Negotiate", "NTLM", "Basic", "Negotiate", "Newauth", "Bearer"});
    CHECK(p.challenges[2].param("charset") == "UTF-8");
    CHECK(p.challenges[3].token68 == "YIIBhgYGKwYBBQUCoIIBejCCAXag==");
    CHECK(p.challenges[4].param("type") == "1");
}

TEST_CASE("a token68 ending in '=' is no parameter") {
    auto p = parse({"Negotiate abc=, Digest nonce=="});
    REQUIRE(p.problems.empty());
    REQUIRE(p.challenges.size() == 2);
    CHECK(p.challenges[0].token68 == "abc=");
    CHECK(p.challenges[1].token68 == "nonce==");
    CHECK(p.challenges[1].params.empty());
}

TEST_CASE("parameters with spaces around '=' (RFC 9110 BWS)") {
    auto p = parse({"Basic realm = \"x\" , charset= UTF-8"});
    REQUIRE(p.challenges.size() == 1);
    CHECK(p.challenges[0].param("realm") == "x");
    CHECK(p.challenges[0].param("charset") == "UTF-8");
}

TEST_CASE("malformed challenges are dropped with a problem, the rest kept, no crash") {
    struct shape {
        std::string_view field;
        std::size_t kept;
    };
    for (auto s : std::vector<shape>{
             {"Digest realm=\"unterminated", 0},
             {"Basic realm=\"ok\", Digest nonce=\"unterminated", 1},
             {"Basic realm=\"ok\" Digest", 0},
             {"=oops", 0},
             {"Negotiate abc def", 0},
             {"Negotiate abc==, realm=x", 0},
             {"Basic realm=\"a\\", 0},
             {"\"quoted\"", 0},
         }) {
        CAPTURE(s.field);
        auto p = parse({s.field, "Basic realm=\"second field\""});
        CHECK(p.problems.size() == 1);
        CHECK(p.challenges.size() == s.kept + 1);
        CHECK(p.challenges.back().param("realm") == "second field");
    }
}

TEST_CASE("every prefix of a real challenge parses without crashing") {
    const std::string full =
        R"(Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Negotiate abc==)";
    for (std::size_t n = 0; n <= full.size(); ++n) {
        auto p = parse({std::string_view(full).substr(0, n)});
        CHECK(p.challenges.size() + p.problems.size() <= 3);
    }
}
