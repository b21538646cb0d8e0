// The client side of the benchmark: runs one relay tool (or none, for the baseline) against a
// bench/endpoint and prints one figure on stdout. Timing lives here, not in the shell script, so
// that fork/exec of a `date` never lands inside a measurement.
//
//   probe upload MIB SECONDS -- TOOL...        dd bs=1M count=MIB if=/dev/zero | TOOL >/dev/null;
//                                              prints "SECONDS PEAK_RSS_KIB CPU_SECONDS" at the
//                                              tool's exit
//   probe download MIB SECONDS -- TOOL...      TOOL's stdin held open; prints "SECONDS BYTES
//                                              CPU_SECONDS": the time until MIB MiB came out of
//                                              its stdout (or it ended early), how many bytes came,
//                                              and the tool's CPU time
//   probe rtt COUNT SECONDS -- TOOL...         COUNT 64-byte round trips through one tunnel;
//                                              prints the median in microseconds
//   probe startup COUNT SECONDS -- TOOL...     COUNT fresh starts; prints the median milliseconds
//                                              from spawn to the endpoint's banner line on stdout
//   probe direct-upload PORT MIB SECONDS       the no-relay baselines: CONNECT straight to the
//   probe direct-download PORT MIB SECONDS     endpoint, then dd into / read from the socket;
//                                              same output as upload and download (RSS, CPU 0)
//   probe --fdpass upload|download|rtt|startup ...
//                                              as above, for a tool that hands the tunnel's
//                                              socket over (corkscrew++ --fdpass): started as ssh
//                                              starts a ProxyCommand with ProxyUseFdpass yes, its
//                                              socket taken and its exit awaited, then the work
//                                              done on that socket as ssh does; same output (the
//                                              peak RSS 0: the tool is gone during the transfer)
//
// Every wait has a deadline (SECONDS for the whole measurement); a tool still running then is
// killed, and the probe fails with a message on stderr and exit status 1. Linux only (pidfd).
#include "../tests/support/fd_receive.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using clock = std::chrono::steady_clock;
using seconds = std::chrono::duration<double>;

// Transfers are counted in MiB, as `dd bs=1M count=N` counts them.
constexpr std::uint64_t mebibyte = std::uint64_t{1} << 20;
// The reader of a download takes up to 1 MiB per read, so a tool that enlarges its stdout pipe
// (F_SETPIPE_SZ) gets the benefit; with the default 64 KiB pipe each read returns less.
constexpr std::size_t read_chunk_bytes = std::size_t{1} << 20;
// The size of an interactive message: an ssh keystroke packet is about this long.
constexpr std::size_t rtt_message_bytes = 64;
// Round trips before the timed ones: the first waits for the tunnel, the next few for caches.
constexpr int rtt_warmup = 20;
// After its measurement, a tool gets this long to end by itself once its stdin ends, before it
// is sent SIGTERM, and as long again before SIGKILL: ncat and nc never end while the tunnel is
// closed but stdin is open, and not every tool ends at once on SIGTERM.
constexpr auto exit_grace = std::chrono::milliseconds(1000);
// How often the upload's tool has its peak RSS read: a relay's memory grows as it starts, and a
// high-water mark never falls, so only growth in the last few milliseconds could be missed; the
// reads cost well under 1% of one core.
constexpr auto rss_sample_interval = std::chrono::milliseconds(5);
// An HTTP answer head or the banner line fits in one read of this size; a longer one only takes
// more reads.
constexpr std::size_t head_read_bytes = 4096;
// What the baselines ask the endpoint for; it answers anything with 200.
constexpr std::string_view connect_request =
    "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n";

struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
    throw failure(what);
}

[[noreturn]] void fail_errno(const std::string& what) {
    fail(what + ": " + std::strerror(errno));
}

int remaining_ms(clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// Waits until fd is ready for `events`; false when the deadline passed first.
bool wait_ready(int fd, short events, clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0)
            return true;
        if (n == 0)
            return false;
        if (errno != EINTR)
            fail_errno("poll");
    }
}

