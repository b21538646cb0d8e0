// Fault injection: a proxy or destination that resets, dribbles, floods or challenges for ever;
// stdio that goes away early; signals in every phase of the set-up; a listener short of
// descriptors; names that do not resolve and destinations that cannot go into a request.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * kib;

// What ssh sends first: stdin has data while the set-up goes on.
constexpr std::string_view client_banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

const std::string challenge_head = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                   "Proxy-Authenticate: Basic realm=\"fault\"\r\n";
// A 407 whose connection carries the retry.
const std::string keep_alive_407 = challenge_head + "Content-Length: 0\r\n\r\n";

double seconds(clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// What any run costs in CPU time (start-up, and under ASan its own set-up): measured on --help,
// not guessed.
double baseline_cpu_seconds() {
    spawn_options idle;
    idle.program = program();
    idle.args = {"--help"};
    return run(idle, {}, run_limit).status.cpu_seconds;
}

// The program run by the peak_rss launcher (tests/support/peak_rss.cpp), which writes its peak
// resident set size to `file`: the rusage of a posix_spawn()ed child holds the test's own peak.
spawn_options with_peak_rss(spawn_options options, const std::string& file) {
    const char* launcher = std::getenv("CORKSCREW_PEAK_RSS");
    REQUIRE_MESSAGE(launcher != nullptr,
                    "CORKSCREW_PEAK_RSS is not set (run the tests with ctest)");
    options.args.insert(options.args.begin(), {file, options.program});
    options.program = launcher;
    return options;
}

// The peak in KiB that the launcher wrote, 0 if none.
long peak_rss_kib(const temp_file& file) {
    const std::string text = file.read();
    return text.empty() ? 0 : std::stol(text);
}

// Credentials for a proxy that asks (407).
spawn_options with_credentials(spawn_options options) {
    options.env.emplace_back("CORKSCREW_AUTH", "user:fault-pw");
    return options;
}

// Every line on stderr is the program's own: no stray output, however the run ended.
bool only_program_lines(const std::string& err) {
    for (std::size_t start = 0; start < err.size();) {
        const auto end = err.find('\n', start);
        if (end == std::string::npos || err.compare(start, 13, "corkscrew++: ") != 0)
            return false;
        start = end + 1;
    }
    return true;
}

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string header_block(std::size_t total) {
    std::string out;
    for (int i = 0; out.size() < total; ++i)
        out += "X-Fill-" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
    return out;
}

// The first connection answers the first request with a kept-alive 407, reads the retry (with
// credentials), sends `partial` of an answer to it and resets the connection. Later connections
// read their request and reset at once, or with `later_succeed` answer 200 and the banner.
connection_handler reset_at_retry(std::string partial, bool later_succeed) {
    return [partial = std::move(partial), later_succeed](proxy_connection& c) {
        if (!c.read_request())
            return;
        if (c.index() > 0) {
            if (later_succeed)
                c.play({{{std::string(established) + std::string(banner)}}, then_do::sink});
            else
                c.reset();
            return;
        }
        c.send(keep_alive_407);
        if (!c.read_request())
            return;
        c.send(partial);
        c.wait_delivered();
        c.reset();
    };
}

// Answers the first request with a kept-alive 407, then the retry with `answer`, then sinks.
connection_handler challenge_then(std::vector<segment> answer) {
    return [answer = std::move(answer)](proxy_connection& c) {
        if (!c.read_request())
            return;
        c.send(keep_alive_407);
        if (!c.read_request())
            return;
        c.send_segments(answer);
        c.sink();
    };
}

// 200, then `data`, then an RST once the client has acknowledged every byte; `delivered` is set
// just before the RST.
connection_handler download_then_reset(std::string data,
                                       std::shared_ptr<std::atomic<bool>> delivered) {
    return [data = std::move(data), delivered = std::move(delivered)](proxy_connection& c) {
        if (!c.read_request())
            return;
        c.send(established);
        c.send(data);
        c.wait_delivered();
        delivered->store(true);
        c.reset();
    };
}

// 200, then bytes for as long as the client takes them (up to 1 GiB, far more than any test
// reads): a download that never ends by itself.
connection_handler endless_download() {
    return [](proxy_connection& c) {
        if (!c.read_request())
            return;
        c.send(established);
        const std::string chunk = random_bytes(64 * kib, 11);
        for (int i = 0; i < 16 * 1024; ++i)
            c.send(chunk);
    };
}

std::size_t with_authorization(const std::vector<std::string>& requests) {
    return static_cast<std::size_t>(
        std::count_if(requests.begin(), requests.end(), [](const std::string& r) {
            return !parse_request_head(r).values("Proxy-Authorization").empty();
        }));
}

// Once `ready` holds, sends `signal`: the program ends at once with 128+N, having written
// nothing but `expected_out` to stdout and nothing but its own lines to stderr.
void check_signal(child_process& child, const std::function<bool()>& ready, int signal,
                  std::string_view expected_out = {}) {
    REQUIRE(child.pump_until(ready, 10s));
    const double after_signal = signal_and_wait(child, signal);
    INFO(context(child));
    CHECK(after_signal < 3.0);
    CHECK(ended_by(*child.status(), signal));
    CHECK(child.status()->exited);
    CHECK(child.out() == expected_out);
    CHECK(only_program_lines(child.err()));
}

// A client of a listener on 127.0.0.1: connected at once (the kernel's backlog takes it whether
// or not the program accepts it), it sends its line and expects it back through the tunnel.
class listen_client {
public:
    enum class state { waiting, served, closed };

    listen_client(std::uint16_t port, std::string line) : line_(std::move(line)) {
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(port);
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
            throw std::runtime_error("cannot connect to the listener");
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
        if (::send(fd_, line_.data(), line_.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(line_.size()))
            throw std::runtime_error("cannot send to the listener");
    }
    ~listen_client() { close(); }
    listen_client(const listen_client&) = delete;
    listen_client& operator=(const listen_client&) = delete;

    // Takes what has arrived, without waiting.
    state poll() {
        while (state_ == state::waiting) {
            char buffer[256];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0) {
                got_.append(buffer, static_cast<std::size_t>(n));
                if (got_ == line_)
                    state_ = state::served;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                state_ = state::closed; // refused: the program closed (or reset) it
            } else if (errno == EAGAIN) {
                break;
            }
        }
        return state_;
    }
    // Leaves: its tunnel ends, which frees the program's descriptors.
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    std::string line_;
    std::string got_;
    int fd_ = -1;
    state state_ = state::waiting;
};

// Whether the program is built with AddressSanitizer (and so, here, UndefinedBehaviorSanitizer):
// asked for its flags, its runtime lists them.
bool program_is_sanitized() {
    spawn_options version;
    version.program = program();
    version.args = {"--version"};
    version.env.emplace_back("ASAN_OPTIONS", "help=1:detect_leaks=0");
    return run(version, {}, run_limit).err.find("AddressSanitizer") != std::string::npos;
}

// The port in the program's first "listening on 127.0.0.1:PORT for ..." line.
std::uint16_t listening_port(const std::string& out) {
    const std::string prefix = "listening on 127.0.0.1:";
    const auto at = out.find(prefix);
    REQUIRE(at != std::string::npos);
    return static_cast<std::uint16_t>(std::stoi(out.substr(at + prefix.size())));
}

} // namespace

