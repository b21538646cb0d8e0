#include "relay_fd.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <memory>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace corkscrew {

namespace {

using clock = std::chrono::steady_clock;

// The signals that end the run (app.cpp's signal set). They are held back while the loop works
// and let through only inside its wait, so one that comes during a read or a write still
// interrupts the next wait instead of being noticed at the next packet (the pselect pattern).
constexpr std::array stop_signals{SIGHUP, SIGTERM, SIGINT};

// A splice that moves less than this means the traffic has turned interactive, where read/write
// costs less per round trip; a read that fills the whole buffer (relay_buffer_bytes) turns a
// direction to splice. The gap between the two keeps a transfer from switching back and forth.
constexpr std::size_t interactive_bytes = 16 * 1024;

// After an interrupted wait, how many turns the event loop gets to run the signal's handler,
// which closes the streams; another signal interrupting the wait changes nothing.
constexpr int signal_turns = 3;

// What the loop can do with a descriptor.
enum class kind {
    pollable,     // a pipe or a socket: waited for
    always_ready, // a regular file or /dev/null: never blocks, never waited for
    unsuited,     // a terminal (a read returns one line of several), anything else
};

kind kind_of(int fd) {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0)
        return kind::unsuited;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return kind::pollable;
    if (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
        return kind::always_ready;
    return kind::unsuited;
}

bool is_pipe(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// Bytes waiting to be read from a pipe or a socket.
int waiting(int fd) {
    int n = 0;
    return ::ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

class descriptor_set {
public:
    descriptor_set() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {}
    ~descriptor_set() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    descriptor_set(const descriptor_set&) = delete;
    descriptor_set& operator=(const descriptor_set&) = delete;

    bool add(int fd, std::uint32_t events, std::uint32_t tag) {
        epoll_event e{};
        e.events = events | EPOLLET;
        e.data.u32 = tag;
        return fd_ >= 0 && ::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &e) == 0;
    }
    void remove(int fd) {
        epoll_event ignored{};
        ::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, &ignored);
    }
    int wait(epoll_event* events, int size, int timeout_ms, const sigset_t* mask) {
        return ::epoll_pwait(fd_, events, size, timeout_ms, mask);
    }

private:
    int fd_;
};

// Holds the stop signals back for the life of the object; `during_wait` lets them through.
class held_signals {
public:
    held_signals() {
        sigset_t held;
        sigemptyset(&held);
        for (int s : stop_signals)
            sigaddset(&held, s);
        ::pthread_sigmask(SIG_BLOCK, &held, &before_);
        during_wait = before_;
        for (int s : stop_signals)
            sigdelset(&during_wait, s);
    }
    ~held_signals() { ::pthread_sigmask(SIG_SETMASK, &before_, nullptr); }
    held_signals(const held_signals&) = delete;
    held_signals& operator=(const held_signals&) = delete;

    sigset_t during_wait;

private:
    sigset_t before_;
};

// One direction: bytes from `from` to `to`, through a buffer of ours or by splice.
struct flow {
    flow(int from_fd, int to_fd, bool splice_ok, bool splice_forced, std::uint64_t& counter)
        : from(from_fd), to(to_fd), can_splice(splice_ok), splice_always(splice_forced),
          count(counter) {}

    int from;
    int to;
    // Regular files and /dev/null: never waited for, so never marked blocked.
    bool from_polled = true, to_polled = true;
    bool can_splice;    // a pipe on one side
    bool splice_always; // CORKSCREW_RELAY=splice
    std::uint64_t& count;
    // What the descriptors were last known to be; edge-triggered, so true until EAGAIN.
    bool readable = true;
    bool writable = true;
    bool hung_up = false; // the input reported its end or an error (its EOF may be pending)
    std::unique_ptr<char[]> buffer;
    std::size_t size = 0; // of the buffer
    std::size_t head = 0, tail = 0;
    bool splicing = false;
    bool at_eof = false;
    bool used_copy = false, used_splice = false;

    enum class step { blocked, moved, finished, read_failed, write_failed };

    // Does one system call's worth of work, if any can be done now.
    step advance(clock::time_point& activity, int& error) {
        if (head < tail)
            return write_pending(activity, error);
        if (at_eof)
            return step::finished;
        if (!readable)
            return step::blocked;
        if (splicing)
            return splice_some(activity, error);
        auto n = ::read(from, buffer.get(), size);
        if (n > 0) {
            used_copy = true;
            activity = clock::now();
            head = 0;
            tail = static_cast<std::size_t>(n);
            if (tail < size)
                // A pipe or socket read returns all that was there: the next byte comes with a
                // new edge. Not so the end: a hang-up already reported stays pending, with no
                // edge to come, so then the next read must go and find it.
                readable = hung_up || !from_polled;
            else if (can_splice)
                // A full buffer: bulk data, which splice moves without copying it twice.
                splicing = true;
            return step::moved;
        }
        if (n == 0) {
            at_eof = true;
            return step::finished;
        }
        return failed_read(error);
    }

