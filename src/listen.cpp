#include "listen.hpp"

#include "session.hpp"
#include "text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <set>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace corkscrew {

namespace {

using tcp = net::ip::tcp;
using local = net::local::stream_protocol;

// After a failed accept (out of descriptors: EMFILE, ENFILE), the next try waits this long, so a
// full descriptor table costs a line a try, not a busy loop; tunnels that end meanwhile free some.
constexpr std::chrono::milliseconds accept_retry_delay{100};

// A timer that never expires by itself: waiting on it lasts until it is cancelled, which wakes
// every waiter at once (a tunnel ended, or the listener stops).
net::steady_timer::time_point never() {
    return net::steady_timer::time_point::max();
}

// The fields of an -L value between colons, a bracketed IPv6 address being one field.
std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    bool in_brackets = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '[')
            in_brackets = true;
        else if (text[i] == ']')
            in_brackets = false;
        else if (text[i] == ':' && !in_brackets) {
            fields.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    fields.push_back(text.substr(start));
    return fields;
}

std::string_view unbracket(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        return host.substr(1, host.size() - 2);
    return host;
}

result<std::uint16_t> parse_listen_port(std::string_view text, std::string_view spec) {
    unsigned value = 0;
    bool digits = !text.empty() && text.size() <= 5;
    for (char c : text) {
        digits = digits && c >= '0' && c <= '9';
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!digits || value > 65535)
        return fail(failure::usage, "invalid port '" + printable(text) + "' in -L '" +
                                        printable(spec) + "' (want 0 to 65535; 0: any free port)");
    return static_cast<std::uint16_t>(value);
}

result<endpoint_name> destination_of(std::string_view host, std::string_view port,
                                     std::string_view spec) {
    auto d = parse_destination(unbracket(host), port);
    if (!d)
        return fail(d.err().kind, "-L '" + printable(spec) + "': " + d.err().message);
    return d;
}

// "127.0.0.1:5432", "[::1]:5432" or "unix:/run/db.sock".
std::string address_text(const listen_address& at) {
    if (at.unix_socket)
        return "unix:" + at.path;
    if (at.host.find(':') != std::string::npos)
        return "[" + at.host + "]:" + std::to_string(at.port);
    return at.host + ":" + std::to_string(at.port);
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f s", std::chrono::duration<double>(d).count());
    return text;
}

class server {
public:
    server(const listen_settings& settings, const logger& log) : settings_(settings), log_(log) {}

