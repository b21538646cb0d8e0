// The relay after the 200: half-close in both directions, byte-exact data, files as stdin and
// stdout, a reset tunnel and SIGHUP.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <csignal>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t mib = 1024 * 1024;

// What the destination received, once its handler has finished.
connection_record only_record(scripted_proxy& proxy) {
    CHECK(proxy.wait_handlers());
    const auto records = proxy.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].error.empty());
    return records[0];
}

} // namespace

TEST_SUITE_BEGIN("relay" * doctest::timeout(60));

TEST_CASE("stdin at EOF at once: the destination's 1 MiB still arrives, then the proxy sees EOF") {
    const std::string download = random_bytes(mib, 1);
    scripted_proxy proxy(
        script{{{std::string(established)}, {download, segment_gap}}, then_do::half_close});
    const auto r = run(corkscrew_form(proxy), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(byte_diff(r.out, download) == "");
    const auto record = only_record(proxy);
    CHECK(record.saw_eof);
    CHECK(record.received.empty());
}

TEST_CASE("tunnel EOF closes stdout while stdin keeps flowing to the destination") {
    const std::string greeting = "hello from the destination\n";
    scripted_proxy proxy(script{{{std::string(established) + greeting}}, then_do::half_close});
    child_process child(corkscrew_form(proxy));

    // Wait for stdout's EOF while stdin is still open.
    CHECK(child.pump_until([&] { return child.stdout_closed(); }, 10s));
    CHECK(child.out() == greeting);
    CHECK(child.running());
    CHECK_FALSE(child.stdin_closed());

    // Send 1 MiB after the tunnel's EOF, then end stdin.
    const std::string upload = random_bytes(mib, 2);
    child.write_stdin(upload);
    child.close_stdin();
    const auto& status = child.wait(run_limit);
    INFO(context(child));
    CHECK(status.code == exit_code::ok);
    const auto record = only_record(proxy);
    CHECK(byte_diff(record.received, upload) == "");
    CHECK(record.saw_eof);
}

TEST_CASE("echo round trip of 4 MiB of random bytes, byte-exact") {
    const std::string data = random_bytes(4 * mib, 3);
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::echo});
    const auto r = run(corkscrew_form(proxy), data, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(byte_diff(r.out, data) == "");
    CHECK(byte_diff(only_record(proxy).received, data) == "");
}

TEST_CASE("200 and 4 MiB with zero bytes in the same write: stdout is exactly those 4 MiB") {
    const std::string data = random_bytes(4 * mib, 4);
    scripted_proxy proxy(script{{{std::string(established) + data}}, then_do::half_close});
    const auto r = run(corkscrew_form(proxy), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(byte_diff(r.out, data) == "");
}

TEST_CASE("stdin and stdout as regular files") {
    const std::string upload = random_bytes(256 * 1024, 5);
    const std::string download = random_bytes(300 * 1024, 6);
    const temp_file input(upload);
    const temp_file output("");
    scripted_proxy proxy(script{{{std::string(established) + download}}, then_do::half_close});
    auto options = corkscrew_form(proxy);
    options.stdin_file = input.path();
    options.stdout_file = output.path();
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(byte_diff(output.read(), download) == "");
    CHECK(byte_diff(only_record(proxy).received, upload) == "");
}

TEST_CASE("stdin and stdout as /dev/null") {
    const std::string download = random_bytes(300 * 1024, 7);
    scripted_proxy proxy(script{{{std::string(established) + download}}, then_do::half_close});
    auto options = corkscrew_form(proxy);
    options.stdin_file = "/dev/null";
    options.stdout_file = "/dev/null";
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    const auto record = only_record(proxy);
    CHECK(record.saw_eof);
    CHECK(record.received.empty());
}

TEST_CASE("tunnel reset by the destination mid-transfer: exit 8") {
    scripted_proxy proxy(
        script{{{std::string(established) + random_bytes(64 * 1024, 8)}}, then_do::reset});
    child_process child(corkscrew_form(proxy));
    // stdin stays open: only the reset can end this run.
    child.write_stdin(random_bytes(64 * 1024, 9));
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK(status.code == exit_code::tunnel_io);
    CHECK(is_one_error_line(child.err()));
}

TEST_CASE("SIGHUP / SIGTERM while relaying: prompt exit, status 128+N or killed by it, no core") {
    int signal = 0;
    SUBCASE("SIGHUP, as ssh ends its ProxyCommand") {
        signal = SIGHUP;
    }
    SUBCASE("SIGTERM") {
        signal = SIGTERM;
    }
    CAPTURE(signal);
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}, then_do::echo});
    child_process child(corkscrew_form(proxy));
    REQUIRE(child.pump_until([&] { return child.out().size() >= banner.size(); }, 10s));
    child.send_signal(signal);
    const auto& status = child.wait(5s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(((status.exited && status.code == 128 + signal) || status.signal == signal));
    CHECK_FALSE(status.core_dumped);
}

TEST_SUITE_END();