    step write_pending(clock::time_point& activity, int& error) {
        if (!writable)
            return step::blocked;
        auto n = ::write(to, buffer.get() + head, tail - head);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                writable = errno == EINTR || !to_polled;
                return errno == EINTR ? step::moved : step::blocked;
            }
            error = errno;
            return step::write_failed;
        }
        activity = clock::now();
        count += static_cast<std::uint64_t>(n);
        head += static_cast<std::size_t>(n);
        if (head < tail)
            writable = !to_polled; // a partial write: the output is full
        else
            head = tail = 0;
        return step::moved;
    }

    step splice_some(clock::time_point& activity, int& error) {
        if (!writable)
            return step::blocked;
        auto n = ::splice(from, nullptr, to, nullptr, relay_pipe_bytes,
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            // Even a short move says nothing sure about which side stopped it: the next call
            // tells.
            used_splice = true;
            activity = clock::now();
            count += static_cast<std::uint64_t>(n);
            if (static_cast<std::size_t>(n) < interactive_bytes)
                splicing = splice_always;
            return step::moved;
        }
        if (n == 0) {
            at_eof = true;
            return step::finished;
        }
        if (errno == EINTR)
            return step::moved;
        if (errno == EAGAIN) {
            blocked_side();
            return step::blocked;
        }
        // splice names the failing side only through the error: EPIPE and ECONNRESET on the
        // way out, anything else taken as the reading side's.
        error = errno;
        return errno == EPIPE || (errno == ECONNRESET && is_pipe(from)) ? step::write_failed
                                                                        : step::read_failed;
    }

    // After a refused splice: the input ran dry, or the output is full. What waits in the input
    // tells which (bytes that arrive meanwhile bring an event, which makes both sides worth
    // trying again).
    void blocked_side() {
        if (waiting(from) > 0)
            writable = !to_polled;
        else
            readable = !from_polled;
    }

    step failed_read(int& error) {
        if (errno == EAGAIN) {
            readable = !from_polled;
            return step::blocked;
        }
        if (errno == EINTR)
            return step::moved;
        error = errno;
        return step::read_failed;
    }

    const char* how() const {
        return used_copy && used_splice ? "read/write and splice"
               : used_splice            ? "splice"
                                        : "read/write";
    }
};

enum tag : std::uint32_t { stdin_tag, stdout_tag, tunnel_tag };

// Gives the event loop turns to run a stop signal's handler, which closes the streams; stops
// early once the tunnel is closed.
net::awaitable<void> let_signal_handler_run(byte_stream& tunnel) {
    net::steady_timer turn(co_await net::this_coro::executor);
    for (int i = 0; i < signal_turns && tunnel.native_handle() >= 0; ++i) {
        turn.expires_after(std::chrono::milliseconds(0));
        error_code ignored;
        co_await turn.async_wait(use_awaitable_ec(ignored));
    }
}

} // namespace

