#include "resolve.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstring>
#include <mutex>
#include <netdb.h>
#include <thread>

namespace corkscrew {

namespace {

using tcp = net::ip::tcp;

struct lookup_result {
    int status = 0; // a getaddrinfo error code, 0 on success
    std::vector<tcp::endpoint> endpoints;
};

lookup_result lookup_now(const std::string& host, std::uint16_t port, ip_family family, int flags) {
    addrinfo hints{};
    hints.ai_family = family == ip_family::v4   ? AF_INET
                      : family == ip_family::v6 ? AF_INET6
                                                : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    lookup_result r;
    r.status = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
    for (auto* ai = list; r.status == 0 && ai; ai = ai->ai_next) {
        tcp::endpoint e;
        if (ai->ai_addrlen > e.capacity())
            continue;
        std::memcpy(e.data(), ai->ai_addr, ai->ai_addrlen);
        e.resize(ai->ai_addrlen);
        r.endpoints.push_back(e);
    }
    if (list)
        ::freeaddrinfo(list);
    return r;
}

std::string describe(const lookup_result& r) {
    if (r.status == 0)
        return "no address";
    if (r.status == EAI_SYSTEM)
        return std::strerror(errno);
    return ::gai_strerror(r.status);
}

} // namespace

// What the lookup thread and the waiting coroutine share. The thread touches only `mutex` and
// `abandoned`; the rest is used on the I/O thread alone. It holds no Asio object, as the thread
// may let go of it after the I/O context is gone.
struct resolver::lookup {
    std::mutex mutex;
    bool abandoned = false;
    bool finished = false;
    lookup_result answer;
    net::steady_timer* done = nullptr; // cancelled when the answer is in
};

net::awaitable<result<std::vector<tcp::endpoint>>>
resolver::resolve(const std::string& host, std::uint16_t port, ip_family family) {
    // An IP literal needs no lookup: no thread, no delay.
    auto literal = lookup_now(host, port, family, AI_NUMERICHOST);
    if (literal.status == 0)
        co_return std::move(literal.endpoints);
    if (literal.status != EAI_NONAME)
        co_return fail(failure::proxy_unreachable, describe(literal));

    net::steady_timer done(executor_, net::steady_timer::time_point::max());
    auto state = std::make_shared<lookup>();
    state->done = &done;
    pending_ = state;
    auto executor = executor_;
    std::thread([state, executor, host, port, family] {
        auto answer = lookup_now(host, port, family, 0);
        std::lock_guard lock(state->mutex);
        if (state->abandoned)
            return;
        net::post(executor, [state, answer = std::move(answer)]() mutable {
            if (state->abandoned)
                return;
            state->answer = std::move(answer);
            state->finished = true;
            state->done->cancel();
        });
    }).detach();

    error_code ignored;
    co_await done.async_wait(use_awaitable_ec(ignored));
    pending_.reset();
    if (!state->finished)
        co_return fail(failure::proxy_unreachable,
                       error_code(net::error::operation_aborted).message());
    if (state->answer.status != 0 || state->answer.endpoints.empty())
        co_return fail(failure::proxy_unreachable, describe(state->answer));
    co_return std::move(state->answer.endpoints);
}

void resolver::cancel() {
    if (!pending_)
        return;
    auto state = std::move(pending_);
    std::lock_guard lock(state->mutex);
    state->abandoned = true;
    state->done->cancel();
}

} // namespace corkscrew
