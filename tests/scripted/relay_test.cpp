// The relay after the 200: half-close in both directions, byte-exact data, files, one socket or
// a terminal as stdin and stdout, stdio closed or gone, a reset tunnel and signals.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

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

TEST_CASE("-v says how bytes moved: bulk by splice, a few bytes by read/write, as the path asks") {
    // The suite runs once per path (CORKSCREW_RELAY, inherited by the program).
    const char* forced = std::getenv("CORKSCREW_RELAY");
    const std::string path = forced && *forced ? forced : "auto";
    std::size_t size = 0;
    SUBCASE("4 MiB down a pipe") {
        size = 4 * mib;
    }
    SUBCASE("100 bytes") {
        size = 100;
    }
    CAPTURE(path);
    CAPTURE(size);
    const std::string data = random_bytes(size, 9);
    scripted_proxy proxy(
        script{{{std::string(established)}, {data, segment_gap}}, then_do::half_close});
    auto options = corkscrew_form(proxy);
    options.args.insert(options.args.begin(), "-v");
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(byte_diff(r.out, data) == "");
    const std::string received = " bytes received (";
    const auto at = r.err.find(std::to_string(size) + received);
    REQUIRE(at != std::string::npos);
    const auto how = r.err.substr(at + std::to_string(size).size() + received.size());
    const auto shown = how.substr(0, how.find(')'));
    if (path == "copy" || (path == "auto" && size < mib))
        CHECK(shown == "read/write");
    else if (path == "splice")
        CHECK(shown == "splice");
    else
        // Read/write until a read fills the buffer, then splice.
        CHECK(shown == "read/write and splice");
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

TEST_CASE("an idle tunnel costs no CPU: under 1 ms per idle second, with the idle timeout armed") {
    // The interval is the measurement itself, not a wait for something to happen.
    constexpr auto idle = 4s;
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}, then_do::echo});
    auto options = corkscrew_form(proxy);
    options.args.insert(options.args.begin(), {"-w", "3600"});
    child_process child(options);
    REQUIRE(child.pump_until([&] { return child.out().size() >= banner.size(); }, 10s));
    const auto before = cpu_time(child.pid());
    child.pump_until([] { return false; }, idle);
    const auto used = cpu_time(child.pid()) - before;
    // Still relaying after the idle spell.
    child.write_stdin("ping");
    CHECK(child.pump_until([&] { return child.out().size() >= banner.size() + 4; }, 10s));
    child.close_stdin();
    const auto& status = child.wait(run_limit);
    INFO(context(child));
    CAPTURE(used.count());
    CHECK(status.code == exit_code::ok);
    CHECK(child.out() == std::string(banner) + "ping");
    const auto tick = std::chrono::microseconds(1'000'000 / ::sysconf(_SC_CLK_TCK));
    CHECK(used <= std::max<std::chrono::microseconds>(
                      std::chrono::duration_cast<std::chrono::microseconds>(idle) / 1000, tick));
}

TEST_CASE("stdout's reader goes away while stdin still flows: exit 0 before stdin ends") {
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::echo});
    child_process child(corkscrew_form(proxy));
    // stdin is never closed: only the broken stdout can end this run.
    child.write_stdin(random_bytes(8 * mib, 10));
    REQUIRE(child.pump_until([&] { return !child.out().empty(); }, 10s));
    child.close_stdout();
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::ok);
}

TEST_CASE("stdout's reader goes away while the tunnel is quiet: exit 0 at once, stdin open") {
    // The portable path (CORKSCREW_RELAY=copy) notices only at its next write to stdout.
    if (const char* path = std::getenv("CORKSCREW_RELAY"); path && std::string(path) == "copy")
        return;
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}, then_do::sink});
    child_process child(corkscrew_form(proxy));
    REQUIRE(child.pump_until([&] { return child.out() == banner; }, 10s));
    // Nothing more comes from the tunnel and stdin stays open: only the reader's leaving can
    // end this run.
    child.close_stdout();
    const auto& status = child.wait(3s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::ok);
}

TEST_CASE("stdin and stdout are one socket: both ways, then stdin alone until its end or SIGTERM") {
    // The destination sends the banner, answers the client's first line once it came, then
    // half-closes: the program closes stdout, and stdin (the same socket) must stay usable.
    const std::string more = "more, after your line\n";
    scripted_proxy proxy([&more](proxy_connection& c) {
        if (!c.read_request()) {
            return;
        }
        c.send(std::string(established) + std::string(banner));
        c.read_until("\n");
        c.send(more);
        c.shutdown_write();
        c.sink();
    });
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    owned_fd ours(pair[0]);
    owned_fd theirs(pair[1]);
    auto options = corkscrew_form(proxy);
    options.stdin_fd = theirs.get();
    options.stdout_fd = theirs.get();
    child_process child(options);
    theirs.reset();

    std::string got;
    REQUIRE(read_until(ours, got, banner, 10s));
    write_all(ours, "first line\n");
    // Everything, then EOF: the program shut the socket down for sending.
    CHECK_FALSE(read_until(ours, got, "never sent", 10s));
    CHECK(got == std::string(banner) + more);
    CHECK(received(proxy) == "first line\n");
    // stdin still goes through, and the program waits for more.
    write_all(ours, "last line\n");
    CHECK(child.pump_until([&] { return received(proxy) == "first line\nlast line\n"; }, 10s));
    REQUIRE(child.running());

    SUBCASE("the test closes its end: exit 0") {
        ours.reset();
        const auto& status = child.wait(10s);
        INFO(context(child));
        CHECK_FALSE(status.timed_out);
        CHECK(status.code == exit_code::ok);
        CHECK(proxy.wait_handlers());
        const auto records = proxy.records();
        REQUIRE(records.size() == 1);
        CHECK(records[0].received == "first line\nlast line\n");
        CHECK(records[0].saw_eof);
    }
    SUBCASE("SIGTERM while it waits for stdin: prompt exit") {
        const double after_signal = signal_and_wait(child, SIGTERM);
        INFO(context(child));
        CHECK(after_signal < 3.0);
        CHECK(ended_by(*child.status(), SIGTERM));
    }
}

