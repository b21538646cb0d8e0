#include "app.hpp"

#include "connect.hpp"
#include "fdpass.hpp"
#include "jump.hpp"
#include "relay.hpp"
#include "resolve.hpp"
#include "tls.hpp"
#include "tunnel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <functional>
#include <sys/prctl.h>
#include <unistd.h>

namespace corkscrew {

namespace {

using tcp = net::ip::tcp;

std::string seconds_text(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms % 1000 == 0)
        return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

class session {
public:
    session(const config& settings, const logger& log) : cfg_(settings), log_(log) {}

    int run() {
        if (cfg_.gateway_relay)
            follow_parent();
        signals_.async_wait([this](const error_code& ec, int signo) {
            if (ec)
                return;
            // ssh ends a ProxyCommand with SIGHUP and does not wait: stop at once. Closing what is
            // in use ends every pending operation, so all unwinds in order, now; the set-up checks
            // stopping() before each new step. A second signal gets the default action.
            signal_ = signo;
            error_code ignored;
            signals_.clear(ignored);
            log_.info("ended by signal " + std::to_string(signo));
            abort_current();
        });
        net::co_spawn(io_, main_task(), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log_.error(std::string("internal error: ") + ex.what());
                }
                status_ = exit_status(failure::internal);
            }
            error_code ignored;
            signals_.cancel(ignored);
        });
        io_.run();
        if (signal_)
            return signal_exit_status(signal_);
        return status_;
    }

