// A load client for the real tests (tests/real/listen.sh), the other end of echo_server.cpp:
// opens connections to an echo service (directly, or through corkscrew++'s listeners), sends on
// each a stream of pseudo-random bytes while reading the echo, and checks every byte that comes
// back against what was sent; once the whole echo is back, it ends its sending direction and
// expects EOF next.
//
//   echo_client (--port P [--host 127.0.0.1] | --unix PATH) [--connections N] [--bytes B]
//               [--sequential] [--vanish K] [--rate BYTES_PER_SECOND] [--seed S] [--timeout SEC]
//               [--hold-ms MS] [--setup-times FILE]
//
// --connections N (default 1) run at once, a thread each, or one after another with
// --sequential. Each connection's bytes come from a generator seeded with --seed and its index,
// so that no two carry the same stream: bytes of one delivered on another are caught.
// --vanish K: K of the connections, spread among the N, reset (SO_LINGER 0, then close: an RST,
// not a FIN) once half their bytes are sent and some echo has come back, as a client that
// crashes would. They count apart; the others must not notice.
// --rate: each connection sends at most that many bytes a second, so that a transfer lasts a
// known time (a tunnel kept busy while something else happens).
// Once every connection has had its first echoed byte, one line says so on stdout ("all N
// connections echoing"): a script waits for it before it acts on busy tunnels.
// --hold-ms MS: each connection whose whole echo is back waits, before it ends its sending
// direction, until every other connection has its whole echo too (or has failed or vanished), so
// that all of them are open at once; one line on stdout says so ("all N connections echoed,
// holding"), and a script samples the tunnels then. The connections then stay open, idle, MS
// milliseconds more; a byte or an EOF arriving meanwhile fails the connection (a tunnel dropped
// while idle). With --sequential there is nothing to wait for: each holds MS alone.
// --setup-times FILE: each connection's set-up time, from the start of its connect to its first
// echoed byte (the whole tunnel set up, and one round trip through it), in microseconds, one line
// each, in the order of the connections (none for a connection that never got an echo); and a
// line on stdout, before the summary, with their 50th and 99th percentiles and their maximum.
// The last line on stdout sums up: connections ok, failed and vanished, bytes each way, time.
// Every failure gets a line on stderr naming the connection and what went wrong.
// Exit status: 0 when every connection not asked to vanish was intact, 1 otherwise, 2 for a
// usage error. Every wait is bounded by --timeout (default 120 s) for the whole run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// One send or receive: large enough that a transfer of a few MiB costs few system calls, small
// enough for hundreds of connections at once.
constexpr std::size_t io_chunk_bytes = 64 * 1024;
// Each connection has a thread of its own when they run at once: a bound well past what a test
// needs, and below the limits of a typical machine (threads, descriptors).
constexpr int max_connections = 10000;

struct options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string unix_path;
    int connections = 1;
    std::uint64_t bytes = 1024 * 1024;
    int vanish = 0;
    bool sequential = false;
    std::uint64_t rate = 0; // bytes a second per connection; 0: as fast as it goes
    std::uint64_t seed = 1;
    double timeout_seconds = 120;
    int hold_ms = 0;         // idle time, all connections open, before each ends its sending
    std::string setup_times; // where each connection's set-up time goes; empty: nowhere
};

// What became of one connection.
enum class outcome { ok, failed, vanished };

struct result {
    outcome how = outcome::failed;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::int64_t setup_us = -1; // connect to first echoed byte; -1: no echo came
};

// splitmix64 (Steele, Lea, Flood 2014): fast, and every seed gives a different stream.
std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The byte stream of one connection: the sender and the checker each hold one, seeded alike,
// and draw the same bytes in the same order whatever the sizes of their draws.
class byte_stream {
public:
    explicit byte_stream(std::uint64_t seed) : state_(seed) {}

    void fill(unsigned char* out, std::size_t size) {
        while (size > 0) {
            if (used_ == sizeof word_) {
                std::uint64_t w = splitmix64(state_);
                std::memcpy(word_, &w, sizeof word_);
                used_ = 0;
            }
            std::size_t n = std::min(size, sizeof word_ - used_);
            std::memcpy(out, word_ + used_, n);
            used_ += n;
            out += n;
            size -= n;
        }
    }

private:
    std::uint64_t state_;
    unsigned char word_[8] = {};
    std::size_t used_ = sizeof word_;
};

std::mutex report_mutex;

void report(int index, const std::string& what) {
    std::lock_guard lock(report_mutex);
    std::fprintf(stderr, "echo_client: connection %d: %s\n", index, what.c_str());
}

