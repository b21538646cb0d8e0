#include "digest.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

namespace {

digest_challenge read(std::string_view field) {
    auto parsed = parse_challenges({field});
    REQUIRE(parsed.challenges.size() == 1);
    auto c = read_digest_challenge(parsed.challenges[0]);
    REQUIRE(c);
    return *c;
}

std::string param_of(const std::string& header, const std::string& name) {
    auto parsed = parse_challenges({header});
    REQUIRE(parsed.challenges.size() == 1);
    auto v = parsed.challenges[0].param(name);
    return v ? std::string(*v) : std::string("<absent>");
}

} // namespace

TEST_CASE("algorithm names") {
    CHECK(parse_digest_algorithm(std::nullopt)->name() == "MD5");
    CHECK(parse_digest_algorithm("md5-SESS")->name() == "MD5-sess");
    CHECK(parse_digest_algorithm("SHA-256")->name() == "SHA-256");
    CHECK(parse_digest_algorithm("SHA-256-sess")->session);
    CHECK(parse_digest_algorithm("SHA-512-256")->hash == digest_hash::sha512_256);
    CHECK(parse_digest_algorithm("SHA-512-256-sess")->session);
    CHECK_FALSE(parse_digest_algorithm("SHA-1"));
    CHECK_FALSE(parse_digest_algorithm("MD5-sess-x"));
}

TEST_CASE("hashes: known answers") {
    CHECK(digest_hex(digest_hash::md5, "") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(digest_hex(digest_hash::sha256, "abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // FIPS 180-4 example for SHA-512/256.
    CHECK(digest_hex(digest_hash::sha512_256, "abc") ==
          "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
}

TEST_CASE("RFC 7616 section 3.9.1: MD5 and SHA-256") {
    const credentials mufasa{"Mufasa", "Circle of Life", "test"};
    const digest_request r{"GET", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                           1};
    for (auto [algorithm, response] :
         {std::pair{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
          std::pair{"SHA-256",
                    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}}) {
        CAPTURE(algorithm);
        auto c = read(std::string("Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                                  "algorithm=") +
                      algorithm +
                      ", nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
        CHECK(c.qop_auth);
        auto header = digest_authorization(c, mufasa, r);
        CHECK(header.rfind("Digest ", 0) == 0);
        CHECK(param_of(header, "response") == response);
        CHECK(param_of(header, "username") == "Mufasa");
        CHECK(param_of(header, "uri") == "/dir/index.html");
        CHECK(param_of(header, "qop") == "auth");
        CHECK(param_of(header, "nc") == "00000001");
        CHECK(param_of(header, "cnonce") == r.cnonce);
        CHECK(param_of(header, "opaque") == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
        CHECK(param_of(header, "algorithm") == algorithm);
    }
}

TEST_CASE("RFC 7616 section 3.9.2: SHA-512-256, userhash, charset=UTF-8") {
    // The example's printed response and username hash do not follow section 3.4.1's formula
    // (RFC 7616 errata); these values were recomputed with the openssl command line.
    auto c = read("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                  "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                  "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, "
                  "userhash=true");
    CHECK(c.userhash);
    CHECK(c.utf8);
    const credentials jason{"J\xC3\xA4s\xC3\xB8n Doe", "Secret, or not?", "test"};
    auto header = digest_authorization(
        c, jason, {"GET", "/doe.json", "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", 1});
    CHECK(param_of(header, "response") ==
          "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
    CHECK(param_of(header, "username") ==
          "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    CHECK(param_of(header, "userhash") == "true");

    SUBCASE("without userhash the UTF-8 name goes as username* (RFC 8187)") {
        c.userhash = false;
        auto plain = digest_authorization(c, jason, {"GET", "/doe.json", "x", 1});
        CHECK(plain.find("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe") != std::string::npos);
    }
}

TEST_CASE("RFC 2617 section 3.5 (qop=auth) and RFC 2069's qop-less form, recomputed with md5sum") {
    const std::string fields = "Digest realm=\"testrealm@host.com\", "
                               "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                               "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    auto with_qop = read(fields + ", qop=\"auth,auth-int\"");
    auto h = digest_authorization(with_qop, {"Mufasa", "Circle Of Life", "t"},
                                  {"GET", "/dir/index.html", "0a4f113b", 1});
    CHECK(param_of(h, "response") == "6629fae49393a05397450978507c4ef1");

    auto legacy = read(fields);
    CHECK_FALSE(legacy.qop_auth);
    auto l = digest_authorization(legacy, {"Mufasa", "CircleOfLife", "t"},
                                  {"GET", "/dir/index.html", "unused", 1});
    CHECK(param_of(l, "response") == "1949323746fe6a43ef61f9606e7febea");
    CHECK(param_of(l, "qop") == "<absent>");
    CHECK(param_of(l, "nc") == "<absent>");
    CHECK(param_of(l, "cnonce") == "<absent>");
}

TEST_CASE("-sess variants on CONNECT, recomputed with md5sum and sha256sum") {
    const credentials u{"u", "p", "t"};
    auto md5 = read("Digest realm=\"r\", nonce=\"N\", qop=auth, algorithm=MD5-sess");
    CHECK(param_of(digest_authorization(md5, u, {"CONNECT", "git.example:22", "C", 1}),
                   "response") == "444a28d47de87804a27aa08dbf3062c6");
    auto sha = read("Digest realm=\"r\", nonce=\"N\", qop=auth, algorithm=SHA-256-sess");
    auto header = digest_authorization(sha, u, {"CONNECT", "git.example:22", "C", 2});
    CHECK(param_of(header, "response") ==
          "486b5cac0152c85a330b1f84cf7584f30485105fe40da57c0a3e915df7c5d571");
    CHECK(param_of(header, "uri") == "git.example:22");
    CHECK(param_of(header, "nc") == "00000002");
}

TEST_CASE("challenges that cannot be answered") {
    for (auto field : {"Digest nonce=\"n\"", "Digest realm=\"r\"",
                       "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1",
                       "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""}) {
        CAPTURE(field);
        auto parsed = parse_challenges({field});
        REQUIRE(parsed.challenges.size() == 1);
        auto c = read_digest_challenge(parsed.challenges[0]);
        REQUIRE_FALSE(c);
        CHECK(c.err().kind == failure::auth_failed);
    }
}

TEST_CASE("the authenticator: nonce count, fresh cnonce, stale nonce is no new try") {
    auto auth = make_digest_auth({"u", "p", "t"}, "git.example:22");
    auto first = parse_challenges({"Digest realm=\"r\", nonce=\"one\", qop=auth"}).challenges[0];
    auto a = auth->respond(first);
    REQUIRE(a);
    CHECK(a->counts_as_try);
    CHECK(param_of(a->authorization, "nc") == "00000001");
    CHECK(param_of(a->authorization, "uri") == "git.example:22");
    auto again = auth->respond(first);
    REQUIRE(again);
    CHECK(again->counts_as_try);
    CHECK(param_of(again->authorization, "nc") == "00000002");
    CHECK(param_of(again->authorization, "cnonce") != param_of(a->authorization, "cnonce"));
    CHECK(param_of(a->authorization, "cnonce").size() == 32);

    auto stale =
        parse_challenges({"Digest realm=\"r\", nonce=\"two\", qop=auth, stale=true"}).challenges[0];
    auto refreshed = auth->respond(stale);
    REQUIRE(refreshed);
    CHECK_FALSE(refreshed->counts_as_try);
    CHECK(param_of(refreshed->authorization, "nonce") == "two");
    CHECK(param_of(refreshed->authorization, "nc") == "00000001");
}
