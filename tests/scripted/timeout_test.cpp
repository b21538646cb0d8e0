// Deadlines: --connect-timeout against a silent proxy (without busy-waiting), -w idle timeout.
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

double seconds(clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

} // namespace

TEST_SUITE_BEGIN("timeout" * doctest::timeout(60));

TEST_CASE("--connect-timeout 1 with a proxy that never finishes its answer: exit 7, no busy loop") {
    std::vector<segment> answer;
    SUBCASE("accepts and never answers") {}
    SUBCASE("stalls inside the status line") {
        answer = {{"HTTP/1.1 200 Conn"}};
    }
    scripted_proxy proxy(script{answer, then_do::sink});
    child_process child(modern_form(proxy_url(proxy), {"--connect-timeout", "1"}));
    // ssh speaks first: stdin already has data while the proxy is silent.
    child.write_stdin("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(status.code == exit_code::timeout);
    CHECK(seconds(status.elapsed) >= 0.9);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(status.cpu_seconds < 0.2);
    CHECK(child.out().empty());
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {proxy.host_port(), std::string(dest)}));
    // Nothing from stdin may reach the proxy before the tunnel is up.
    CHECK(proxy.wait_handlers());
    const auto records = proxy.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].requests.size() == 1);
    CHECK(records[0].received.empty());
}

TEST_CASE("-w 1: a relay without traffic ends with exit 0") {
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::sink});
    child_process child(modern_form(proxy_url(proxy), {"-w", "1"}));
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(status.code == exit_code::ok);
    CHECK(seconds(status.elapsed) >= 0.9);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(child.out().empty());
}

TEST_CASE("-w 1: traffic keeps the relay alive past the idle timeout") {
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::echo});
    child_process child(modern_form(proxy_url(proxy), {"-w", "1"}));
    // Echo a line every 300 ms for 2 s: never 1 s of silence.
    std::string sent;
    for (int i = 0; i < 7; ++i) {
        const std::string line = "ping " + std::to_string(i) + "\n";
        sent += line;
        child.write_stdin(line);
        CHECK(child.pump_until([&] { return child.out() == sent; }, 5s));
        child.pump_until([] { return false; }, 300ms);
    }
    CHECK(child.running());
    child.close_stdin();
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(status.code == exit_code::ok);
    CHECK(child.out() == sent);
}

TEST_SUITE_END();
