#include "session.hpp"

#include "compress_stream.hpp"
#include "connect.hpp"
#include "fdpass.hpp"
#include "jump.hpp"
#include "platform.hpp"
#include "relay.hpp"
#include "resolve.hpp"
#include "tls.hpp"
#include "tunnel.hpp"

#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <fcntl.h>
#include <functional>
#include <sys/wait.h>
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

} // namespace

class session::impl {
public:
    impl(const config& settings, logger log, net::io_context& io,
         std::unique_ptr<byte_stream> local)
        : cfg_(settings), log_(std::move(log)), io_(io), local_(std::move(local)) {}

    // A stop signal: everything in progress ends now, and no new step starts.
    void stop(int signo) {
        if (signal_)
            return;
        signal_ = signo;
        log_.info("ended by signal " + std::to_string(signo));
        abort_current();
    }

    int status() const { return signal_ ? signal_exit_status(signal_) : status_; }
    const relay_outcome& outcome() const { return outcome_; }

    net::awaitable<void> run() {
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
        auto executor = co_await net::this_coro::executor;
        std::unique_ptr<byte_stream> in, out;
        // ssh (--jump --compress) has its own timeouts, and may ask for a password.
        if (!cfg_.jump)
            start_deadline();
        // With --relay --compress, stdin and stdout are the compressed side: agree on it with
        // the far end first, so that a mismatch is said before anything else is done.
        compressed_stream* compression = nullptr;
        if (cfg_.compress && cfg_.gateway_relay) {
            // Larger pipes to and from sshd: fewer, larger transfers per wake-up, as relay() gives
            // stdio that it sees (it sees only the compressed stream here).
            for (int fd : {STDIN_FILENO, STDOUT_FILENO})
                enlarge_pipe(fd, relay_pipe_bytes);
            auto stdio = make_duplex_stream(make_stdio_stream(executor, STDIN_FILENO),
                                            make_stdio_stream(executor, STDOUT_FILENO));
            const std::string far_end = "stdin/stdout (the corkscrew++ that started this relay)";
            auto z = co_await compress(std::move(stdio), far_end);
            if (!z) {
                end_set_up();
                report(deadline_passed_ ? timed_out(far_end) : z.err());
                co_return;
            }
            compression = z->get();
            in = std::move(*z);
        }
        // (Not a conditional expression with a co_await in each branch: GCC 12 miscompiles it.)
        result<tunnel> up = fail(failure::internal, "no route");
        if (cfg_.jump)
            up = co_await start_ssh();
        else
            up = co_await set_up_route();
        if (up && cfg_.compress && !cfg_.gateway_relay) {
            // The tunnel is the compressed side; what came with the proxy's answer is its start.
            auto below = make_prefixed_stream(std::move(up->stream), std::move(up->leftover));
            const std::string far_end = far_end_name();
            auto z = co_await compress(std::move(below), far_end);
            if (z) {
                compression = z->get();
                up->stream = std::move(*z);
                up->leftover.clear();
            } else if (deadline_passed_) {
                up = timed_out(far_end);
            } else {
                up = z.err();
            }
        }
        end_set_up();
        if (!up) {
            report(up.err());
            // ssh that ended by itself has said why (its status wins); one that still runs is
            // talking to something that is not our far end.
            abort_ = [this] { stop_ssh(); };
            co_await end_ssh(ssh_failed_grace);
            co_return;
        }
        if (cfg_.fdpass) {
            hand_over(*up);
            co_return;
        }
        if (cfg_.probe) {
            co_await await_first_bytes(*up);
            co_return;
        }

        if (local_) {
            in = std::move(local_); // one stream both ways: an accepted connection
        } else if (!in) {
            in = make_stdio_stream(executor, STDIN_FILENO);
            out = make_stdio_stream(executor, STDOUT_FILENO);
        }
        byte_stream& local_in = *in;
        byte_stream& local_out = out ? *out : *in; // one compressed stream both ways
        abort_ = [&] {
            local_in.close();
            local_out.close();
            up->stream->close();
            stop_ssh();
        };
        relay_options options{cfg_.idle_timeout, tunnel_name(), cfg_.relay, cfg_.relay_buffer};
        if (!out) {
            options.local_in_name = options.local_out_name =
                cfg_.gateway_relay ? "stdin/stdout" : "the client's connection";
        }
        log_.info("tunnel established; relaying" +
                  (up->leftover.empty() ? std::string()
                                        : " (" + std::to_string(up->leftover.size()) +
                                              " bytes arrived with the proxy's answer)"));
        outcome_ =
            co_await relay(local_in, local_out, *up->stream, std::move(up->leftover), options);
        const auto& outcome = outcome_;
        abort_ = nullptr;
        if (compression)
            log_.info(compression_summary(*compression));
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
        // This end stopped the relay (idle, or stdout's reader left) while the far end went on:
        // stop ssh. When the far end failed instead (the stream cut off or refused), ssh ends by
        // itself, and its status (the far end's, passed on) says why.
        if (outcome.idle_expired || (!outcome.failure && !outcome.tunnel_ended))
            stop_ssh();
        // Release the socketpair so that ssh sees the end of its input.
        up->stream->close();
        abort_ = [this] { stop_ssh(); };
        co_await end_ssh(outcome.tunnel_ended ? ssh_exit_grace : ssh_failed_grace);
        abort_ = nullptr;
    }