std::string errno_text(const char* what, int error) {
    return std::string(what) + ": " + std::strerror(error);
}

// Milliseconds from now to DEADLINE, for poll(); 0 once it has passed.
int millis_until(clock_type::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    return static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 60 * 60 * 1000));
}

// Open a non-blocking stream socket to the target; the connect may still be in progress.
int open_socket(const options& opt, int index) {
    int fd = -1;
    int rc = -1;
    if (!opt.unix_path.empty()) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (opt.unix_path.size() >= sizeof address.sun_path) {
            report(index, "unix socket path too long: " + opt.unix_path);
            return -1;
        }
        std::memcpy(address.sun_path, opt.unix_path.c_str(), opt.unix_path.size() + 1);
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0)
            rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    } else {
        sockaddr_in v4{};
        sockaddr_in6 v6{};
        if (::inet_pton(AF_INET, opt.host.c_str(), &v4.sin_addr) == 1) {
            v4.sin_family = AF_INET;
            v4.sin_port = htons(static_cast<std::uint16_t>(opt.port));
            fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd >= 0)
                rc = ::connect(fd, reinterpret_cast<sockaddr*>(&v4), sizeof v4);
        } else if (::inet_pton(AF_INET6, opt.host.c_str(), &v6.sin6_addr) == 1) {
            v6.sin6_family = AF_INET6;
            v6.sin6_port = htons(static_cast<std::uint16_t>(opt.port));
            fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd >= 0)
                rc = ::connect(fd, reinterpret_cast<sockaddr*>(&v6), sizeof v6);
        } else {
            report(index, "--host must be a numeric address: " + opt.host);
            return -1;
        }
    }
    if (fd < 0) {
        report(index, errno_text("socket", errno));
        return -1;
    }
    // A unix socket whose backlog is full says EAGAIN, a TCP one EINPROGRESS: both complete later.
    if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        report(index, errno_text("connect", errno));
        ::close(fd);
        return -1;
    }
    if (opt.unix_path.empty()) {
        // Small writes (the last bytes, the half-close) must not wait for more.
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

// Wait (until DEADLINE) for a non-blocking connect to finish. A unix socket that said EAGAIN is
// retried: its connect does not complete by itself.
bool finish_connect(int& fd, const options& opt, int index, clock_type::time_point deadline) {
    for (;;) {
        pollfd p{fd, POLLOUT, 0};
        int n = ::poll(&p, 1, millis_until(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report(index, errno_text("poll", errno));
            return false;
        }
        if (n == 0) {
            report(index, "connect: no answer before the deadline (--timeout)");
            return false;
        }
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error == 0) {
            // A unix socket is writable as soon as it exists: make sure it is connected.
            sockaddr_storage peer{};
            socklen_t peer_length = sizeof peer;
            if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0)
                return true;
            if (errno != ENOTCONN) {
                report(index, errno_text("getpeername", errno));
                return false;
            }
        } else if (error != EAGAIN) {
            report(index, errno_text("connect", error));
            return false;
        }
        // The unix listener's backlog was full: try again once it has room.
        ::close(fd);
        if (clock_type::now() >= deadline) {
            fd = -1;
            report(index, "connect: the unix socket's backlog stayed full until the deadline");
            return false;
        }
        ::usleep(10 * 1000);
        fd = open_socket(opt, index);
        if (fd < 0)
            return false;
    }
}

// Make the kernel answer with an RST and drop whatever is queued: a client that crashed.
void reset_and_close(int fd) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd);
}

std::atomic<int> echoing{0};

void note_first_echo(int total) {
    if (echoing.fetch_add(1) + 1 == total) {
        std::lock_guard lock(report_mutex);
        std::printf("echo_client: all %d connections echoing\n", total);
        std::fflush(stdout);
    }
}

// Keep the tunnel FD open and idle for HOLD_MS (bounded by DEADLINE): nothing may arrive, neither
// a byte (all was echoed) nor an EOF (the tunnel dropped). Returns what went wrong, if anything.
std::optional<std::string> hold_idle(int fd, int hold_ms, clock_type::time_point deadline) {
    const auto until = std::min(deadline, clock_type::now() + std::chrono::milliseconds(hold_ms));
    for (;;) {
        int timeout = millis_until(until);
        if (clock_type::now() >= until)
            return std::nullopt;
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_text("poll", errno);
        if (n == 0)
            continue;
        char byte = 0;
        auto got = ::recv(fd, &byte, 1, MSG_PEEK);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (got < 0)
            return errno_text("recv while holding the tunnel open", errno);
        if (got == 0)
            return std::string("EOF while holding the tunnel open, idle");
        return std::string("a byte arrived while holding the tunnel open, after the whole echo");
    }
}