TEST_SUITE_BEGIN("fault" * doctest::timeout(120));

// ---- The proxy resets the connection ------------------------------------------------------

TEST_CASE("the proxy resets the connection during its answer: exit 6, one line, no new try") {
    std::string partial;
    SUBCASE("before any byte of it") {}
    SUBCASE("inside the status line") {
        partial = "HTTP/1.1 200 Conn";
    }
    SUBCASE("after the status line and a header") {
        partial = "HTTP/1.1 200 Connection established\r\nVia: 1.1 fault\r\n";
    }
    CAPTURE(partial);
    scripted_proxy proxy(script{{{partial}}, then_do::reset_delivered});
    child_process child(corkscrew_form(proxy));
    // stdin stays open: only the reset can end this run.
    child.write_stdin(client_banner);
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::bad_answer);
    CHECK(seconds(status.elapsed) < 5.0);
    CHECK(child.out().empty());
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {proxy.host_port(), std::string(dest)}));
    CHECK(proxy.connection_count() == 1);
}

TEST_CASE("the proxy resets the kept-alive connection after the 407 retry arrives") {
    // RFC 9112 section 9.3.1: a request on a reused connection that got no byte of an answer may
    // go again on a new one, once; a request the proxy began answering may not.
    SUBCASE("before answering, and again on the new connection: one new try, then exit 6") {
        scripted_proxy proxy(reset_at_retry("", false));
        const auto r = run(with_credentials(corkscrew_form(proxy)), {}, run_limit);
        INFO(context(r));
        CHECK_FALSE(r.status.timed_out);
        CHECK(r.status.code == exit_code::bad_answer);
        CHECK(seconds(r.status.elapsed) < 5.0);
        CHECK(r.out.empty());
        CHECK(is_one_error_line(r.err));
        CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest)}));
        CHECK(proxy.wait_handlers());
        const auto records = proxy.records();
        REQUIRE(records.size() == 2);
        CHECK(records[0].requests.size() == 2);
        CHECK(with_authorization(records[0].requests) == 1);
        REQUIRE(records[1].requests.size() == 1);
        CHECK(with_authorization(records[1].requests) == 1);
    }
    SUBCASE("before answering; the new connection answers 200: the tunnel is up") {
        scripted_proxy proxy(reset_at_retry("", true));
        const auto r = run_until_delivered(with_credentials(corkscrew_form(proxy)), banner.size());
        INFO(context(r));
        CHECK(r.status.code == exit_code::ok);
        CHECK(r.out == banner);
        CHECK(proxy.connection_count() == 2);
        CHECK(with_authorization(proxy.all_requests()) == 2);
    }
    SUBCASE("inside its answer to the retry: exit 6, no new connection") {
        scripted_proxy proxy(reset_at_retry("HTTP/1.1 20", false));
        const auto r = run(with_credentials(corkscrew_form(proxy)), {}, run_limit);
        INFO(context(r));
        CHECK_FALSE(r.status.timed_out);
        CHECK(r.status.code == exit_code::bad_answer);
        CHECK(seconds(r.status.elapsed) < 5.0);
        CHECK(r.out.empty());
        CHECK(is_one_error_line(r.err));
        CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest)}));
        CHECK(proxy.connection_count() == 1);
        CHECK(proxy.all_requests().size() == 2);
    }
}