    int run() {
        // Listen on every address first: a port taken fails the run before anything is
        // accepted.
        for (const auto& l : settings_.listeners) {
            auto e = l.at.unix_socket ? open_local(l) : open_tcp(l);
            if (e) {
                log_.error(e->message);
                remove_sockets();
                return exit_status(e->kind);
            }
        }
        slot_freed_.expires_at(never());
        say_ready();
        signals_.async_wait([this](const error_code& ec, int signo) { on_signal(ec, signo); });
        for (std::size_t i = 0; i < tcp_.size(); ++i)
            net::co_spawn(io_, accept_loop(*tcp_[i].first, *tcp_[i].second), net::detached);
        for (std::size_t i = 0; i < local_.size(); ++i)
            net::co_spawn(io_, accept_loop(*local_[i].first, *local_[i].second), net::detached);
        io_.run();
        return 0;
    }

private:
    std::optional<error> open_tcp(const listener& l) {
        error_code ec;
        auto address = net::ip::make_address(l.at.host, ec);
        auto acceptor = std::make_unique<tcp::acceptor>(io_);
        const tcp::endpoint at(address, l.at.port);
        if (!ec)
            acceptor->open(at.protocol(), ec);
        if (!ec)
            acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec)
            acceptor->bind(at, ec);
        if (!ec)
            acceptor->listen(net::socket_base::max_listen_connections, ec);
        if (ec)
            return fail(failure::usage, "cannot listen on " + address_text(l.at) + " (-L " +
                                            printable(l.at.text) + "): " + ec.message());
        bound_.push_back(bound_text(*acceptor, l) + " for " +
                         authority(l.tunnel->path.destination));
        tcp_.emplace_back(std::move(acceptor), &l);
        return std::nullopt;
    }

    std::optional<error> open_local(const listener& l) {
        // A socket file left by an earlier run that was killed is replaced; one that something
        // still listens on, or any other file, is not ours to remove.
        const local::endpoint at(l.at.path);
        struct stat st {};
        if (::lstat(l.at.path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                return fail(failure::usage, "cannot listen on unix:" + l.at.path +
                                                ": a file that is not a socket is in the way");
            local::socket probe(io_);
            error_code refused;
            probe.connect(at, refused);
            if (!refused)
                return fail(failure::usage, "cannot listen on unix:" + l.at.path +
                                                ": another process listens on it");
            ::unlink(l.at.path.c_str());
        }
        error_code ec;
        auto acceptor = std::make_unique<local::acceptor>(io_);
        acceptor->open(at.protocol(), ec);
        if (!ec)
            acceptor->bind(at, ec);
        if (!ec)
            acceptor->listen(net::socket_base::max_listen_connections, ec);
        if (ec)
            return fail(failure::usage, "cannot listen on unix:" + l.at.path + ": " + ec.message());
        bound_.push_back(address_text(l.at) + " for " + authority(l.tunnel->path.destination));
        paths_.push_back(l.at.path);
        local_.emplace_back(std::move(acceptor), &l);
        return std::nullopt;
    }

    // One line a listener, on stdout and on --ready-fd: a script waits for them, and learns the
    // port the kernel chose for a port 0.
    void say_ready() {
        std::string lines;
        for (const auto& b : bound_)
            lines += "listening on " + b + "\n";
        std::fputs(lines.c_str(), stdout);
        std::fflush(stdout);
        if (settings_.ready_fd) {
            std::string_view rest = lines;
            while (!rest.empty()) {
                auto n = ::write(*settings_.ready_fd, rest.data(), rest.size());
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    log_.warn("warning: cannot write to --ready-fd " +
                              std::to_string(*settings_.ready_fd));
                    break;
                }
                rest.remove_prefix(static_cast<std::size_t>(n));
            }
            ::close(*settings_.ready_fd);
        }
    }

    // The address a listener is bound to, with the port the kernel chose for -L 0.
    static std::string bound_text(const tcp::acceptor& acceptor, const listener& l) {
        auto at = l.at;
        error_code ec;
        const auto port = acceptor.local_endpoint(ec).port();
        if (!ec)
            at.port = port;
        return address_text(at);
    }
    static std::string bound_text(const local::acceptor&, const listener& l) {
        return address_text(l.at);
    }

    template <class Acceptor>
    net::awaitable<void> accept_loop(Acceptor& acceptor, const listener& l) {
        const std::string where = bound_text(acceptor, l);
        while (!stopping_) {
            // Past the limit, new connections wait in the kernel's backlog.
            co_await wait_for_slot();
            if (stopping_)
                break;
            error_code ec;
            auto socket = co_await acceptor.async_accept(use_awaitable_ec(ec));
            if (stopping_)
                break;
            if (ec) {
                log_.error("accepting on " + where + ": " + ec.message() + "; trying again");
                net::steady_timer pause(io_);
                pause.expires_after(accept_retry_delay);
                co_await pause.async_wait(use_awaitable_ec(ec));
                continue;
            }
            // Another listener may have taken the last slot while this accept was pending: the
            // connection waits, accepted, until one frees.
            co_await wait_for_slot();
            if (stopping_)
                break;
            ++active_;
            net::co_spawn(io_, serve_one(std::move(socket), l), net::detached);
        }
    }

    net::awaitable<void> wait_for_slot() {
        bool said = false;
        while (!stopping_ && active_ >= settings_.max_connections) {
            if (!said && !said_full_)
                log_.warn("at --max-connections " + std::to_string(settings_.max_connections) +
                          ": new connections wait until a tunnel ends");
            said = said_full_ = true;
            error_code ignored;
            co_await slot_freed_.async_wait(use_awaitable_ec(ignored));
        }
        if (active_ < settings_.max_connections)
            said_full_ = false;
    }

    void remove_sockets() {
        for (const auto& p : paths_)
            ::unlink(p.c_str());
        paths_.clear();
    }

    static std::string peer_of(tcp::socket& s) {
        error_code ec;
        auto p = s.remote_endpoint(ec);
        if (ec)
            return "client";
        auto a = p.address();
        return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" +
               std::to_string(p.port());
    }
    static std::string peer_of(local::socket&) { return "client"; }

    static std::unique_ptr<byte_stream> stream_of(tcp::socket s) {
        error_code ignored;
        // Interactive traffic (a database client's queries) goes out at once.
        s.set_option(tcp::no_delay(true), ignored);
        return make_socket_stream(std::move(s));
    }
    std::unique_ptr<byte_stream> stream_of(local::socket s) {
        error_code ignored;
        return make_unix_socket_stream(io_.get_executor(), s.release(ignored));
    }

    template <class Socket>
    net::awaitable<void> serve_one(Socket socket, const listener& l) {
        const auto started = std::chrono::steady_clock::now();
        const auto who = peer_of(socket) + (l.at.unix_socket ? " on " + address_text(l.at) : "");
        const auto where = authority(l.tunnel->path.destination);
        // Each tunnel's own messages name its client; its details need one -v more.
        logger tunnel_log(std::max(-1, log_.verbosity() - 1), who + " -> " + where + ": ");
        {
            session s(*l.tunnel, tunnel_log, io_, stream_of(std::move(socket)));
            sessions_.insert(&s);
            try {
                co_await s.run();
            } catch (const std::exception& e) {
                log_.error(who + " -> " + where + ": internal error: " + e.what());
            }
            sessions_.erase(&s);
            const auto& moved = s.outcome();
            log_.info(who + " -> " + where + ": " + std::to_string(moved.sent) + " bytes sent, " +
                      std::to_string(moved.received) + " bytes received, " +
                      seconds_text(std::chrono::steady_clock::now() - started) + ", " +
                      (s.status() == 0 ? std::string("ok")
                                       : "failed (exit " + std::to_string(s.status()) + ")"));
        }
        --active_;
        slot_freed_.cancel();
        if (stopping_ && active_ == 0)
            grace_.cancel();
    }

    void on_signal(const error_code& ec, int signo) {
        if (ec)
            return;
        if (stopping_) {
            // A second signal: stop the open tunnels now.
            log_.info("signal " + std::to_string(signo) + " again: closing the open tunnels");
            stop_all(signo);
            // A third gets the default action.
            error_code ignored;
            signals_.clear(ignored);
            return;
        }
        stopping_ = true;
        error_code ignored;
        for (auto& [a, l] : tcp_)
            a->close(ignored);
        for (auto& [a, l] : local_)
            a->close(ignored);
        remove_sockets();
        slot_freed_.cancel();
        if (active_ == 0) {
            log_.info("signal " + std::to_string(signo) + ": no longer accepting; no tunnel open");
        } else {
            log_.info("signal " + std::to_string(signo) + ": no longer accepting; " +
                      std::to_string(active_) + " tunnel(s) open, closed after " +
                      seconds_text(settings_.shutdown_grace) + " unless they end first");
        }
        if (active_ == 0) {
            signals_.cancel(ignored);
            return;
        }
        // Listen for a second signal while the tunnels finish.
        signals_.async_wait([this](const error_code& e, int s) { on_signal(e, s); });
        grace_.expires_after(settings_.shutdown_grace);
        grace_.async_wait([this, signo](const error_code& e) {
            error_code ignored;
            signals_.cancel(ignored);
            if (!e)
                stop_all(signo);
        });
    }

    void stop_all(int signo) {
        // stop() ends a session's pending operations; the sessions then leave the set as they
        // unwind, so iterate over a copy.
        auto open = sessions_;
        for (auto* s : open)
            s->stop(signo);
    }

    const listen_settings& settings_;
    const logger& log_;
    net::io_context io_{1};
    net::signal_set signals_{io_, SIGTERM, SIGINT, SIGHUP};
    net::steady_timer slot_freed_{io_};
    net::steady_timer grace_{io_};
    std::vector<std::pair<std::unique_ptr<tcp::acceptor>, const listener*>> tcp_;
    std::vector<std::pair<std::unique_ptr<local::acceptor>, const listener*>> local_;
    std::vector<std::string> bound_; // "127.0.0.1:41235 for db:5432", for the ready lines
    std::vector<std::string> paths_; // Unix sockets to remove at the end
    std::set<session*> sessions_;
    std::size_t active_ = 0;
    bool said_full_ = false; // the limit's line is said once until the count falls below it
    bool stopping_ = false;
};

} // namespace