// With --hold-ms, the connections whose whole echo is back wait for the rest: each connection
// settles once, when its echo is whole or when it ends otherwise (failed, vanished).
class hold_barrier {
public:
    explicit hold_barrier(int total) : total_(total), settled_(static_cast<std::size_t>(total)) {}

    // Connection INDEX is done with the load; WHOLE: its whole echo is back.
    void settle(int index, bool whole) {
        std::lock_guard lock(mutex_);
        auto& flag = settled_[static_cast<std::size_t>(index)];
        if (flag)
            return;
        flag = 1;
        ++count_;
        whole_ += whole;
        if (count_ == total_)
            changed_.notify_all();
    }

    // Wait (until DEADLINE) for every connection to settle; true when they all have. The first
    // to see it says how many hold their tunnels open.
    bool wait(clock_type::time_point deadline, int hold_ms) {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_until(lock, deadline, [&] { return count_ == total_; }))
            return false;
        if (!said_) {
            said_ = true;
            std::lock_guard report_lock(report_mutex);
            if (whole_ == total_)
                std::printf("echo_client: all %d connections echoed, holding %d ms\n", total_,
                            hold_ms);
            else
                std::printf("echo_client: %d of %d connections echoed, holding %d ms\n", whole_,
                            total_, hold_ms);
            std::fflush(stdout);
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int total_;
    int count_ = 0;
    int whole_ = 0;
    bool said_ = false;
    std::vector<char> settled_;
};

result run_connection(const options& opt, int index, bool vanish, bool announce,
                      clock_type::time_point deadline, hold_barrier* barrier) {
    result r;
    std::uint64_t seed_state = opt.seed * 1000003ULL + static_cast<std::uint64_t>(index);
    std::uint64_t seed = splitmix64(seed_state);
    byte_stream to_send(seed);
    byte_stream to_expect(seed);
    std::vector<unsigned char> out(io_chunk_bytes);
    std::vector<unsigned char> in(io_chunk_bytes);
    std::vector<unsigned char> expected(io_chunk_bytes);
    std::size_t out_begin = 0;
    std::size_t out_end = 0;
    bool write_closed = false;

    const auto connect_started = clock_type::now();
    int fd = open_socket(opt, index);
    if (fd < 0 || !finish_connect(fd, opt, index, deadline)) {
        if (fd >= 0)
            ::close(fd);
        return r;
    }
    auto started = clock_type::now();

    auto fail = [&](const std::string& what) {
        report(index, what + " (sent " + std::to_string(r.sent) + ", received " +
                          std::to_string(r.received) + " of " + std::to_string(opt.bytes) +
                          " bytes)");
        ::close(fd);
        r.how = outcome::failed;
        return r;
    };

    for (;;) {
        // Half the bytes out, the tunnel proven by an echo: time to crash.
        if (vanish && r.sent >= opt.bytes / 2 && r.received > 0) {
            reset_and_close(fd);
            r.how = outcome::vanished;
            return r;
        }
        // Refill the outgoing chunk, within the rate allowed so far.
        int wait_ms = -1;
        if (out_begin == out_end && r.sent < opt.bytes) {
            std::uint64_t allowed = opt.bytes - r.sent;
            if (opt.rate > 0) {
                double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
                auto budget = static_cast<std::uint64_t>(elapsed * static_cast<double>(opt.rate));
                std::uint64_t sent_so_far = r.sent;
                allowed = budget > sent_so_far ? std::min(allowed, budget - sent_so_far) : 0;
                if (allowed == 0) {
                    // The next few KiB are due this many milliseconds from now.
                    std::uint64_t step = std::max<std::uint64_t>(opt.rate / 100, 1);
                    double due =
                        static_cast<double>(sent_so_far + step) / static_cast<double>(opt.rate);
                    wait_ms = std::max(1, static_cast<int>((due - elapsed) * 1000) + 1);
                }
            }
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(allowed, out.size()));
            to_send.fill(out.data(), n);
            out_begin = 0;
            out_end = n;
        }
        // Everything sent and echoed: end this direction, as a client done talking does. Not
        // sooner: squid ends a tunnel whose client half-closes, dropping the echo still on its way.
        if (out_begin == out_end && r.sent == opt.bytes && r.received == opt.bytes &&
            !write_closed) {
            if (opt.hold_ms > 0) {
                if (barrier) {
                    barrier->settle(index, true);
                    if (!barrier->wait(deadline, opt.hold_ms))
                        return fail("the other connections did not all finish their echo before "
                                    "the deadline (--timeout)");
                }
                if (auto why = hold_idle(fd, opt.hold_ms, deadline))
                    return fail(*why);
            }
            if (::shutdown(fd, SHUT_WR) != 0)
                return fail(errno_text("shutdown", errno));
            write_closed = true;
        }

        pollfd p{fd, POLLIN, 0};
        if (out_begin < out_end)
            p.events |= POLLOUT;
        int timeout = millis_until(deadline);
        if (timeout == 0)
            return fail("no progress before the deadline (--timeout)");
        if (wait_ms >= 0)
            timeout = std::min(timeout, wait_ms);
        int n = ::poll(&p, 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(errno_text("poll", errno));

        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            auto got = ::recv(fd, in.data(), in.size(), 0);
            if (got < 0 && errno != EAGAIN && errno != EINTR)
                return fail(errno_text("recv", errno));
            if (got == 0) {
                // The echo ended: it must have been whole, and come after our own end.
                if (r.received != opt.bytes)
                    return fail("EOF before the whole echo");
                if (!write_closed)
                    return fail("EOF before this side ended its sending direction");
                ::close(fd);
                r.how = outcome::ok;
                return r;
            }
            if (got > 0) {
                auto size = static_cast<std::size_t>(got);
                if (r.received + size > r.sent)
                    return fail("received " + std::to_string(r.received + size) +
                                " bytes, more than the " + std::to_string(r.sent) + " sent");
                to_expect.fill(expected.data(), size);
                if (std::memcmp(in.data(), expected.data(), size) != 0) {
                    std::size_t at = 0;
                    while (in[at] == expected[at])
                        ++at;
                    return fail("byte " + std::to_string(r.received + at) +
                                " of the echo differs from the byte sent");
                }
                if (r.received == 0) {
                    r.setup_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                     clock_type::now() - connect_started)
                                     .count();
                    if (announce)
                        note_first_echo(opt.connections);
                }
                r.received += size;
            }
        }
        if (out_begin < out_end && (p.revents & POLLOUT)) {
            auto put = ::send(fd, out.data() + out_begin, out_end - out_begin, MSG_NOSIGNAL);
            if (put < 0 && errno != EAGAIN && errno != EINTR)
                return fail(errno_text("send", errno));
            if (put > 0) {
                out_begin += static_cast<std::size_t>(put);
                r.sent += static_cast<std::uint64_t>(put);
            }
        }
    }
}

