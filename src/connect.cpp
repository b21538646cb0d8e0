#include "connect.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <memory>

namespace corkscrew {

using tcp = net::ip::tcp;

std::vector<tcp_endpoint> interleave_families(const std::vector<tcp_endpoint>& addresses) {
    if (addresses.empty())
        return {};
    const bool first_v6 = addresses.front().address().is_v6();
    std::vector<tcp_endpoint> same, other, out;
    for (const auto& a : addresses)
        (a.address().is_v6() == first_v6 ? same : other).push_back(a);
    for (std::size_t i = 0; i < same.size() || i < other.size(); ++i) {
        if (i < same.size())
            out.push_back(same[i]);
        if (i < other.size())
            out.push_back(other[i]);
    }
    return out;
}

namespace {

// The attempts of one connect_first() call, shared with the coroutines running them: an
// attempt may finish after connect_first() has returned (it is closed then, and ends at once).
struct race {
    explicit race(const net::any_io_executor& executor) : wake(executor) {}

    std::vector<std::unique_ptr<tcp::socket>> sockets;
    net::steady_timer wake; // cancelled whenever an attempt ends
    std::optional<std::size_t> winner;
    error_code last_error = net::error::host_not_found;
    tcp_endpoint last_tried;
    int running = 0;
    bool over = false;

    void close_all() {
        for (auto& s : sockets) {
            error_code ignored;
            s->close(ignored);
        }
        wake.cancel();
    }
};

net::awaitable<void> attempt(std::shared_ptr<race> r, std::size_t index, tcp_endpoint to) {
    error_code ec;
    co_await r->sockets[index]->async_connect(to, use_awaitable_ec(ec));
    --r->running;
    if (r->over)
        co_return;
    if (!ec && !r->winner)
        r->winner = index;
    else if (ec)
        r->last_error = ec;
    r->wake.cancel();
}

} // namespace

net::awaitable<connect_result>
connect_first(const std::vector<tcp_endpoint>& addresses, std::chrono::milliseconds delay,
              const std::function<void(const tcp_endpoint&)>& on_attempt,
              std::function<void()>& abort) {
    auto executor = co_await net::this_coro::executor;
    auto r = std::make_shared<race>(executor);
    bool aborted = false;
    abort = [r, &aborted] {
        aborted = true;
        r->close_all();
    };
    std::size_t next = 0;
    while (!aborted && !r->winner && (next < addresses.size() || r->running > 0)) {
        if (next < addresses.size()) {
            // Start the next address beside those still trying.
            const auto& to = addresses[next];
            on_attempt(to);
            r->last_tried = to;
            r->sockets.push_back(std::make_unique<tcp::socket>(executor));
            ++r->running;
            net::co_spawn(executor, attempt(r, next, to), net::detached);
            ++next;
        }
        // Wait for an attempt to end, or (while addresses are left) for the delay.
        if (next < addresses.size())
            r->wake.expires_after(delay);
        else
            r->wake.expires_at(net::steady_timer::time_point::max());
        error_code ignored;
        co_await r->wake.async_wait(use_awaitable_ec(ignored));
        // An attempt that failed before the delay lets the next one start at once; the loop
        // starts one per pass, so a failure and the delay never start two.
    }
    abort = nullptr;
    r->over = true;
    connect_result out;
    if (r->winner && !aborted) {
        out.socket = std::move(*r->sockets[*r->winner]);
        out.endpoint = addresses[*r->winner];
        r->sockets.erase(r->sockets.begin() + static_cast<std::ptrdiff_t>(*r->winner));
    } else {
        out.ec = aborted ? net::error::operation_aborted : r->last_error;
        out.endpoint = r->last_tried;
    }
    r->close_all();
    co_return out;
}

} // namespace corkscrew