net::awaitable<std::optional<relay_outcome>>
relay_descriptors(byte_stream& local_in, byte_stream& local_out, byte_stream& tunnel,
                  std::string& leftover, const relay_options& options) {
    const int in = local_in.native_handle(), out = local_out.native_handle(),
              sock = tunnel.native_handle();
    const kind in_kind = kind_of(in), out_kind = kind_of(out);
    if (options.path == relay_path::copy || in_kind == kind::unsuited ||
        out_kind == kind::unsuited || kind_of(sock) != kind::pollable)
        co_return std::nullopt;
    descriptor_set events;
    if ((in_kind == kind::pollable && !events.add(in, EPOLLIN, stdin_tag)) ||
        (out_kind == kind::pollable && !events.add(out, EPOLLOUT, stdout_tag)) ||
        !events.add(sock, EPOLLIN | EPOLLOUT | EPOLLRDHUP, tunnel_tag))
        co_return std::nullopt;
    for (int fd : {in, out, sock})
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

    relay_outcome outcome;
    const bool splice_always = options.path == relay_path::splice;
    flow up{in, sock, is_pipe(in), splice_always, outcome.sent};
    flow down{sock, out, is_pipe(out), splice_always, outcome.received};
    up.from_polled = in_kind == kind::pollable;
    down.to_polled = out_kind == kind::pollable;
    for (flow* f : {&up, &down}) {
        f->size = std::max(relay_buffer_bytes, f == &down ? leftover.size() : 0);
        // Not zeroed: only the pages reads fill count towards the memory the process holds.
        f->buffer = std::make_unique_for_overwrite<char[]>(f->size);
        f->splicing = f->can_splice && splice_always;
    }
    // The tunnel's bytes that came with the proxy's answer go out first.
    std::copy(leftover.begin(), leftover.end(), down.buffer.get());
    down.tail = leftover.size();
    leftover.clear();

    auto activity = clock::now();
    held_signals signals;
    // A stop signal that came before they were held (during the set-up's last steps, or a
    // parent's death at that moment) has its handler waiting in the event loop, which the loop
    // below never runs: let it run now, or that signal would be lost.
    co_await let_signal_handler_run(tunnel);
    bool up_done = tunnel.native_handle() < 0, down_done = up_done;
    auto failure_of = [&](const char* what, int error) {
        return fail(failure::relay_io,
                    options.tunnel_name + ": " + what + ": " +
                        error_code(error, boost::system::system_category()).message());
    };
    // Ends both directions: an error, the idle timeout, or stdout's reader gone.
    auto stop = [&](std::optional<error> why) {
        if (why && !outcome.failure)
            outcome.failure = std::move(why);
        local_in.close();
        local_out.close();
        tunnel.close();
        up_done = down_done = true;
    };

    while (!up_done || !down_done) {
        bool moved = false;
        int error = 0;
        if (!up_done) {
            switch (up.advance(activity, error)) {
            case flow::step::moved:
                moved = true;
                break;
            case flow::step::finished:
                // stdin is done: tell the far end, and keep reading its answer.
                up_done = true;
                moved = true;
                co_await tunnel.shutdown_send();
                break;
            case flow::step::read_failed:
                stop(failure_of(("reading " + options.local_in_name).c_str(), error));
                continue;
            case flow::step::write_failed:
                // The far end reset the tunnel. What it sent before is still queued here, and
                // reaches stdout before the failure is told: end the upload only, and let the
                // download read to the tunnel's end (the reset's error went to this write).
                if (!outcome.failure)
                    outcome.failure = failure_of("sending", error);
                up_done = true;
                if (up.from_polled)
                    events.remove(in);
                local_in.close();
                continue;
            case flow::step::blocked:
                break;
            }
        }
        if (!down_done) {
            switch (down.advance(activity, error)) {
            case flow::step::moved:
                moved = true;
                break;
            case flow::step::finished:
                // The tunnel is done: stdout's reader sees EOF now, not when stdin ends.
                down_done = true;
                moved = true;
                outcome.tunnel_ended = true;
                if (down.to_polled)
                    events.remove(out);
                co_await local_out.shutdown_send();
                break;
            case flow::step::read_failed:
                stop(failure_of("receiving", error));
                continue;
            case flow::step::write_failed:
                // The reader of stdout went away: nothing more can be delivered, and the writer
                // of stdin is almost always the same program (ssh), gone too.
                stop(error == EPIPE ? std::nullopt
                                    : std::optional<corkscrew::error>(failure_of(
                                          ("writing " + options.local_out_name).c_str(), error)));
                continue;
            case flow::step::blocked:
                break;
            }
        }
        if (moved)
            continue;

        // Nothing can move: wait for a descriptor, the idle timeout or a signal.
        int timeout_ms = -1;
        if (options.idle_timeout) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(
                activity + *options.idle_timeout - clock::now());
            if (left.count() <= 0) {
                outcome.idle_expired = true;
                stop(std::nullopt);
                continue;
            }
            timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1 << 30));
        }
        std::array<epoll_event, 4> ready{};
        int n = events.wait(ready.data(), static_cast<int>(ready.size()), timeout_ms,
                            &signals.during_wait);
        if (n < 0 && errno == EINTR) {
            // A stop signal: its handler runs in the event loop, and closes the streams.
            co_await let_signal_handler_run(tunnel);
            if (tunnel.native_handle() < 0)
                up_done = down_done = true;
            continue;
        }
        bool reader_gone = false;
        for (int i = 0; i < n; ++i) {
            const auto e = ready[static_cast<std::size_t>(i)];
            // New input makes both sides of its direction worth trying again: a guess that the
            // output was full may have been overtaken by these bytes. Room in the output says
            // nothing about the input.
            const auto tag = e.data.u32;
            const bool ended = e.events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP);
            if (tag == stdin_tag)
                up.readable = up.writable = true;
            if (tag == tunnel_tag && (ended || (e.events & EPOLLOUT)))
                up.writable = true;
            if (tag == tunnel_tag && (ended || (e.events & EPOLLIN)))
                down.readable = down.writable = true;
            if (tag == stdout_tag)
                down.writable = true;
            if (tag == stdin_tag && ended)
                up.hung_up = true;
            if (tag == tunnel_tag && ended)
                down.hung_up = true;
            // The reader of stdout closed its end: nothing can be delivered any more, however
            // quiet the tunnel is, and a relay left waiting would be a stray process (a gateway
            // relay whose ssh session is gone). Ends the run as a failed write would.
            if (tag == stdout_tag && (e.events & (EPOLLERR | EPOLLHUP)))
                reader_gone = true;
        }
        if (reader_gone && !down_done)
            stop(std::nullopt);
    }
    outcome.sent_by = up.how();
    outcome.received_by = down.how();
    co_return outcome;
}

} // namespace corkscrew