namespace {

// Every byte that came before the RST reaches stdout, then EOF, and exit 8 says that the tunnel
// failed.
void check_download_then_reset(std::string_view upload) {
    // The proxy's RST and a destination's reset passed on by the proxy are one thing to the
    // program: an RST on the tunnel's connection.
    const std::string download = random_bytes(4 * mib, 12);
    auto delivered = std::make_shared<std::atomic<bool>>(false);
    scripted_proxy proxy(download_then_reset(download, delivered));
    child_process child(corkscrew_form(proxy));
    // stdin stays open: only the reset can end this run.
    child.write_stdin(upload);
    REQUIRE(child.pump_until([&] { return delivered->load(); }, 20s));
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::tunnel_io);
    CHECK(byte_diff(child.out(), download) == "");
    CHECK(child.stdout_closed());
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {proxy.host_port(), std::string(dest)}));
}

} // namespace

TEST_CASE("the tunnel is reset after a download, stdin open and quiet: every byte before the RST "
          "on stdout, then EOF, exit 8") {
    check_download_then_reset({});
}

// Sending stdin's bytes meets the reset first: the relay must still deliver what the kernel had
// already received from the tunnel (it once ended at once, dropping it).
TEST_CASE("the tunnel is reset after a download, stdin flowing: every byte before the RST on "
          "stdout, then EOF, exit 8") {
    check_download_then_reset(random_bytes(8 * mib, 13));
}

