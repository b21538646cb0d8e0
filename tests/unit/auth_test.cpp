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

TEST_CASE("base64 decoding") {
    CHECK(base64_decode("Zm9vYmFy") == "foobar");
    CHECK(base64_decode("Zm9vYg==") == "foob");
    CHECK(base64_decode("Zm9vYg") == "foob");
    CHECK(base64_decode("//4A") == std::string("\xff\xfe\x00", 3));
    CHECK_FALSE(base64_decode("Zm9v!"));
    CHECK_FALSE(base64_decode("Z"));
}

namespace {

answer_head answer_407(std::vector<std::string> challenges) {
    answer_head h;
    h.status = 407;
    for (auto& c : challenges)
        h.fields.push_back({"Proxy-Authenticate", std::move(c)});
    return h;
}

const challenge& first_of(const parsed_challenges& p) {
    REQUIRE(!p.challenges.empty());
    return p.challenges[0];
}

auth_settings settings(std::optional<credentials> creds, auth_choice choice = auth_choice::any) {
    auth_settings s;
    s.choice = choice;
    s.creds = std::move(creds);
    s.proxy_host = "proxy.test";
    s.proxy_name = "proxy.test:3128";
    s.target = "git.example:22";
    return s;
}

const logger quiet(-1);

} // namespace

TEST_CASE("Basic: RFC 7617 example") {
    auto basic = make_basic_auth({"Aladdin", "open sesame", "test"}, false);
    CHECK(basic->scheme() == "Basic");
    CHECK_FALSE(basic->preemptive());
    auto parsed = parse_challenges({"Basic realm=\"WallyWorld\""});
    auto v = basic->respond(first_of(parsed));
    REQUIRE(v);
    CHECK(v->authorization == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK(v->counts_as_try);
}

TEST_CASE("Basic: preemptive with corkscrew's auth file") {
    auth_step step(settings(credentials{"user", "pa:ss", "auth file"}), quiet);
    CHECK_FALSE(step.preemptive());
    auto s = settings(credentials{"user", "pa:ss", "auth file"});
    s.preemptive_basic = true;
    auth_step preemptive(s, quiet);
    CHECK(preemptive.preemptive() == "Basic dXNlcjpwYTpzcw==");
}

TEST_CASE("the strongest scheme both sides speak is chosen; --auth overrides") {
    const credentials alice{"alice", "secret", "test"};
    auto both = answer_407({"Basic realm=\"r\", Digest realm=\"r\", nonce=\"n\", qop=auth"});
    auth_step any(settings(alice), quiet);
    auto reply = any.on_challenge(both);
    REQUIRE(reply);
    CHECK(any.scheme() == "Digest");
    CHECK(reply->authorization.rfind("Digest username=\"alice\"", 0) == 0);

    auto two_fields = answer_407({"Basic realm=\"r\"", "Digest realm=\"r\", nonce=\"n\""});
    auth_step any2(settings(alice), quiet);
    REQUIRE(any2.on_challenge(two_fields));
    CHECK(any2.scheme() == "Digest");

    auth_step basic(settings(alice, auth_choice::basic), quiet);
    auto b = basic.on_challenge(both);
    REQUIRE(b);
    CHECK(basic.scheme() == "Basic");
    CHECK(b->authorization == "Basic YWxpY2U6c2VjcmV0");

    auth_step digest_only(settings(alice, auth_choice::digest), quiet);
    auto none = digest_only.on_challenge(answer_407({"Basic realm=\"r\""}));
    REQUIRE_FALSE(none);
    CHECK(none.err().kind == failure::auth_failed);
    CHECK(none.err().message.find("Basic realm=\"r\"") != std::string::npos);
    CHECK(none.err().message.find("--auth") != std::string::npos);
}

TEST_CASE("a preemptive Basic that the proxy does not want gives way to what it offers") {
    auto s = settings(credentials{"alice", "secret", "auth file"});
    s.preemptive_basic = true;
    auth_step step(s, quiet);
    REQUIRE(step.preemptive());
    auto r = step.on_challenge(answer_407({"Digest realm=\"r\", nonce=\"n\""}));
    REQUIRE(r);
    CHECK(step.scheme() == "Digest");
}

TEST_CASE("no usable challenge: a clean error naming what was offered") {
    const credentials alice{"alice", "secret", "test"};
    for (auto offer : std::vector<std::vector<std::string>>{
             {"NTLM"}, {}, {"Bearer realm=\"x\""}, {"Digest realm=\"unterminated"}}) {
        auth_step step(settings(alice), quiet);
        auto r = step.on_challenge(answer_407(offer));
        REQUIRE_FALSE(r);
        CHECK(r.err().kind == failure::auth_failed);
        CHECK(r.err().message.find("proxy.test:3128") != std::string::npos);
        CHECK(r.err().message.find("git.example:22") != std::string::npos);
        CHECK(r.err().message.find("secret") == std::string::npos);
    }
}

TEST_CASE("a missing password is asked for once, and only when a scheme needs it") {
    int asked = 0;
    auto s = settings(credentials{"alice", "", "proxy URL", false});
    s.ask = [&](const std::string& proxy, const std::optional<credentials>& partial, std::string&) {
        CHECK(proxy == "proxy.test:3128");
        ++asked;
        REQUIRE(partial);
        CHECK(partial->user == "alice");
        return std::optional<credentials>(credentials{"alice", "typed", "prompt"});
    };
    auth_step step(s, quiet);
    auto first = step.on_challenge(answer_407({"Basic realm=\"r\""}));
    REQUIRE(first);
    CHECK(first->authorization == "Basic " + base64_encode("alice:typed"));
    REQUIRE(step.on_challenge(answer_407({"Basic realm=\"r\""})));
    CHECK(asked == 1);

    auto nobody = settings(std::nullopt);
    auth_step no_prompt(nobody, quiet);
    auto r = no_prompt.on_challenge(answer_407({"Basic realm=\"r\""}));
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("no credentials") != std::string::npos);
}