TEST_CASE("stdin and stdout are one terminal: typed lines go through, SIGTERM ends it") {
    // The destination echoes one line, then half-closes: the program lets go of stdout and
    // waits for stdin, the same terminal.
    scripted_proxy proxy([](proxy_connection& c) {
        if (!c.read_request()) {
            return;
        }
        c.send(std::string(established) + std::string(banner));
        c.send(c.read_until("\n"));
        c.shutdown_write();
        c.sink();
    });
    owned_fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    REQUIRE(master.get() >= 0);
    REQUIRE(::grantpt(master.get()) == 0);
    REQUIRE(::unlockpt(master.get()) == 0);
    const char* name = ::ptsname(master.get());
    REQUIRE(name != nullptr);
    const std::string terminal_name = name;
    owned_fd terminal(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    REQUIRE(terminal.get() >= 0);
    // A line-buffered terminal as typed at, without the local echo: what comes back on the
    // master is only what the program wrote.
    termios mode{};
    REQUIRE(::tcgetattr(terminal.get(), &mode) == 0);
    mode.c_lflag |= ICANON;
    mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    REQUIRE(::tcsetattr(terminal.get(), TCSANOW, &mode) == 0);
    auto options = corkscrew_form(proxy);
    options.stdin_fd = terminal.get();
    options.stdout_fd = terminal.get();
    child_process child(options);
    terminal.reset();

    std::string screen;
    REQUIRE(read_until(master, screen, "SSH-2.0-FAKE", 10s));
    write_all(master, "typed line\n");
    CHECK(read_until(master, screen, "typed line", 10s));
    CAPTURE(screen);
    CHECK(received(proxy) == "typed line\n");
    // The tunnel's EOF closes stdout: fd 1 stops being the terminal.
    const std::string fd1 = "/proc/" + std::to_string(child.pid()) + "/fd/1";
    CHECK(child.pump_until(
        [&] {
            std::error_code ec;
            return std::filesystem::read_symlink(fd1, ec) != terminal_name;
        },
        10s));
    // stdin still goes through, and the program waits for more.
    write_all(master, "second line\n");
    CHECK(child.pump_until([&] { return received(proxy) == "typed line\nsecond line\n"; }, 10s));
    REQUIRE(child.running());

    const double after_signal = signal_and_wait(child, SIGTERM);
    INFO(context(child));
    CHECK(after_signal < 3.0);
    CHECK(ended_by(*child.status(), SIGTERM));
}

TEST_CASE("started with stdin and/or stdout closed: no internal error, no crash") {
    bool no_stdin = false;
    bool no_stdout = false;
    SUBCASE("stdin closed") {
        no_stdin = true;
    }
    SUBCASE("stdout closed") {
        no_stdout = true;
    }
    SUBCASE("both closed") {
        no_stdin = true;
        no_stdout = true;
    }
    CAPTURE(no_stdin);
    CAPTURE(no_stdout);
    scripted_proxy proxy(
        script{{{std::string(established) + std::string(banner)}}, then_do::close});
    auto options = corkscrew_form(proxy);
    options.no_stdin = no_stdin;
    options.no_stdout = no_stdout;
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK_FALSE(r.status.timed_out);
    CHECK(r.status.exited);
    CHECK(r.status.code != exit_code::internal);
    CHECK(r.err.find("internal error") == std::string::npos);
    if (!no_stdout) {
        CHECK(r.out == banner);
    }
    CHECK(proxy.connection_count() == 1);
}

TEST_CASE("200 then a close with nothing sent: exit 0, one line says the tunnel closed") {
    bool quiet = false;
    SUBCASE("default: the notice") {}
    SUBCASE("-q: silence") {
        quiet = true;
    }
    CAPTURE(quiet);
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::close});
    child_process child(modern_form(proxy_url(proxy), quiet ? std::vector<std::string>{"-q"}
                                                            : std::vector<std::string>{}));
    // As under ssh: stdin stays open until stdout has ended.
    CHECK(child.pump_until([&] { return child.stdout_closed(); }, 10s));
    child.close_stdin();
    const auto& status = child.wait(run_limit);
    INFO(context(child));
    CHECK(status.code == exit_code::ok);
    CHECK(child.out().empty());
    if (quiet) {
        CHECK(child.err().empty());
    } else {
        CHECK(is_one_error_line(child.err()));
        CHECK(child.err().find("closed") != std::string::npos);
    }
}

TEST_SUITE_END();