// ---- Slow, huge and endless answers --------------------------------------------------------

TEST_CASE("an answer at 1 byte per second: --connect-timeout 2 ends it on time (exit 7), no busy "
          "loop") {
    constexpr auto byte_gap = 1000ms;
    connection_handler handler;
    bool needs_credentials = false;
    SUBCASE("from its first byte") {
        handler = serve({dribble(established, byte_gap), then_do::sink});
    }
    SUBCASE("the status line at once, then the headers") {
        auto answer =
            dribble("Via: 1.1 slow\r\nX-Padding: " + std::string(100, 'p') + "\r\n\r\n", byte_gap);
        answer.insert(answer.begin(), segment{"HTTP/1.1 200 Connection established\r\n"});
        handler = serve({answer, then_do::sink});
    }
    SUBCASE("the answer to the retry after a 407") {
        handler = challenge_then(dribble(established, byte_gap));
        needs_credentials = true;
    }
    scripted_proxy proxy(handler);
    auto options = modern_form(proxy_url(proxy), {"--connect-timeout", "2"});
    child_process child(needs_credentials ? with_credentials(options) : options);
    child.write_stdin(client_banner);
    const auto& status = child.wait(15s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::timeout);
    CHECK(seconds(status.elapsed) >= 1.9);
    CHECK(seconds(status.elapsed) < 6.0);
    const double baseline = baseline_cpu_seconds();
    CAPTURE(baseline);
    CHECK(status.cpu_seconds < baseline + 0.2);
    CHECK(child.out().empty());
    CHECK(is_one_error_line(child.err()));
    CHECK(mentions_all(child.err(), {proxy.host_port(), std::string(dest), "--connect-timeout"}));
}

TEST_CASE("10 MB of headers: exit 6 at the 256 KiB limit, at once, memory bounded") {
    std::string answer = "HTTP/1.1 200 Connection established\r\n";
    SUBCASE("in lines of 100 bytes") {
        answer += header_block(10 * 1000 * 1000);
    }
    SUBCASE("in one line") {
        answer += "X-Huge: " + std::string(10 * 1000 * 1000, 'h');
    }
    answer += "\r\n\r\n" + std::string(banner);
    scripted_proxy proxy(script{{{answer}}, then_do::sink});
    const temp_file peak("");
    const auto r = run(with_peak_rss(corkscrew_form(proxy), peak.path()), {}, run_limit);
    INFO(context(r));
    CHECK_FALSE(r.status.timed_out);
    CHECK(r.status.code == exit_code::bad_answer);
    CHECK(seconds(r.status.elapsed) < 5.0);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest), "256 KiB"}));
    // Holding the 10 MB would show: the peak stays within a few MiB of what --help costs. Only the
    // difference says something: under ASan, --help alone peaks near 60 MiB.
    spawn_options idle;
    idle.program = program();
    idle.args = {"--help"};
    const temp_file idle_peak("");
    CHECK(run(with_peak_rss(idle, idle_peak.path()), {}, run_limit).status.code == exit_code::ok);
    const long used_kib = peak_rss_kib(peak);
    const long baseline_kib = peak_rss_kib(idle_peak);
    CAPTURE(used_kib);
    CAPTURE(baseline_kib);
    CHECK(baseline_kib > 0);
    CHECK(used_kib < baseline_kib + static_cast<long>(8 * kib));
}