    const std::optional<std::string>& first_bytes() const { return first_bytes_; }

private:
    // --probe: what the destination sends first, within probe_wait; nothing is sent to it.
    net::awaitable<void> await_first_bytes(tunnel& up) {
        log_.info("tunnel established; waiting up to " + seconds_text(probe_wait) +
                  " for the destination to speak first");
        if (!up.leftover.empty()) {
            first_bytes_ = up.leftover.substr(0, probe_shown_bytes);
            co_return;
        }
        net::steady_timer wait(io_);
        wait.expires_after(probe_wait);
        bool expired = false;
        wait.async_wait([&](const error_code& ec) {
            if (!ec) {
                expired = true;
                up.stream->close();
            }
        });
        abort_ = [&] { up.stream->close(); };
        char buffer[probe_shown_bytes];
        auto r = co_await up.stream->read_some(net::buffer(buffer));
        abort_ = nullptr;
        wait.cancel();
        if (!r.ec)
            first_bytes_ = std::string(buffer, r.bytes);
        else if (!expired && r.ec == net::error::eof)
            log_.info("the destination closed the tunnel without sending anything");
        up.stream->close();
    }

    // The set-up's deadline passed during the compression handshake.
    error timed_out(const std::string& far_end) const {
        return fail(failure::timeout, "no compression hello from " + far_end + " within " +
                                          seconds_text(cfg_.connect_timeout) +
                                          " (--connect-timeout)");
    }

    void end_set_up() {
        setup_done_ = true;
        deadline_.cancel();
        abort_ = nullptr;
    }

    // Wraps `inner` in the compression layer and agrees on it with the far end.
    net::awaitable<result<std::unique_ptr<compressed_stream>>>
    compress(std::unique_ptr<byte_stream> inner, const std::string& far_end) {
        abort_ = [this, s = inner.get()] {
            s->close();
            stop_ssh();
        };
        log_.info("starting compression (zstd) with " + far_end);
        auto z = co_await start_compression(std::move(inner), far_end);
        abort_ = nullptr;
        if (z)
            log_.info("compression agreed with " + far_end);
        co_return z;
    }

    std::string far_end_name() const {
        if (cfg_.jump)
            return "the relay on gateway " + cfg_.jump->gateways.back().text;
        return authority(cfg_.path.destination) + " (the destination, which must run "
                                                  "corkscrew++ --relay --compress)";
    }

    // --jump --compress: ssh to the last gateway, running the far end of the compression there,
    // as a child whose stdin and stdout are the tunnel.
    net::awaitable<result<tunnel>> start_ssh() {
        auto self = own_path();
        if (!self)
            co_return fail(failure::internal,
                           "cannot find this program's own path for ssh's ProxyCommand (--jump)");
        auto plan = plan_jump(*cfg_.jump, cfg_.path.destination, *self);
        log_.info("running " + shell_line(plan.argv));
        auto child = spawn_jump(plan);
        if (!child)
            co_return child.err();
        ssh_ = *child;
        co_return tunnel{make_unix_socket_stream(io_.get_executor(), child->socket), {}};
    }

    // Asks ssh to end (the relay was stopped, or a signal came); end_ssh() collects it. Its exit
    // status then says nothing about the run.
    void stop_ssh() {
        if (ssh_.pid > 0 && !ssh_exited_ && !ssh_stopped_) {
            ::kill(ssh_.pid, SIGTERM);
            ssh_stopped_ = true;
        }
    }

