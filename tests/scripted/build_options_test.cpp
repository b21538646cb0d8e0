// What depends on how the program was built: Negotiate exists only with GSSAPI, --compress only
// with zstd. The test preset "minimal" runs this suite against a build without either, the
// others against one with both.
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace corkscrew_test;

namespace {

// Whether the program says it speaks Negotiate (the "auth:" line of --version).
bool built_with_negotiate() {
    spawn_options o;
    o.program = program();
    o.args = {"--version"};
    const auto r = run(o, {}, run_limit);
    REQUIRE(r.status.code == exit_code::ok);
    auto line = r.out.find("\nauth: ");
    REQUIRE(line != std::string::npos);
    auto end = r.out.find('\n', line + 1);
    return r.out.substr(line, end - line).find("Negotiate") != std::string::npos;
}

// Whether the program says it has the compression layer (the "compression:" line of --version).
bool built_with_zstd() {
    spawn_options o;
    o.program = program();
    o.args = {"--version"};
    const auto r = run(o, {}, run_limit);
    REQUIRE(r.status.code == exit_code::ok);
    constexpr std::string_view with_zstd = "\ncompression: zstd";
    REQUIRE(r.out.find("\ncompression: ") != std::string::npos);
    return r.out.find(with_zstd) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("build options" * doctest::timeout(60));

TEST_CASE("a Negotiate-only challenge ends cleanly, with or without GSSAPI") {
    const bool negotiate = built_with_negotiate();
    CAPTURE(negotiate);
    scripted_proxy proxy(script{{{"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                  "Proxy-Authenticate: Negotiate\r\n"
                                  "Content-Length: 0\r\n\r\n"}},
                                then_do::sink});
    auto options = modern_form(proxy_url(proxy));
    options.env.emplace_back("CORKSCREW_AUTH", "user:pass");
    // No ticket to be found, whatever the machine has.
    options.env.emplace_back("KRB5CCNAME", "FILE:/nonexistent/corkscrew-test-ccache");
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(
        r.err, {"127.0.0.1:" + std::to_string(proxy.port()), std::string(dest), "Negotiate"}));
    if (negotiate)
        CHECK(r.err.find("it speaks Negotiate, Digest, Basic") != std::string::npos);
    else
        CHECK(r.err.find("it speaks Digest, Basic") != std::string::npos);
    CHECK(r.err.find("pass") == std::string::npos);
}

TEST_CASE("--auth negotiate is a usage error only without GSSAPI") {
    const bool negotiate = built_with_negotiate();
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}, then_do::sink});
    auto options = modern_form(proxy_url(proxy), {"--auth", "negotiate"});
    if (negotiate) {
        const auto r = run_until_delivered(options, banner.size());
        INFO(context(r));
        CHECK(r.status.code == exit_code::ok);
    } else {
        const auto r = run(options, {}, run_limit);
        INFO(context(r));
        CHECK(r.status.code == exit_code::usage);
        CHECK(r.err.find("GSSAPI") != std::string::npos);
        CHECK(proxy.connection_count() == 0);
    }
}

TEST_CASE("--compress: a usage error without zstd; with it, a far end that does not compress "
          "is named before anything else is done") {
    const bool zstd = built_with_zstd();
    CAPTURE(zstd);
    refusing_port destination;
    spawn_options o;
    o.program = program();
    o.args = {"--relay", "--compress", "127.0.0.1", std::to_string(destination.port())};
    // What arrives on a relay's stdin when the other end does not compress: ssh's own banner.
    const auto r = run(o, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", run_limit);
    INFO(context(r));
    CHECK(is_one_error_line(r.err));
    if (zstd) {
        CHECK(r.status.code == exit_code::compression);
        CHECK(mentions_all(r.err, {"compression", "SSH-2.0-OpenSSH_9.2p1 Debian-2"}));
        // The hello went out first, and nothing undecoded after it.
        CHECK(r.out == "corkscrew++ compress/1 zstd\n");
    } else {
        CHECK(r.status.code == exit_code::usage);
        CHECK(mentions_all(r.err, {"--compress", "zstd"}));
        CHECK(r.out.empty());
    }
}

TEST_CASE("--compress: a far end that never sends its hello is a timeout") {
    if (!built_with_zstd())
        return;
    holding_destination silent;
    spawn_options o;
    o.program = program();
    o.args = {"--no-env", "--compress", "--connect-timeout",
              "0.5",      "127.0.0.1",  std::to_string(silent.port())};
    const auto r = run(o, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::timeout);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {"compression hello", "--connect-timeout"}));
}

TEST_SUITE_END();