TEST_CASE("a proxy that answers 407 to every request, closing: 3 tries with credentials, exit 5") {
    // The kept-alive shape is "wrong password: exit 5 after 3 requests with credentials" in
    // auth_test.cpp; these need a new connection for each try.
    std::string answer;
    SUBCASE("Connection: close") {
        answer = challenge_head + "Connection: close\r\nContent-Length: 0\r\n\r\n";
    }
    SUBCASE("HTTP/1.0, the body ending at the close") {
        answer = "HTTP/1.0 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"fault\"\r\n\r\nno";
    }
    scripted_proxy proxy(serve({{{answer}}, then_do::close}));
    const auto r = run(with_credentials(modern_form(proxy_url(proxy))), {}, run_limit);
    INFO(context(r));
    CHECK_FALSE(r.status.timed_out);
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(seconds(r.status.elapsed) < 5.0);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest), "407", "3 tries"}));
    CHECK(proxy.wait_handlers());
    const auto requests = proxy.all_requests();
    CHECK(requests.size() == 4);
    CHECK(with_authorization(requests) == 3);
    CHECK(proxy.connection_count() == 4);
}

// ---- stdio going away ---------------------------------------------------------------------

TEST_CASE("stdout's reader leaves during an endless download: exit 0 at once, tunnel closed") {
    // stdin open and quiet; the tunnel would send for ever.
    scripted_proxy proxy(endless_download());
    child_process child(corkscrew_form(proxy));
    REQUIRE(child.pump_until([&] { return child.out().size() >= 64 * kib; }, 10s));
    child.close_stdout();
    const auto closed = clock::now();
    const auto& status = child.wait(10s);
    INFO(context(child));
    CHECK_FALSE(status.timed_out);
    CHECK(status.code == exit_code::ok);
    CHECK(seconds(clock::now() - closed) < 3.0);
    CHECK(only_program_lines(child.err()));
    // The tunnel's connection is gone with the program: the proxy's sending has ended.
    CHECK(proxy.wait_handlers());
}

// ---- Signals in every phase ---------------------------------------------------------------

TEST_CASE("SIGHUP and SIGTERM in each phase: exit 128+N at once, no stray output") {
    constexpr int stop_signals[] = {SIGHUP, SIGTERM};
    SUBCASE("resolving the proxy's name") {
        for (const int signal : stop_signals) {
            CAPTURE(signal);
            const temp_file mark_holder("");
            const std::string mark = mark_holder.path() + ".began";
            child_process child(with_fake_dns(modern_form("http://proxy.slow.invalid:3128"), mark));
            check_signal(
                child, [&] { return ::access(mark.c_str(), F_OK) == 0; }, signal);
            ::unlink(mark.c_str());
        }
    }
    SUBCASE("connecting to a proxy address that drops the SYN") {
        for (const int signal : stop_signals) {
            CAPTURE(signal);
            const silent_address dead("127.0.0.2", 0);
            child_process child(
                modern_form("http://127.0.0.2:" + std::to_string(dead.port()), {"-v"}));
            check_signal(
                child, [&] { return child.err().find("connecting to proxy") != std::string::npos; },
                signal);
        }
    }
    SUBCASE("waiting for the proxy's answer") {
        for (const int signal : stop_signals) {
            CAPTURE(signal);
            scripted_proxy proxy(script{{}, then_do::sink});
            child_process child(modern_form(proxy_url(proxy)));
            child.write_stdin(client_banner);
            check_signal(
                child, [&] { return !proxy.all_requests().empty(); }, signal);
        }
    }
    SUBCASE("waiting for the answer to the 407 retry") {
        for (const int signal : stop_signals) {
            CAPTURE(signal);
            scripted_proxy proxy(challenge_then({}));
            child_process child(with_credentials(modern_form(proxy_url(proxy))));
            child.write_stdin(client_banner);
            check_signal(
                child, [&] { return proxy.all_requests().size() >= 2; }, signal);
        }
    }
    SUBCASE("relaying") {
        for (const int signal : stop_signals) {
            CAPTURE(signal);
            scripted_proxy proxy(
                script{{{std::string(established) + std::string(banner)}}, then_do::echo});
            child_process child(modern_form(proxy_url(proxy)));
            check_signal(
                child, [&] { return child.out() == banner; }, signal, banner);
        }
    }
}

// ---- Listen mode short of descriptors ------------------------------------------------------