result<listen_spec> parse_listen_spec(std::string_view text) {
    listen_spec spec;
    spec.at.text = std::string(text);
    if (text.starts_with("unix:")) {
        auto rest = text.substr(5);
        spec.at.unix_socket = true;
        auto fields = split_fields(rest);
        if (fields.size() >= 3) {
            const auto port = fields.back();
            const auto host = fields[fields.size() - 2];
            auto d = destination_of(host, port, text);
            if (!d)
                return d.err();
            spec.destination = *d;
            rest.remove_suffix(host.size() + port.size() + 2);
        } else if (fields.size() == 2) {
            return fail(failure::usage, "-L '" + printable(text) +
                                            "': want unix:PATH or unix:PATH:DESTHOST:DESTPORT");
        }
        if (rest.empty() || rest.size() >= sizeof(sockaddr_un::sun_path))
            return fail(failure::usage,
                        "-L '" + printable(text) + "': the socket's path must have 1 to " +
                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
        spec.at.path = std::string(rest);
        return spec;
    }
    auto fields = split_fields(text);
    std::string_view address, port;
    switch (fields.size()) {
    case 1:
        port = fields[0];
        break;
    case 2:
        address = fields[0];
        port = fields[1];
        break;
    case 3:
    case 4: {
        const bool with_address = fields.size() == 4;
        if (with_address)
            address = fields[0];
        port = fields[with_address ? 1 : 0];
        auto d = destination_of(fields[with_address ? 2 : 1], fields[with_address ? 3 : 2], text);
        if (!d)
            return d.err();
        spec.destination = *d;
        break;
    }
    default:
        return fail(failure::usage, "-L '" + printable(text) +
                                        "': want [ADDR:]PORT or [ADDR:]PORT:DESTHOST:DESTPORT");
    }
    auto p = parse_listen_port(port, text);
    if (!p)
        return p.err();
    spec.at.port = *p;
    if (!address.empty()) {
        auto host = std::string(unbracket(address));
        if (host == "localhost")
            host = "127.0.0.1";
        error_code ec;
        net::ip::make_address(host, ec);
        if (ec)
            return fail(failure::usage, "-L '" + printable(text) + "': '" + printable(address) +
                                            "' is not an IP address (or localhost)");
        spec.at.host = host;
    }
    return spec;
}

bool is_loopback(const listen_address& at) {
    if (at.unix_socket)
        return true;
    error_code ec;
    auto a = net::ip::make_address(at.host, ec);
    return !ec && a.is_loopback();
}

int serve(const listen_settings& settings, const logger& log) {
    server s(settings, log);
    return s.run();
}

} // namespace corkscrew