void close_fd(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

struct pipe_pair {
    int read_end = -1;
    int write_end = -1;
    pipe_pair() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            fail_errno("pipe");
        read_end = fds[0];
        write_end = fds[1];
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
    ~pipe_pair() {
        close_fd(read_end);
        close_fd(write_end);
    }
};

// A child process with a pidfd, so its exit can be awaited with a deadline in poll().
class child {
public:
    // Starts argv with the given descriptors as its stdin and stdout (stderr is shared).
    child(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd) {
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
        posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
        int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            errno = rc;
            fail_errno("cannot start " + argv[0]);
        }
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd_ < 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            fail_errno("pidfd_open (Linux 5.3 or newer is needed)");
        }
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;
    ~child() {
        if (!reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        close_fd(pidfd_);
    }

    // Waits for the exit; false when the deadline passed first.
    bool wait_until(clock::time_point deadline) {
        if (reaped_)
            return true;
        if (!wait_ready(pidfd_, POLLIN, deadline))
            return false;
        while (::wait4(pid_, &status_, 0, &usage_) < 0) {
            if (errno != EINTR)
                fail_errno("wait4");
        }
        reaped_ = true;
        return true;
    }

    // Lets it end by itself for a while, then asks, then insists.
    void finish() {
        if (wait_until(clock::now() + exit_grace))
            return;
        ::kill(pid_, SIGTERM);
        if (wait_until(clock::now() + exit_grace))
            return;
        ::kill(pid_, SIGKILL);
        wait_until(clock::time_point::max());
    }

    bool succeeded() const { return reaped_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
    std::string how_it_ended() const {
        if (WIFEXITED(status_))
            return "exit status " + std::to_string(WEXITSTATUS(status_));
        return "signal " + std::to_string(WTERMSIG(status_));
    }
    pid_t pid() const { return pid_; }
    // User + system CPU time, once reaped: on a machine with fewer cores than busy processes, the
    // relay's CPU cost per byte decides its speed more steadily than the clock shows.
    double cpu_seconds() const {
        auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
        return seconds(usage_.ru_utime) + seconds(usage_.ru_stime);
    }

private:
    pid_t pid_ = -1;
    int pidfd_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    rusage usage_{};
};

std::vector<std::string> dd_zeros(std::uint64_t mib) {
    return {"dd", "if=/dev/zero", "bs=1M", "count=" + std::to_string(mib), "status=none"};
}

// Reads from fd until `want` bytes came or EOF; returns how many came.
std::uint64_t read_count(int fd, std::uint64_t want, clock::time_point deadline,
                         std::vector<char>& buffer) {
    std::uint64_t got = 0;
    while (got < want) {
        if (!wait_ready(fd, POLLIN, deadline))
            fail("timed out after " + std::to_string(got) + " of " + std::to_string(want) +
                 " bytes");
        auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_errno("read");
        if (n == 0)
            break;
        got += static_cast<std::uint64_t>(n);
    }
    return got;
}

// Reads exactly size bytes (a round trip's answer).
void read_exact(int fd, char* data, std::size_t size, clock::time_point deadline) {
    while (size > 0) {
        if (!wait_ready(fd, POLLIN, deadline))
            fail("timed out waiting for the echo");
        auto n = ::read(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("the tunnel ended during a round trip");
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void write_exact(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        auto n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_errno("write");
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

// The kernel's high-water mark of the resident memory of pid's own address space, or 0 once it
// has exited. (getrusage's ru_maxrss cannot serve: it also counts the address space the child
// had before exec, which is the spawning probe's own.)
long vm_hwm_kib(pid_t pid) {
    std::FILE* status = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (!status)
        return 0;
    char line[256];
    long kib = 0;
    while (std::fgets(line, sizeof line, status)) {
        if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    }
    std::fclose(status);
    return kib;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Receives the descriptor the tool hands over, as ssh's mm_receive_fd() does (the test suite's
// receiver); -1 when the tool closed its end without sending one.
int receive_fd(int carrier, clock::time_point deadline) {
    if (!wait_ready(carrier, POLLIN, deadline))
        fail("timed out waiting for the tool's socket");
    return corkscrew_test::receive_fd(carrier, 0);
}

// Runs a tool that hands the tunnel's socket over as ssh runs it with ProxyUseFdpass yes: one end
// of a socket pair as its stdin and stdout, the socket it sends taken, and its exit awaited before
// the socket is used (ssh waits for its ProxyCommand too). Returns the socket; `cpu` gets the
// tool's CPU time.
int passed_socket(const std::vector<std::string>& tool, clock::time_point deadline, double& cpu) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        fail_errno("socketpair");
    child relay(tool, pair[1], pair[1]);
    ::close(pair[1]);
    int fd = receive_fd(pair[0], deadline);
    ::close(pair[0]);
    if (!relay.wait_until(deadline)) {
        if (fd >= 0)
            ::close(fd);
        fail("timed out: the tool did not exit after handing its socket over");
    }
    if (fd < 0 || !relay.succeeded()) {
        if (fd >= 0)
            ::close(fd);
        fail(std::string(fd < 0 ? "no socket came; " : "") + "the tool ended with " +
             relay.how_it_ended());
    }
    cpu = relay.cpu_seconds();
    return fd;
}

void upload(std::uint64_t mib, clock::time_point deadline, const std::vector<std::string>& tool) {
    pipe_pair feed;
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0)
        fail_errno("/dev/null");
    auto start = clock::now();
    child relay(tool, feed.read_end, null_fd);
    child dd(dd_zeros(mib), /*stdin=*/null_fd, feed.write_end);
    ::close(null_fd);
    close_fd(feed.read_end);
    close_fd(feed.write_end);
    long peak_kib = 0;
    while (!relay.wait_until(std::min(deadline, clock::now() + rss_sample_interval))) {
        if (clock::now() >= deadline)
            fail("timed out: the tool did not exit");
        peak_kib = std::max(peak_kib, vm_hwm_kib(relay.pid()));
    }
    auto end = clock::now();
    if (!dd.wait_until(deadline))
        fail("timed out: dd did not exit");
    if (!relay.succeeded())
        fail("the tool ended with " + relay.how_it_ended());
    if (!dd.succeeded())
        fail("dd ended with " + dd.how_it_ended() + " (the tool did not read all of stdin)");
    std::printf("%.6f %ld %.6f\n", seconds(end - start).count(), peak_kib, relay.cpu_seconds());
}

void download(std::uint64_t mib, clock::time_point deadline, const std::vector<std::string>& tool) {
    pipe_pair in, out;
    std::vector<char> buffer(read_chunk_bytes);
    auto start = clock::now();
    child relay(tool, in.read_end, out.write_end);
    close_fd(in.read_end);
    close_fd(out.write_end);
    auto want = mib * mebibyte;
    auto got = read_count(out.read_end, want, deadline, buffer);
    auto end = clock::now();
    if (got == 0)
        fail("stdout ended before any byte arrived");
    // Measured; now stdin ends, and the tool is given the chance to end cleanly.
    close_fd(in.write_end);
    close_fd(out.read_end);
    relay.finish();
    // A tool that loses bytes still has a time to its last byte; the count tells the loss.
    std::printf("%.6f %llu %.6f\n", seconds(end - start).count(),
                static_cast<unsigned long long>(got), relay.cpu_seconds());
}

// Times `count` round trips, after the warm-up ones, writing to `to` and reading the echo from
// `from`; returns the median in microseconds.
double median_round_trip(int to, int from, int count, clock::time_point deadline) {
    std::string message(rtt_message_bytes, 'x');
    std::string answer(rtt_message_bytes, '\0');
    std::vector<double> micros;
    for (int i = 0; i < rtt_warmup + count; ++i) {
        message[0] = static_cast<char>('a' + i % 26);
        auto start = clock::now();
        write_exact(to, message.data(), message.size());
        read_exact(from, answer.data(), answer.size(), deadline);
        auto end = clock::now();
        if (answer != message)
            fail("the echo differs from what was sent");
        if (i >= rtt_warmup)
            micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    return median(micros);
}

void round_trips(int count, clock::time_point deadline, const std::vector<std::string>& tool) {
    pipe_pair in, out;
    child relay(tool, in.read_end, out.write_end);
    close_fd(in.read_end);
    close_fd(out.write_end);
    double micros = median_round_trip(in.write_end, out.read_end, count, deadline);
    close_fd(in.write_end);
    close_fd(out.read_end);
    relay.finish();
    std::printf("%.1f\n", micros);
}

// Reads from fd until the banner's newline has arrived ("up", for a start-up); false at EOF.
bool banner_arrived(int fd, clock::time_point deadline, std::vector<char>& buffer) {
    for (;;) {
        if (!wait_ready(fd, POLLIN, deadline))
            fail("timed out waiting for the banner");
        auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (std::find(buffer.data(), buffer.data() + n, '\n') != buffer.data() + n)
            return true;
    }
}

void startup(int count, clock::time_point deadline, const std::vector<std::string>& tool) {
    std::vector<double> millis;
    std::vector<char> buffer(head_read_bytes);
    for (int i = 0; i < count; ++i) {
        pipe_pair in, out;
        auto start = clock::now();
        child relay(tool, in.read_end, out.write_end);
        close_fd(in.read_end);
        close_fd(out.write_end);
        if (!banner_arrived(out.read_end, deadline, buffer))
            fail("stdout ended before the banner: " + (relay.wait_until(clock::now() + exit_grace)
                                                           ? relay.how_it_ended()
                                                           : std::string("still running")));
        millis.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
        // Measured; the rest of this start is not: end it at once.
        close_fd(in.write_end);
        close_fd(out.read_end);
        ::kill(relay.pid(), SIGTERM);
        relay.finish();
    }
    std::printf("%.3f\n", median(millis));
}

// Opens a connection to the endpoint and gets its 200; what follows the answer's blank line is
// already tunnel data, and its size is returned.
int open_tunnel(int port, clock::time_point deadline, std::uint64_t& early_bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_errno("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        fail_errno("connect to 127.0.0.1:" + std::to_string(port));
    write_exact(fd, connect_request.data(), connect_request.size());
    std::string answer;
    std::vector<char> buffer(head_read_bytes);
    for (;;) {
        if (!wait_ready(fd, POLLIN, deadline))
            fail("timed out waiting for the endpoint's answer");
        auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("the endpoint closed before answering");
        answer.append(buffer.data(), static_cast<std::size_t>(n));
        auto end = answer.find("\r\n\r\n");
        if (end != std::string::npos) {
            early_bytes = answer.size() - (end + 4);
            return fd;
        }
    }
}

// dd writes MIB MiB straight into the tunnel's socket; then, as a relay does at stdin's end, the
// socket is half-closed and the far end's close awaited.
void dd_into(int fd, std::uint64_t mib, clock::time_point deadline) {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        fail_errno("/dev/null");
    child dd(dd_zeros(mib), null_fd, fd);
    ::close(null_fd);
    if (!dd.wait_until(deadline))
        fail("timed out: dd did not exit");
    if (!dd.succeeded())
        fail("dd ended with " + dd.how_it_ended());
    ::shutdown(fd, SHUT_WR);
    std::vector<char> buffer(read_chunk_bytes);
    read_count(fd, UINT64_MAX, deadline, buffer);
}

void direct_upload(int port, std::uint64_t mib, clock::time_point deadline) {
    auto start = clock::now();
    std::uint64_t early = 0;
    int fd = open_tunnel(port, deadline, early);
    dd_into(fd, mib, deadline);
    auto end = clock::now();
    ::close(fd);
    std::printf("%.6f 0 0\n", seconds(end - start).count());
}

void direct_download(int port, std::uint64_t mib, clock::time_point deadline) {
    auto start = clock::now();
    std::uint64_t early = 0;
    int fd = open_tunnel(port, deadline, early);
    std::vector<char> buffer(read_chunk_bytes);
    auto want = mib * mebibyte;
    auto got = early + read_count(fd, want - std::min(want, early), deadline, buffer);
    auto end = clock::now();
    ::close(fd);
    if (got < want)
        fail("the endpoint sent " + std::to_string(got) + " of " + std::to_string(want) + " bytes");
    std::printf("%.6f %llu 0\n", seconds(end - start).count(),
                static_cast<unsigned long long>(got));
}

void fdpass_upload(std::uint64_t mib, clock::time_point deadline,
                   const std::vector<std::string>& tool) {
    auto start = clock::now();
    double cpu = 0;
    int fd = passed_socket(tool, deadline, cpu);
    dd_into(fd, mib, deadline);
    auto end = clock::now();
    ::close(fd);
    std::printf("%.6f 0 %.6f\n", seconds(end - start).count(), cpu);
}

void fdpass_download(std::uint64_t mib, clock::time_point deadline,
                     const std::vector<std::string>& tool) {
    std::vector<char> buffer(read_chunk_bytes);
    auto start = clock::now();
    double cpu = 0;
    int fd = passed_socket(tool, deadline, cpu);
    auto got = read_count(fd, mib * mebibyte, deadline, buffer);
    auto end = clock::now();
    ::close(fd);
    if (got == 0)
        fail("the socket ended before any byte arrived");
    std::printf("%.6f %llu %.6f\n", seconds(end - start).count(),
                static_cast<unsigned long long>(got), cpu);
}

void fdpass_round_trips(int count, clock::time_point deadline,
                        const std::vector<std::string>& tool) {
    double cpu = 0;
    int fd = passed_socket(tool, deadline, cpu);
    double micros = median_round_trip(fd, fd, count, deadline);
    ::close(fd);
    std::printf("%.1f\n", micros);
}

void fdpass_startup(int count, clock::time_point deadline, const std::vector<std::string>& tool) {
    std::vector<double> millis;
    std::vector<char> buffer(head_read_bytes);
    for (int i = 0; i < count; ++i) {
        auto start = clock::now();
        double cpu = 0;
        int fd = passed_socket(tool, deadline, cpu);
        bool arrived = banner_arrived(fd, deadline, buffer);
        ::close(fd);
        if (!arrived)
            fail("the socket ended before the banner");
        millis.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
    }
    std::printf("%.3f\n", median(millis));
}

std::uint64_t number(const char* text, std::uint64_t low, std::uint64_t high) {
    char* end = nullptr;
    errno = 0;
    auto value = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high)
        fail(std::string("not a number in [") + std::to_string(low) + ", " + std::to_string(high) +
             "]: " + text);
    return value;
}

int usage() {
    std::fprintf(stderr, "usage: probe [--fdpass] upload|download MIB SECONDS -- TOOL [ARG...]\n"
                         "       probe [--fdpass] rtt|startup COUNT SECONDS -- TOOL [ARG...]\n"
                         "       probe direct-upload|direct-download PORT MIB SECONDS\n");
    return 2;
}

// Sizes and counts far beyond any sensible benchmark are refused rather than overflowed.
constexpr std::uint64_t max_mib = 1 << 20;
constexpr std::uint64_t max_count = 1'000'000;
constexpr std::uint64_t max_seconds = 24 * 3600;

} // namespace

int main(int argc, char** argv) {
    // A tool that closes its stdin early must fail its run, not kill the probe.
    std::signal(SIGPIPE, SIG_IGN);
    // The tool hands its socket over instead of relaying (corkscrew++ --fdpass).
    bool fdpass = argc > 1 && std::string_view(argv[1]) == "--fdpass";
    if (fdpass) {
        --argc;
        ++argv;
    }
    if (argc < 2)
        return usage();
    std::string_view what = argv[1];
    try {
        if (what.starts_with("direct-")) {
            if (fdpass)
                return usage();
            if (argc != 5)
                return usage();
            auto port = static_cast<int>(number(argv[2], 1, 65535));
            auto mib = number(argv[3], 1, max_mib);
            auto deadline = clock::now() + std::chrono::seconds(number(argv[4], 1, max_seconds));
            if (what == "direct-upload")
                direct_upload(port, mib, deadline);
            else if (what == "direct-download")
                direct_download(port, mib, deadline);
            else
                return usage();
            return 0;
        }
        if (argc < 6 || std::string_view(argv[4]) != "--")
            return usage();
        auto amount =
            number(argv[2], 1, what == "upload" || what == "download" ? max_mib : max_count);
        auto deadline = clock::now() + std::chrono::seconds(number(argv[3], 1, max_seconds));
        std::vector<std::string> tool(argv + 5, argv + argc);
        if (fdpass) {
            if (what == "upload")
                fdpass_upload(amount, deadline, tool);
            else if (what == "download")
                fdpass_download(amount, deadline, tool);
            else if (what == "rtt")
                fdpass_round_trips(static_cast<int>(amount), deadline, tool);
            else if (what == "startup")
                fdpass_startup(static_cast<int>(amount), deadline, tool);
            else
                return usage();
            return 0;
        }
        if (what == "upload")
            upload(amount, deadline, tool);
        else if (what == "download")
            download(amount, deadline, tool);
        else if (what == "rtt")
            round_trips(static_cast<int>(amount), deadline, tool);
        else if (what == "startup")
            startup(static_cast<int>(amount), deadline, tool);
        else
            return usage();
        return 0;
    } catch (const failure& e) {
        std::fprintf(stderr, "probe %s: %s\n", argv[1], e.what());
        return 1;
    }
}