    // Waits for ssh to exit, bounded: on its own within `grace`, else after a SIGTERM, else a
    // SIGKILL. Its failing exit status becomes the run's, unless this process stopped it: ssh
    // (or the far end, whose status ssh passes on) has said why.
    net::awaitable<void> end_ssh(std::chrono::milliseconds grace) {
        if (ssh_.pid <= 0)
            co_return;
        int status = 0;
        net::steady_timer poll(io_);
        const auto start = std::chrono::steady_clock::now();
        bool killed = false;
        for (;;) {
            pid_t r = ::waitpid(ssh_.pid, &status, WNOHANG);
            if (r == ssh_.pid || (r < 0 && errno != EINTR))
                break;
            const auto waited = std::chrono::steady_clock::now() - start;
            if (signal_)
                stop_ssh(); // a stop signal that came before this wait
            if (!ssh_stopped_ && waited > grace) {
                log_.info("ssh did not exit within " + seconds_text(grace) + "; stopping it");
                stop_ssh();
            } else if (!killed && waited > grace + ssh_exit_grace) {
                ::kill(ssh_.pid, SIGKILL);
                killed = true;
            }
            poll.expires_after(ssh_exit_poll);
            error_code ignored;
            co_await poll.async_wait(use_awaitable_ec(ignored));
        }
        ssh_exited_ = true;
        int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? signal_exit_status(WTERMSIG(status))
                                         : 0;
        log_.info("ssh exited with status " + std::to_string(code));
        if (code != 0 && !signal_ && !ssh_stopped_)
            status_ = code;
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
        if (log_.verbose()) {
            std::string addresses;
            for (const auto& e : *endpoints)
                addresses += (addresses.empty() ? "" : ", ") + e.address().to_string();
            log_.info("resolved " + proxy.host + ": " + addresses);
        }

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
        log_.info("connected to " + what + name + " at " +
                  connected.endpoint.address().to_string());
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
        if (cfg_.jump)
            return "tunnel to " + authority(cfg_.path.destination) + " via ssh to gateway " +
                   cfg_.jump->gateways.back().text;
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

    // How long ssh may take to exit once the relay has ended: the channel's close is one round
    // trip through every hop; a slow proxy can take seconds, a hung ssh is stopped.
    static constexpr std::chrono::seconds ssh_exit_grace{10};
    // After a failed set-up: an ssh that failed exits at once, having closed its output; one
    // still running after this long is stopped.
    static constexpr std::chrono::seconds ssh_failed_grace{2};
    // How often its exit is checked for while waiting (a pidfd would need Linux 5.3).
    static constexpr std::chrono::milliseconds ssh_exit_poll{5};
    // --probe: how long the destination may take to speak first (an ssh server sends its banner
    // at once; a silent one is normal for protocols where the client speaks first), and how much
    // of what it says is shown.
    static constexpr std::chrono::seconds probe_wait{2};
    static constexpr std::size_t probe_shown_bytes = 200;

    const config& cfg_;
    const logger log_;
    ssh_child ssh_;
    bool ssh_exited_ = false;
    bool ssh_stopped_ = false;
    net::io_context& io_;
    // The local side when it is not stdin and stdout (an accepted connection), until it is used.
    std::unique_ptr<byte_stream> local_;
    relay_outcome outcome_;
    std::optional<std::string> first_bytes_;
    net::steady_timer deadline_{io_};
    bool deadline_passed_ = false;
    bool setup_done_ = false;
    // Aborts whatever is being waited for: the set-up's current step when the deadline passes,
    // or everything when a signal comes. Each step sets it before it waits.
    std::function<void()> abort_;
    int signal_ = 0;
    int status_ = 0;
};

session::session(const config& settings, logger log, net::io_context& io,
                 std::unique_ptr<byte_stream> local)
    : impl_(std::make_unique<impl>(settings, std::move(log), io, std::move(local))) {}

session::~session() = default;

net::awaitable<void> session::run() {
    co_await impl_->run();
}

void session::stop(int signo) {
    impl_->stop(signo);
}

int session::status() const {
    return impl_->status();
}

const relay_outcome& session::outcome() const {
    return impl_->outcome();
}

const std::optional<std::string>& session::first_bytes() const {
    return impl_->first_bytes();
}

} // namespace corkscrew
