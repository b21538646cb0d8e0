#include "scripted_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/sockios.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace corkscrew_test {

namespace {

// Longest the proxy waits for any single read or write before it gives up on the client.
constexpr int io_limit_ms = 30'000;
// A request head larger than this is a client bug, not something to keep reading.
constexpr std::size_t max_request_head = 64 * 1024;
constexpr std::size_t read_chunk = 64 * 1024;

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

// Offset just past the blank line that ends a head (CRLF or bare LF lines), if any.
std::optional<std::size_t> head_end(const std::string& buffer) {
    std::optional<std::size_t> end;
    if (const auto crlf = buffer.find("\n\r\n"); crlf != std::string::npos) {
        end = crlf + 3;
    }
    if (const auto lf = buffer.find("\n\n"); lf != std::string::npos && (!end || lf + 2 < *end)) {
        end = lf + 2;
    }
    return end;
}

bool readable_now(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

} // namespace

std::vector<segment> dribble(std::string_view text, std::chrono::milliseconds gap) {
    std::vector<segment> out;
    for (char c : text) {
        out.push_back({std::string(1, c), out.empty() ? std::chrono::milliseconds(0) : gap});
    }
    return out;
}

proxy_connection::proxy_connection(int fd, std::size_t index, std::mutex& mutex,
                                   connection_record& record, int stop_fd)
    : fd_(fd), index_(index), mutex_(mutex), record_(record), stop_fd_(stop_fd) {}

proxy_connection::~proxy_connection() {
    close();
}

void proxy_connection::wait_for(short events) {
    if (fd_ < 0) {
        throw proxy_error("socket already closed");
    }
    pollfd fds[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
        const int n = ::poll(fds, 2, io_limit_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw proxy_error(errno_text("poll"));
        }
        if (n == 0) {
            throw proxy_error("timed out waiting for the client");
        }
        if (fds[1].revents != 0) {
            throw proxy_error("proxy stopped");
        }
        return;
    }
}

bool proxy_connection::fill() {
    wait_for(POLLIN);
    char buffer[read_chunk];
    for (;;) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            pending_.append(buffer, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw proxy_error(errno_text("recv"));
        }
    }
}

void proxy_connection::record_received(std::string_view bytes) {
    const std::lock_guard lock(mutex_);
    record_.received.append(bytes);
}

std::optional<std::string> proxy_connection::read_request() {
    for (;;) {
        if (const auto end = head_end(pending_)) {
            std::string head = pending_.substr(0, *end);
            pending_.erase(0, *end);
            const std::lock_guard lock(mutex_);
            record_.requests.push_back(head);
            return head;
        }
        if (pending_.size() > max_request_head) {
            throw proxy_error("request head larger than " + std::to_string(max_request_head));
        }
        if (!fill()) {
            if (pending_.empty()) {
                return std::nullopt;
            }
            throw proxy_error("EOF inside a request head");
        }
    }
}

std::string proxy_connection::read_until(std::string_view delimiter) {
    for (;;) {
        if (const auto at = pending_.find(delimiter); at != std::string::npos) {
            std::string bytes = pending_.substr(0, at + delimiter.size());
            pending_.erase(0, bytes.size());
            record_received(bytes);
            return bytes;
        }
        if (!fill()) {
            throw proxy_error("EOF before '" + std::string(delimiter) + "'");
        }
    }
}

void proxy_connection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        wait_for(POLLOUT);
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            throw proxy_error(errno_text("send"));
        }
    }
}

void proxy_connection::send_segments(const std::vector<segment>& segments) {
    for (const auto& s : segments) {
        if (s.pause_before.count() > 0) {
            // The shape under test needs a real gap on the wire here, not readiness.
            std::this_thread::sleep_for(s.pause_before);
        }
        send(s.bytes);
    }
}

void proxy_connection::sink() {
    record_received(pending_);
    pending_.clear();
    while (fill()) {
        record_received(pending_);
        pending_.clear();
    }
    const std::lock_guard lock(mutex_);
    record_.saw_eof = true;
}

void proxy_connection::echo() {
    for (;;) {
        const std::string chunk = std::move(pending_);
        pending_.clear();
        record_received(chunk);
        send(chunk);
        if (!fill()) {
            break;
        }
    }
    const std::lock_guard lock(mutex_);
    record_.saw_eof = true;
}

void proxy_connection::shutdown_write() {
    if (fd_ >= 0) {
        ::shutdown(fd_, SHUT_WR);
    }
}

