// Deadlines: --connect-timeout against a silent proxy (without busy-waiting), -w idle timeout,
// and signals that must cut the set-up short.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <unistd.h>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

double seconds(clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// The first connection answers 407 announcing a 1000-byte body, sends 10 bytes of it and
// stalls; `sent` is set once those bytes are out. Any later connection never answers.
connection_handler stalled_407(std::shared_ptr<std::atomic<bool>> sent) {
    return [sent = std::move(sent)](proxy_connection& c) {
        if (!c.read_request()) {
            return;
        }
        if (c.index() == 0) {
            c.send("HTTP/1.1 407 Proxy Authentication Required\r\n"
                   "Proxy-Authenticate: Basic realm=\"x\"\r\n"
                   "Content-Length: 1000\r\n\r\n" +
                   std::string(10, 'b'));
            sent->store(true);
        }
        c.sink();
    };
}

// Connections after the first that carried a request head.
std::size_t later_requests(const scripted_proxy& proxy) {
    std::size_t n = 0;
    const auto records = proxy.records();
    for (std::size_t i = 1; i < records.size(); ++i) {
        n += records[i].requests.size();
    }
    return n;
}

// A proxy name that resolves (through the shim) to `addresses`, in that order.
spawn_options with_addresses(const std::string& addresses, std::uint16_t port,
                             std::vector<std::string> extra) {
    auto options = with_fake_dns(
        modern_form("http://proxy.multi.invalid:" + std::to_string(port), std::move(extra)),
        "/nonexistent/mark");
    options.env.emplace_back("MULTI_DNS_ADDRS", addresses);
    return options;
}

spawn_options slow_proxy_name(std::vector<std::string> extra) {
    return modern_form("http://proxy.slow.invalid:3128", std::move(extra));
}

} // namespace

TEST_SUITE_BEGIN("timeout" * doctest::timeout(60));

TEST_CASE("--connect-timeout covers a DNS lookup that does not answer: exit 7 on time") {
    const temp_file mark_holder("");
    const std::string mark = mark_holder.path() + ".began";
    child_process child(with_fake_dns(slow_proxy_name({"--connect-timeout", "1"}), mark));
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(::access(mark.c_str(), F_OK) == 0); // the lookup did hang
    CHECK(status.code == exit_code::timeout);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(mentions_all(child.err(), {"proxy.slow.invalid:3128", "target.example:22"}));
    ::unlink(mark.c_str());
}

TEST_CASE("a proxy name with several addresses: a silent one costs a fraction of a second") {
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}});
    std::string addresses;
    SUBCASE("the first address drops the SYN: the next is tried beside it after 250 ms") {
        addresses = "127.0.0.2,127.0.0.1";
    }
    SUBCASE("the first two are silent") {
        addresses = "127.0.0.2,127.0.0.3,127.0.0.1";
    }
    SUBCASE("the first refuses: the next is tried at once") {
        addresses = "127.0.0.4,127.0.0.1";
    }
    CAPTURE(addresses);
    const silent_address dead2("127.0.0.2", proxy.port());
    const silent_address dead3("127.0.0.3", proxy.port());
    const silent_address refusing("127.0.0.4", proxy.port(), true);
    const auto r = run_until_delivered(
        with_addresses(addresses, proxy.port(), {"-v", "--connect-timeout", "20"}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    // Sequential attempts would wait for the kernel's SYN retries (over a minute) or the timeout.
    CHECK(seconds(r.status.elapsed) < 5.0);
    for (auto at = addresses.find("127."); at != std::string::npos;
         at = addresses.find("127.", at + 1))
        CHECK(mentions_all(r.err, {"at " + addresses.substr(at, 9)}));
    CHECK(proxy.connection_count() == 1);
}

TEST_CASE("every address of the proxy name silent: exit 7 at --connect-timeout, naming the proxy") {
    const silent_address dead2("127.0.0.2", 0);
    const silent_address dead3("127.0.0.3", dead2.port());
    const auto port = std::to_string(dead2.port());
    child_process child(
        with_addresses("127.0.0.2,127.0.0.3", dead2.port(), {"--connect-timeout", "1"}));
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(status.code == exit_code::timeout);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {"proxy.multi.invalid:" + port, "--connect-timeout"}));
}

TEST_CASE("SIGHUP during a DNS lookup that does not answer: prompt exit") {
    const temp_file mark_holder("");
    const std::string mark = mark_holder.path() + ".began";
    child_process child(with_fake_dns(slow_proxy_name({}), mark));
    REQUIRE(child.pump_until([&] { return ::access(mark.c_str(), F_OK) == 0; }, 10s));
    const double after_signal = signal_and_wait(child, SIGHUP);
    INFO(context(child));
    CHECK(after_signal < 3.0);
    CHECK(ended_by(*child.status(), SIGHUP));
    ::unlink(mark.c_str());
}

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
    // A loop spinning until the deadline would burn the whole second. What any run costs (the
    // start-up, and under ASan its own set-up, about 0.2 s) is measured, not guessed.
    spawn_options idle;
    idle.program = program();
    idle.args = {"--help"};
    const double baseline = run(idle, {}, run_limit).status.cpu_seconds;
    CAPTURE(baseline);
    CHECK(status.cpu_seconds < baseline + 0.2);
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

TEST_CASE("--connect-timeout 1 while a 407's body stalls: exit 7, no hang") {
    scripted_proxy proxy(stalled_407(std::make_shared<std::atomic<bool>>(false)));
    auto options = modern_form(proxy_url(proxy), {"--connect-timeout", "1"});
    options.env.emplace_back("CORKSCREW_AUTH", "u:p");
    child_process child(options);
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::timeout);
    CHECK(seconds(status.elapsed) >= 0.9);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(child.out().empty());
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {proxy.host_port(), std::string(dest)}));
}

TEST_CASE("SIGTERM while the proxy has not answered: prompt exit, well before the timeout") {
    // The default --connect-timeout (30 s) is far beyond the bound below.
    scripted_proxy proxy(script{{}, then_do::sink});
    child_process child(modern_form(proxy_url(proxy)));
    REQUIRE(child.pump_until([&] { return !proxy.all_requests().empty(); }, 10s));
    const double after_signal = signal_and_wait(child, SIGTERM);
    INFO(context(child));
    CHECK(after_signal < 3.0);
    CHECK(ended_by(*child.status(), SIGTERM));
    CHECK(child.out().empty());
}

TEST_CASE("SIGHUP while a 407's body stalls: prompt exit, no CONNECT on a new connection") {
    auto sent = std::make_shared<std::atomic<bool>>(false);
    scripted_proxy proxy(stalled_407(sent));
    auto options = modern_form(proxy_url(proxy), {"--connect-timeout", "60"});
    options.env.emplace_back("CORKSCREW_AUTH", "u:p");
    child_process child(options);
    REQUIRE(child.pump_until([&] { return sent->load(); }, 10s));
    const double after_signal = signal_and_wait(child, SIGHUP);
    INFO(context(child));
    CHECK(after_signal < 3.0);
    CHECK(ended_by(*child.status(), SIGHUP));
    CHECK(child.out().empty());
    CHECK(proxy.wait_handlers());
    CHECK(later_requests(proxy) == 0);
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