TEST_CASE("-L with 32 descriptors and 40 clients: the excess refused or kept waiting, served "
          "once descriptors free, no busy loop") {
    // A sanitized program cannot run out of descriptors: UBSan's vptr check looks at memory
    // through a pipe, and without one it calls the next object it checks invalid, and stops the
    // program. Its other checks run everywhere else.
    if (program_is_sanitized()) {
        MESSAGE(
            "skipped: the program is built with sanitizers, which need descriptors of their own");
        return;
    }
    constexpr int clients_at_once = 40;
    scripted_proxy proxy(script{{{std::string(established)}}, then_do::echo});
    spawn_options options;
    // As `ulimit -n 32` in the shell that starts it: soft and hard limit, from the start.
    options.program = "/bin/sh";
    options.args = {"-c",
                    "ulimit -n 32 && exec \"$0\" \"$@\"",
                    program(),
                    "-x",
                    proxy_url(proxy),
                    "-L",
                    "127.0.0.1:0",
                    std::string(dest_host),
                    std::string(dest_port)};
    child_process child(options);
    REQUIRE(child.pump_until([&] { return child.out().find('\n') != std::string::npos; }, 10s));
    const auto port = listening_port(child.out());

    std::vector<std::unique_ptr<listen_client>> clients;
    for (int i = 0; i < clients_at_once; ++i)
        clients.push_back(std::make_unique<listen_client>(port, "client " + std::to_string(i)));
    std::size_t served = 0, refused = 0;
    auto tally = [&] {
        served = refused = 0;
        for (auto& c : clients) {
            const auto s = c->poll();
            served += s == listen_client::state::served;
            refused += s == listen_client::state::closed;
        }
    };
    // Some are served; the program has run out of descriptors for the rest, and said so.
    const bool saturated = child.pump_until(
        [&] {
            tally();
            return served > 0 && (child.err().find("Too many open files") != std::string::npos ||
                                  child.err().find("descriptors") != std::string::npos);
        },
        20s);
    INFO(context(child));
    CAPTURE(served);
    CAPTURE(refused);
    REQUIRE(saturated);
    CHECK(served < clients_at_once);
    // A failed accept names the listener by the port the kernel chose, not the -L 0 asked for.
    if (child.err().find("accepting on ") != std::string::npos)
        CHECK(child.err().find("accepting on 127.0.0.1:" + std::to_string(port) + ": ") !=
              std::string::npos);

    // While clients wait for descriptors, no busy loop and no flood of lines. The interval is
    // the measurement itself, not a wait for something to happen.
    constexpr auto window = 2s;
    const auto lines_before = line_count(child.err());
    const auto cpu_before = cpu_time(child.pid());
    child.pump_until([] { return false; }, window);
    const auto cpu_used = cpu_time(child.pid()) - cpu_before;
    const auto lines = line_count(child.err()) - lines_before;
    CAPTURE(cpu_used.count());
    CAPTURE(lines);
    CHECK(cpu_used < 500ms);
    // At most a line per failed accept (one each 100 ms) and one per refused client.
    CHECK(lines <= 20 + clients_at_once);

    // Served clients leave as soon as they are served: every client still waiting is served in
    // turn (or refused), as descriptors free up.
    std::size_t served_total = 0;
    const bool all_done = child.pump_until(
        [&] {
            bool done = true;
            served_total = refused = 0;
            for (auto& c : clients) {
                const auto s = c->poll();
                if (s == listen_client::state::served) {
                    c->close();
                    ++served_total;
                }
                refused += s == listen_client::state::closed;
                done = done && s != listen_client::state::waiting;
            }
            return done;
        },
        60s);
    CAPTURE(served_total);
    CHECK(all_done);
    CHECK(served_total + refused == clients_at_once);

    // And the listener still serves a newcomer. The tunnels of the clients that just left may
    // still hold descriptors for a moment, so a newcomer refused meanwhile tries again.
    bool late_served = false;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    for (int attempt = 0; !late_served && attempt < 100; ++attempt) {
        listen_client late(port, "late");
        child.pump_until([&] { return late.poll() != listen_client::state::waiting; },
                         give_up - std::chrono::steady_clock::now());
        late_served = late.poll() == listen_client::state::served;
        if (std::chrono::steady_clock::now() >= give_up)
            break;
    }
    CHECK(late_served);
    REQUIRE(child.running());

    // SIGTERM stops it cleanly (exit 0 with -L), without a crash on the way.
    const double after_signal = signal_and_wait(child, SIGTERM, 15s);
    CHECK(after_signal < 12.0);
    CHECK_FALSE(child.status()->timed_out);
    CHECK(child.status()->exited);
    CHECK(child.status()->code == exit_code::ok);
    CHECK(child.err().find("internal error") == std::string::npos);
    CHECK(only_program_lines(child.err()));
}