void proxy_connection::wait_delivered() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(io_limit_ms);
    for (;;) {
        if (fd_ < 0) {
            throw proxy_error("socket already closed");
        }
        // Bytes sent and not yet acknowledged, or not sent yet.
        int queued = 0;
#if defined(SIOCOUTQ)
        const int rc = ::ioctl(fd_, SIOCOUTQ, &queued);
#else
        const int rc = ::ioctl(fd_, FIONWRITE, &queued);
#endif
        if (rc < 0) {
            throw proxy_error(errno_text("ioctl (bytes not acknowledged)"));
        }
        if (queued == 0) {
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw proxy_error("timed out waiting for the client to take the bytes sent");
        }
        // An acknowledgement brings no event to wait for: look again after a millisecond, unless
        // the proxy stops meanwhile.
        pollfd stop{stop_fd_, POLLIN, 0};
        if (::poll(&stop, 1, 1) > 0) {
            throw proxy_error("proxy stopped");
        }
    }
}

void proxy_connection::reset() {
    if (fd_ >= 0) {
        const linger abortive{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
        close();
    }
}

void proxy_connection::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void proxy_connection::play(const script& s) {
    send_segments(s.segments);
    switch (s.then) {
    case then_do::close:
        break;
    case then_do::sink:
        sink();
        break;
    case then_do::echo:
        echo();
        break;
    case then_do::half_close:
        shutdown_write();
        sink();
        break;
    case then_do::reset:
        reset();
        return;
    case then_do::reset_delivered:
        wait_delivered();
        reset();
        return;
    }
    close();
}

connection_handler serve(script s) {
    return [s = std::move(s)](proxy_connection& c) {
        if (c.read_request()) {
            c.play(s);
        }
    };
}

scripted_proxy::scripted_proxy(connection_handler handler, loopback where)
    : handler_(std::move(handler)), where_(where) {
    if (::pipe2(stop_pipe_, O_CLOEXEC) < 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    sockaddr_storage storage{};
    socklen_t len = 0;
    if (where == loopback::v4) {
        auto& a = reinterpret_cast<sockaddr_in&>(storage);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof a;
    } else {
        auto& a = reinterpret_cast<sockaddr_in6&>(storage);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        len = sizeof a;
    }
    auto* addr = reinterpret_cast<sockaddr*>(&storage);
    listen_fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0 || ::bind(listen_fd_, addr, len) < 0 || ::listen(listen_fd_, 64) < 0 ||
        ::getsockname(listen_fd_, addr, &len) < 0) {
        const int e = errno;
        stop();
        throw std::system_error(e, std::generic_category(), "scripted proxy listen");
    }
    port_ = ntohs(where == loopback::v4 ? reinterpret_cast<sockaddr_in&>(storage).sin_port
                                        : reinterpret_cast<sockaddr_in6&>(storage).sin6_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

std::string scripted_proxy::host_port() const {
    return (where_ == loopback::v4 ? "127.0.0.1:" : "[::1]:") + std::to_string(port_);
}

scripted_proxy::~scripted_proxy() {
    stop();
}

void scripted_proxy::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
            return;
        }
        if (fds[1].revents != 0) {
            return;
        }
        // Accept under the lock so connection_count() never misses a connection in flight.
        const std::lock_guard lock(mutex_);
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        records_.push_back(std::make_unique<connection_record>());
        connection_record& record = *records_.back();
        const std::size_t index = accepted_++;
        handlers_.emplace_back([this, fd, index, &record] {
            proxy_connection connection(fd, index, mutex_, record, stop_pipe_[0]);
            try {
                handler_(connection);
            } catch (const std::exception& e) {
                const std::lock_guard inner(mutex_);
                record.error = e.what();
            }
            connection.close();
            const std::lock_guard inner(mutex_);
            ++finished_;
            changed_.notify_all();
        });
        changed_.notify_all();
    }
}

void scripted_proxy::stop() {
    if (stop_pipe_[1] >= 0) {
        const char byte = 0;
        [[maybe_unused]] const auto n = ::write(stop_pipe_[1], &byte, 1);
    }
    if (acceptor_.joinable()) {
        acceptor_.join();
    }
    for (auto& t : handlers_) {
        if (t.joinable()) {
            t.join();
        }
    }
    for (int* fd : {&listen_fd_, &stop_pipe_[0], &stop_pipe_[1]}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
}

std::size_t scripted_proxy::connection_count() const {
    const std::lock_guard lock(mutex_);
    return accepted_ + (readable_now(listen_fd_) ? 1 : 0);
}

bool scripted_proxy::wait_handlers(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    // A connection still in the backlog counts: the acceptor takes it and notifies.
    return changed_.wait_for(
        lock, limit, [this] { return finished_ == accepted_ && !readable_now(listen_fd_); });
}

std::vector<connection_record> scripted_proxy::records() const {
    const std::lock_guard lock(mutex_);
    std::vector<connection_record> out;
    for (const auto& r : records_) {
        out.push_back(*r);
    }
    return out;
}

std::vector<std::string> scripted_proxy::all_requests() const {
    std::vector<std::string> out;
    for (const auto& r : records()) {
        out.insert(out.end(), r.requests.begin(), r.requests.end());
    }
    return out;
}

} // namespace corkscrew_test