// Connection INDEX of N is among the K that vanish: K indexes spread evenly over 0..N-1.
// (i*K mod N takes each multiple of gcd(K, N) below N gcd times, so exactly K are below K.)
bool vanishes(int index, int n, int k) {
    return k > 0 && (static_cast<long long>(index) * k) % n < k;
}

// Write each connection's set-up time to FILE, and their percentiles to stdout. False when FILE
// cannot be written.
bool report_setup_times(const std::string& file, const std::vector<result>& results) {
    std::vector<std::int64_t> times;
    std::string lines;
    for (const auto& r : results) {
        if (r.setup_us < 0)
            continue;
        times.push_back(r.setup_us);
        lines += std::to_string(r.setup_us) + "\n";
    }
    std::FILE* out = std::fopen(file.c_str(), "w");
    bool written = out && std::fwrite(lines.data(), 1, lines.size(), out) == lines.size();
    if (out && std::fclose(out) != 0)
        written = false;
    if (!written) {
        std::fprintf(stderr, "echo_client: cannot write %s: %s\n", file.c_str(),
                     std::strerror(errno));
        return false;
    }
    if (times.empty()) {
        std::printf("echo_client: set-up (connect to first echoed byte): no connection echoed\n");
        return true;
    }
    std::sort(times.begin(), times.end());
    // Nearest rank: the smallest time that at least P percent of the connections do not exceed.
    auto rank = [&](int percent) {
        auto n = (times.size() * static_cast<std::size_t>(percent) + 99) / 100;
        return static_cast<double>(times[std::max<std::size_t>(n, 1) - 1]) / 1000.0;
    };
    std::printf(
        "echo_client: set-up (connect to first echoed byte) of %zu connections: p50 %.3f ms, "
        "p99 %.3f ms, max %.3f ms\n",
        times.size(), rank(50), rank(99), static_cast<double>(times.back()) / 1000.0);
    return true;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

void usage() {
    std::fprintf(stderr,
                 "usage: echo_client (--port P [--host ADDR] | --unix PATH) [--connections N]\n"
                 "                   [--bytes B] [--sequential] [--vanish K]\n"
                 "                   [--rate BYTES_PER_SECOND] [--seed S] [--timeout SEC]\n"
                 "                   [--hold-ms MS] [--setup-times FILE]\n");
}

std::optional<options> parse(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--sequential") {
            opt.sequential = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "echo_client: %s needs a value\n", argv[i]);
            return std::nullopt;
        }
        std::string_view value = argv[++i];
        bool ok = true;
        if (arg == "--host")
            opt.host = value;
        else if (arg == "--unix")
            opt.unix_path = value;
        else if (arg == "--port")
            ok = parse_number(value, opt.port) && opt.port > 0 && opt.port < 65536;
        else if (arg == "--connections")
            ok = parse_number(value, opt.connections) && opt.connections > 0 &&
                 opt.connections <= max_connections;
        else if (arg == "--bytes")
            ok = parse_number(value, opt.bytes);
        else if (arg == "--vanish")
            ok = parse_number(value, opt.vanish) && opt.vanish >= 0;
        else if (arg == "--rate")
            ok = parse_number(value, opt.rate);
        else if (arg == "--seed")
            ok = parse_number(value, opt.seed);
        else if (arg == "--timeout")
            ok = parse_number(value, opt.timeout_seconds) && opt.timeout_seconds > 0;
        else if (arg == "--hold-ms")
            ok = parse_number(value, opt.hold_ms) && opt.hold_ms >= 0;
        else if (arg == "--setup-times")
            ok = !(opt.setup_times = value).empty();
        else {
            std::fprintf(stderr, "echo_client: unknown option %s\n", argv[i - 1]);
            return std::nullopt;
        }
        if (!ok) {
            std::fprintf(stderr, "echo_client: bad value for %s: %s\n", argv[i - 1], argv[i]);
            return std::nullopt;
        }
    }
    if (opt.unix_path.empty() == (opt.port == 0)) {
        std::fprintf(stderr, "echo_client: give either --port or --unix\n");
        return std::nullopt;
    }
    if (opt.vanish > opt.connections) {
        std::fprintf(stderr, "echo_client: --vanish %d is more than --connections %d\n", opt.vanish,
                     opt.connections);
        return std::nullopt;
    }
    if (opt.vanish > 0 && opt.bytes < 2) {
        std::fprintf(stderr, "echo_client: --vanish needs --bytes of 2 or more\n");
        return std::nullopt;
    }
    return opt;
}

} // namespace