private:
    // A relay on a gateway runs under the sshd session that started it: when that session ends
    // (the client was killed, the network went), the kernel sends SIGHUP, which ends the run as
    // ssh's own SIGHUP does. A parent already gone before this is the same.
    static void follow_parent() {
        const pid_t parent = ::getppid();
        ::prctl(PR_SET_PDEATHSIG, SIGHUP);
        if (::getppid() != parent)
            ::raise(SIGHUP);
    }

    net::awaitable<void> main_task() {
        if (cfg_.fdpass) {
            // Checked before the proxy is asked for anything, so that a wrong set-up costs
            // nobody a tunnel.
            if (auto why = why_cannot_carry_fds(STDOUT_FILENO)) {
                report(fail(failure::usage,
                            "--fdpass hands the tunnel's socket to ssh over stdout, which must "
                            "then be a Unix socket (ssh gives one with ProxyUseFdpass yes); "
                            "stdout is " +
                                *why));
                co_return;
            }
        }
        start_deadline();
        auto up = co_await set_up_route();
        setup_done_ = true;
        deadline_.cancel();
        abort_ = nullptr;
        if (!up) {
            report(up.err());
            co_return;
        }
        if (cfg_.fdpass) {
            hand_over(*up);
            co_return;
        }

        auto executor = co_await net::this_coro::executor;
        auto in = make_stdio_stream(executor, STDIN_FILENO);
        auto out = make_stdio_stream(executor, STDOUT_FILENO);
        abort_ = [&] {
            in->close();
            out->close();
            up->stream->close();
        };
        relay_options options{cfg_.idle_timeout, tunnel_name(), cfg_.relay};
        log_.info("tunnel established; relaying" +
                  (up->leftover.empty() ? std::string()
                                        : " (" + std::to_string(up->leftover.size()) +
                                              " bytes arrived with the proxy's answer)"));
        auto outcome = co_await relay(*in, *out, *up->stream, std::move(up->leftover), options);
        abort_ = nullptr;
        log_.info("relay ended: " + std::to_string(outcome.sent) + " bytes sent (" +
                  outcome.sent_by + "), " + std::to_string(outcome.received) + " bytes received (" +
                  outcome.received_by + ")" +
                  (outcome.idle_expired ? "; idle for " + seconds_text(*cfg_.idle_timeout)
                                        : std::string()));
        if (outcome.failure)
            report(*outcome.failure);
        else if (outcome.received == 0 && outcome.tunnel_ended && !signal_)
            // A proxy that closes right after its 2xx looks to ssh like a server that hung up;
            // say where it happened.
            log_.warn("warning: " + tunnel_name() + " closed before any data arrived");
    }

    // Gives the tunnel's socket to ssh: from here on ssh and the proxy talk directly.
    void hand_over(tunnel& up) {
        if (!up.leftover.empty()) {
            report(fail(failure::internal, "the first " + std::to_string(up.leftover.size()) +
                                               " bytes of " + tunnel_name() +
                                               " were read with the proxy's answer; ssh would "
                                               "never get them"));
            return;
        }
        int socket = up.stream->native_handle();
        if (socket < 0) {
            report(fail(failure::usage,
                        tunnel_name() + " has no socket of its own to hand to ssh (--fdpass)"));
            return;
        }
        if (auto ec = pass_socket(STDOUT_FILENO, socket)) {
            report(fail(failure::relay_io,
                        "cannot pass the socket of " + tunnel_name() +
                            " to ssh over stdout (ProxyUseFdpass): " + ec.message()));
            return;
        }
        log_.info("passed the tunnel's socket to ssh (ProxyUseFdpass)");
        // ssh holds the socket now: closing our descriptor leaves the tunnel up.
        up.stream->close();
    }

    // Resolves, connects and runs the CONNECT exchange with each hop in turn.
    net::awaitable<result<tunnel>> set_up_route() {
        log_.info("route to " + authority(cfg_.path.destination) + ": " + route_text() + " (" +
                  cfg_.route_reason + ")");
        if (cfg_.path.hops.empty()) {
            auto connected = co_await connect_to_proxy(cfg_.path.destination);
            if (!connected && deadline_passed_)
                co_return fail(failure::timeout,
                               "no connection to " + authority(cfg_.path.destination) + " within " +
                                   seconds_text(cfg_.connect_timeout) + " (--connect-timeout)");
            if (!connected)
                co_return connected.err();
            co_return tunnel{std::move(*connected), {}};
        }
        const auto last = cfg_.path.hops.size() - 1;
        auto t = co_await tunnel_through(last, cfg_.path.destination);
        if (!t && deadline_passed_)
            co_return fail(failure::timeout, "no tunnel to " + authority(cfg_.path.destination) +
                                                 " via " + route_text() + " within " +
                                                 seconds_text(cfg_.connect_timeout) +
                                                 " (--connect-timeout)");
        co_return t;
    }

    // The tunnel through hop `k` to `target`: the destination for the last hop, else the next
    // hop's proxy. A failure names the hop when there are several.
    net::awaitable<result<tunnel>> tunnel_through(std::size_t k, const endpoint_name& target) {
        const auto& through = cfg_.path.hops[k];
        connector connect = [this, k]() { return reach_hop(k); };
        auto options = cfg_.request;
        if (k > 0)
            // -H headers may carry a token for the corporate proxy; the far ones do not get it.
            options.extra_headers.clear();
        auto t = co_await open_tunnel(connect, through, target, options, log_);
        if (!t && cfg_.path.hops.size() > 1 && !t.err().message.starts_with("hop "))
            co_return fail(t.err().kind, "hop " + std::to_string(k + 1) + " of " +
                                             std::to_string(cfg_.path.hops.size()) + ": " +
                                             t.err().message);
        co_return t;
    }

    // A new connection to hop `k`'s proxy: TCP for the nearest, else a tunnel through the hops
    // before it; then TLS for an https:// proxy.
    net::awaitable<result<std::unique_ptr<byte_stream>>> reach_hop(std::size_t k) {
        const auto& to = cfg_.path.hops[k];
        std::unique_ptr<byte_stream> stream;
        if (k == 0) {
            auto connected = co_await connect_to_proxy(to.proxy);
            if (!connected)
                co_return connected.err();
            stream = std::move(*connected);
        } else {
            auto t = co_await tunnel_through(k - 1, to.proxy);
            if (!t)
                co_return t.err();
            // What came after the previous proxy's 2xx is the start of this proxy's answer.
            stream = make_prefixed_stream(std::move(t->stream), std::move(t->leftover));
        }
        if (!to.tls)
            co_return std::move(stream);
        // Start TLS with an https:// proxy
        log_.info("starting TLS with proxy " + authority(to.proxy));
        auto secured = co_await start_tls(std::move(stream), to.proxy.host, cfg_.tls);
        if (!secured)
            co_return fail(secured.err().kind,
                           "TLS with proxy " + authority(to.proxy) + ": " + secured.err().message);
        log_.info("TLS with proxy " + authority(to.proxy) + " established");
        co_return std::move(*secured);
    }

    // A TCP connection to the nearest proxy, or to the destination when the route has no proxy.
    net::awaitable<result<std::unique_ptr<byte_stream>>>
    connect_to_proxy(const endpoint_name& proxy) {
        const bool direct = cfg_.path.hops.empty();
        const std::string what = direct ? "destination " : "proxy ";
        auto name = authority(proxy);
        auto reach = direct ? std::string(" (no proxy: " + cfg_.route_reason + ")")
                            : " to reach " + authority(cfg_.path.destination);
        if (stopping())
            co_return fail(failure::proxy_unreachable,
                           "stopped before connecting to " + what + name);

        resolver names(io_.get_executor());
        abort_ = [&names] { names.cancel(); };
        auto endpoints = co_await names.resolve(proxy.host, proxy.port, cfg_.family);
        abort_ = nullptr;
        if (!endpoints)
            co_return fail(failure::proxy_unreachable, "cannot resolve " + what + "host " +
                                                           proxy.host + reach + ": " +
                                                           endpoints.err().message);

        auto connected = co_await connect_first(
            interleave_families(*endpoints), connection_attempt_delay,
            [&](const tcp_endpoint& at) {
                log_.info("connecting to " + what + name + " at " + at.address().to_string());
            },
            abort_);
        if (!connected.socket || stopping()) {
            auto tried = endpoints->empty() ? "" : connected.endpoint.address().to_string();
            co_return fail(failure::proxy_unreachable,
                           "cannot connect to " + what + name +
                               (tried.empty() || tried == proxy.host ? "" : " (" + tried + ")") +
                               reach + ": " + connected.ec.message());
        }
        auto socket = std::move(*connected.socket);
        error_code ec;
        // The tunnel carries interactive traffic (ssh keystrokes): send small writes at once.
        socket.set_option(tcp::no_delay(true), ec);
        auto stream = make_socket_stream(std::move(socket));
        abort_ = [s = stream.get()] { s->close(); };
        co_return std::move(stream);
    }

    void start_deadline() {
        deadline_.expires_after(cfg_.connect_timeout);
        deadline_.async_wait([this](const error_code& ec) {
            if (ec || setup_done_)
                return;
            deadline_passed_ = true;
            abort_current();
        });
    }

    // Whether the set-up must not take another step: its deadline passed or a signal came.
    bool stopping() const { return deadline_passed_ || signal_ != 0; }

    void abort_current() {
        if (abort_)
            abort_();
    }

    std::string tunnel_name() const {
        if (cfg_.path.hops.empty())
            return "connection to " + authority(cfg_.path.destination) + " (direct)";
        return "tunnel to " + authority(cfg_.path.destination) + " via " + route_text();
    }

    // "proxy A:3128", or "proxies A:3128 -> B:8080" for a chain, or "direct".
    std::string route_text() const {
        if (cfg_.path.hops.empty())
            return "direct";
        std::string text = cfg_.path.hops.size() > 1 ? "proxies " : "proxy ";
        for (std::size_t i = 0; i < cfg_.path.hops.size(); ++i)
            text += (i > 0 ? " -> " : "") + authority(cfg_.path.hops[i].proxy);
        return text;
    }

    void report(const error& e) {
        if (signal_)
            return; // what failed was stopped on purpose
        log_.error(e.message);
        status_ = exit_status(e.kind);
    }

    const config& cfg_;
    const logger& log_;
    net::io_context io_{1};
    net::signal_set signals_{io_, SIGHUP, SIGTERM, SIGINT};
    net::steady_timer deadline_{io_};
    bool deadline_passed_ = false;
    bool setup_done_ = false;
    // Aborts whatever is being waited for: the set-up's current step when the deadline passes,
    // or everything when a signal comes. Each step sets it before it waits.
    std::function<void()> abort_;
    int signal_ = 0;
    int status_ = 0;
};

} // namespace

int run(const config& settings, const logger& log) {
    if (settings.jump) {
        // Run ssh in this process's place: it relays, and its exit status is the run's.
        auto self = own_path();
        if (!self) {
            log.error("cannot find this program's own path for ssh's ProxyCommand (--jump)");
            return exit_status(failure::internal);
        }
        auto plan = plan_jump(*settings.jump, settings.path.destination, *self);
        log.info("running " + shell_line(plan.argv));
        auto e = exec_jump(plan);
        log.error(e.message);
        return exit_status(e.kind);
    }
    session s(settings, log);
    return s.run();
}

} // namespace corkscrew
