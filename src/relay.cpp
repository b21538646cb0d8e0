#include "relay.hpp"

#include "compress.hpp"
#include "platform.hpp"
#include "relay_fd.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <vector>

#include <fcntl.h>

namespace corkscrew {

namespace {

using clock = std::chrono::steady_clock;

struct relay_state {
    byte_stream& local_in;
    byte_stream& local_out;
    byte_stream& tunnel;
    const relay_options& options;
    net::steady_timer idle_timer;
    relay_outcome outcome;
    clock::time_point last_activity = clock::now();
    bool stopping = false;
    int directions_running = 2;

    // Called as each direction ends; after the second, the idle watch has nothing to watch.
    void direction_done() {
        if (--directions_running == 0)
            idle_timer.cancel();
    }

    // Ends both directions at once: an error on the tunnel, or the idle timeout.
    void stop(std::optional<error> why) {
        if (why && !outcome.failure)
            outcome.failure = std::move(why);
        if (stopping)
            return;
        stopping = true;
        local_in.close();
        tunnel.close();
        local_out.close();
    }

    error io_failure(const char* what, const error_code& ec) const {
        const auto kind =
            ec.category() == compress_category() ? failure::compression : failure::relay_io;
        return fail(kind, options.tunnel_name + ": " + what + ": " + ec.message());
    }
};

// How moving bytes in one direction ended.
struct moved {
    enum { eof, read_failed, write_failed } how;
    error_code ec;
};

// Moves bytes through a buffer of ours: works for every kind of stream.
net::awaitable<moved> copy_bytes(relay_state& s, byte_stream& from, byte_stream& to,
                                 std::uint64_t& count) {
    // Not zeroed: only the pages reads fill count towards the memory the process holds.
    const std::size_t size = s.options.buffer_bytes;
    auto buffer = std::make_unique_for_overwrite<char[]>(size);
    for (;;) {
        auto r = co_await from.read_some(net::buffer(buffer.get(), size));
        if (r.ec == net::error::eof)
            co_return moved{moved::eof, {}};
        if (r.ec)
            co_return moved{moved::read_failed, r.ec};
        s.last_activity = clock::now();
        auto w = co_await to.write_all(net::buffer(buffer.get(), r.bytes));
        count += w.bytes;
        if (w.ec)
            co_return moved{moved::write_failed, w.ec};
    }
}

// stdin -> tunnel, then half-close the tunnel.
net::awaitable<void> copy_up(relay_state& s) {
    auto m = co_await copy_bytes(s, s.local_in, s.tunnel, s.outcome.sent);
    if (s.stopping)
        co_return;
    if (m.how == moved::read_failed)
        s.stop(s.io_failure(("reading " + s.options.local_in_name).c_str(), m.ec));
    else if (m.how == moved::write_failed) {
        // The far end reset the tunnel. What it sent before is still queued here, and reaches
        // stdout before the failure is told: end the upload only, and let the download read to
        // the tunnel's end (the reset's error went to this write).
        if (!s.outcome.failure)
            s.outcome.failure = s.io_failure("sending", m.ec);
        s.local_in.close();
    } else
        // stdin is done: tell the far end, and keep reading its answer.
        co_await s.tunnel.shutdown_send();
}

// tunnel -> stdout (leftover first), then close stdout.
net::awaitable<void> copy_down(relay_state& s, std::string leftover) {
    moved m{moved::eof, {}};
    if (!leftover.empty()) {
        auto w = co_await s.local_out.write_all(net::buffer(leftover));
        s.outcome.received += w.bytes;
        if (w.ec)
            m = {moved::write_failed, w.ec};
        leftover = {};
    }
    s.last_activity = clock::now();
    if (m.how == moved::eof)
        m = co_await copy_bytes(s, s.tunnel, s.local_out, s.outcome.received);
    if (s.stopping)
        co_return;
    if (m.how == moved::read_failed) {
        s.stop(s.io_failure("receiving", m.ec));
    } else if (m.how == moved::write_failed) {
        // The reader of stdout went away (EPIPE): nothing more can be delivered, and the writer
        // of stdin is almost always the same program (ssh), gone too. Waiting for stdin to end
        // could wait for ever while the far end blocks on a full window.
        if (m.ec == net::error::broken_pipe)
            s.stop(std::nullopt);
        else
            s.stop(s.io_failure(("writing " + s.options.local_out_name).c_str(), m.ec));
    } else {
        s.outcome.tunnel_ended = true;
        // The tunnel is done: stdout's reader sees EOF now, not when stdin ends.
        co_await s.local_out.shutdown_send();
    }
}

net::awaitable<void> upload(relay_state& s) {
    co_await copy_up(s);
    s.direction_done();
}

net::awaitable<void> download(relay_state& s, std::string leftover) {
    co_await copy_down(s, std::move(leftover));
    s.direction_done();
}

// Ends the relay once nothing has moved either way for the idle timeout.
net::awaitable<void> watch_idle(relay_state& s) {
    if (!s.options.idle_timeout)
        co_return;
    auto limit = *s.options.idle_timeout;
    auto& timer = s.idle_timer;
    while (!s.stopping && s.directions_running > 0) {
        timer.expires_at(s.last_activity + limit);
        error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec == net::error::operation_aborted)
            co_return;
        if (clock::now() >= s.last_activity + limit) {
            s.outcome.idle_expired = true;
            s.stop(std::nullopt);
        }
    }
}

// Runs the coroutines concurrently and resumes when all have finished. (Boost 1.74 has no
// awaitable operator&&, so this waits on a timer that the last one to finish cancels.)
net::awaitable<void> run_all(std::vector<net::awaitable<void>> tasks) {
    auto executor = co_await net::this_coro::executor;
    net::steady_timer all_done(executor, net::steady_timer::time_point::max());
    auto running = tasks.size();
    std::exception_ptr first_exception;
    auto finished = [&](std::exception_ptr e) {
        if (e && !first_exception)
            first_exception = e;
        if (--running == 0)
            all_done.cancel();
    };
    for (auto& task : tasks)
        net::co_spawn(executor, std::move(task), finished);
    if (running > 0) {
        error_code ignored;
        co_await all_done.async_wait(net::redirect_error(net::use_awaitable, ignored));
    }
    if (first_exception)
        std::rethrow_exception(first_exception);
}

} // namespace

net::awaitable<relay_outcome> relay(byte_stream& local_in, byte_stream& local_out,
                                    byte_stream& tunnel, std::string leftover,
                                    const relay_options& options) {
    auto executor = co_await net::this_coro::executor;
    relay_state s{local_in, local_out, tunnel, options, net::steady_timer(executor), {}};
    // Larger pipes: more bytes per wake-up on both paths. Refusal (a lower system limit, or no
    // pipe at all) is fine.
    for (int fd : {local_in.native_handle(), local_out.native_handle()})
        if (fd >= 0)
            enlarge_pipe(fd, relay_pipe_bytes);
#if CORKSCREW_LINUX
    if (auto fast = co_await relay_descriptors(local_in, local_out, tunnel, leftover, options))
        co_return std::move(*fast);
#endif
    std::vector<net::awaitable<void>> tasks;
    tasks.push_back(upload(s));
    tasks.push_back(download(s, std::move(leftover)));
    tasks.push_back(watch_idle(s));
    co_await run_all(std::move(tasks));
    co_return s.outcome;
}

} // namespace corkscrew