int main(int argc, char** argv) {
    auto parsed = parse(argc, argv);
    if (!parsed) {
        usage();
        return 2;
    }
    const options opt = *parsed;
    std::signal(SIGPIPE, SIG_IGN);

    auto started = clock_type::now();
    auto deadline = started + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(opt.timeout_seconds));
    std::vector<result> results(static_cast<std::size_t>(opt.connections));
    if (opt.sequential) {
        for (int i = 0; i < opt.connections; ++i)
            results[static_cast<std::size_t>(i)] = run_connection(
                opt, i, vanishes(i, opt.connections, opt.vanish), false, deadline, nullptr);
    } else {
        hold_barrier barrier(opt.connections);
        std::vector<std::thread> threads;
        threads.reserve(results.size());
        for (int i = 0; i < opt.connections; ++i)
            threads.emplace_back([&, i] {
                results[static_cast<std::size_t>(i)] =
                    run_connection(opt, i, vanishes(i, opt.connections, opt.vanish), true, deadline,
                                   opt.hold_ms > 0 ? &barrier : nullptr);
                // Ended without its whole echo: the others need not wait for it.
                barrier.settle(i, false);
            });
        for (auto& t : threads)
            t.join();
    }
    double seconds = std::chrono::duration<double>(clock_type::now() - started).count();

    int ok = 0;
    int failed = 0;
    int vanished = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    for (const auto& r : results) {
        ok += r.how == outcome::ok;
        failed += r.how == outcome::failed;
        vanished += r.how == outcome::vanished;
        sent += r.sent;
        received += r.received;
    }
    const bool times_written =
        opt.setup_times.empty() || report_setup_times(opt.setup_times, results);
    std::printf("echo_client: %d connections (%s, %llu bytes each): %d ok, %d failed, %d vanished "
                "as asked; %llu bytes sent, %llu bytes received and checked; %.2f s\n",
                opt.connections, opt.sequential ? "one after another" : "at once",
                static_cast<unsigned long long>(opt.bytes), ok, failed, vanished,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
                seconds);
    std::fflush(stdout);
    return failed == 0 && times_written ? 0 : 1;
}
