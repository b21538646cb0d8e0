// What depends on how the program was built: Negotiate exists only with GSSAPI. The test preset
// "nogssapi" runs this suite against a build without it, the others against one with it.
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

TEST_SUITE_END();