// ---- Names and destinations ---------------------------------------------------------------

TEST_CASE("a name that does not resolve: exit 3 at once, one line naming it") {
    spawn_options options;
    std::string name;
    SUBCASE("the proxy's, in a URL") {
        name = "proxy.nx.invalid";
        options = modern_form("http://" + name + ":3128");
    }
    SUBCASE("the proxy's, in the corkscrew form") {
        name = "proxy.nx.invalid";
        options.program = program();
        options.args = {name, "3128", std::string(dest_host), std::string(dest_port)};
    }
    SUBCASE("the destination's, with no proxy") {
        name = "target.nx.invalid";
        options.program = program();
        options.args = {name, "22"};
    }
    CAPTURE(name);
    const auto r = run(with_fake_dns(options, "/nonexistent/mark"), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::proxy_unreachable);
    CHECK(seconds(r.status.elapsed) < 5.0);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {name}));
}

TEST_CASE("ports out of range and control characters in the destination: exit 2, one line, no "
          "connection") {
    // Port 0, port 70000 and CR LF in the host are in request_test.cpp's "bad destinations".
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}});
    const std::string url = proxy_url(proxy);
    spawn_options options;
    SUBCASE("port 99999999999") {
        options = modern_form(url, {}, std::string(dest_host), "99999999999");
    }
    SUBCASE("port 2^32 + 22, which a 32-bit parse wraps to 22") {
        options = modern_form(url, {}, std::string(dest_host), "4294967318");
    }
    SUBCASE("port 2^64 + 22, which a 64-bit parse wraps to 22") {
        options = modern_form(url, {}, std::string(dest_host), "18446744073709551638");
    }
    SUBCASE("port 99999999999 (corkscrew form)") {
        options = corkscrew_form(proxy);
        options.args[3] = "99999999999";
    }
    SUBCASE("port -22") {
        options = modern_form(url, {}, std::string(dest_host), "-22");
    }
    SUBCASE("port +22") {
        options = modern_form(url, {}, std::string(dest_host), "+22");
    }
    SUBCASE("CR alone in the host") {
        options = modern_form(url, {}, "evil\rX-Injected: 1", std::string(dest_port));
    }
    SUBCASE("CR LF at the end of the host (corkscrew form)") {
        options = corkscrew_form(proxy);
        options.args[2] = std::string(dest_host) + "\r\n";
    }
    SUBCASE("a space in the host") {
        options = modern_form(url, {}, "target.example X-Injected: 1", std::string(dest_port));
    }
    CAPTURE(options.args);
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::usage);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(proxy.connection_count() == 0);
}

// The message quotes the port escaped (it once quoted it as given, over two lines).
TEST_CASE("CR LF after a port: exit 2, one line, no connection") {
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}});
    auto options = corkscrew_form(proxy);
    SUBCASE("the destination's") {
        options.args[3] = "22\r\nX-Injected: 1";
    }
    SUBCASE("the proxy's (corkscrew form)") {
        options.args[1] += "\r\nX-Injected: 1";
    }
    CAPTURE(options.args);
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::usage);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(proxy.connection_count() == 0);
}

TEST_SUITE_END();
