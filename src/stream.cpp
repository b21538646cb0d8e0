#include "stream.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace corkscrew {

namespace {

// Writes what the descriptor takes at once, then the rest asynchronously. A small interactive
// write then completes here, without the round through the event loop (a poll of the reactor)
// that an asynchronous operation's completion costs on every round trip.
template <class Stream>
net::awaitable<io_result> write_now_then_wait(Stream& stream, net::const_buffer data) {
    io_result r;
    if (!stream.non_blocking())
        stream.non_blocking(true, r.ec);
    if (!r.ec)
        r.bytes = stream.write_some(data, r.ec);
    if (r.ec == net::error::would_block || r.ec == net::error::try_again)
        r.ec = {};
    if (r.ec || r.bytes == data.size())
        co_return r;
    r.bytes += co_await net::async_write(stream, data + r.bytes, use_awaitable_ec(r.ec));
    co_return r;
}

template <class Socket>
class socket_stream final : public byte_stream {
public:
    explicit socket_stream(Socket socket) : socket_(std::move(socket)) {}

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        io_result r;
        r.bytes = co_await socket_.async_read_some(buffer, use_awaitable_ec(r.ec));
        co_return r;
    }

    net::awaitable<io_result> peek_some(net::mutable_buffer buffer) override {
        io_result r;
        r.bytes = co_await socket_.async_receive(buffer, net::socket_base::message_peek,
                                                 use_awaitable_ec(r.ec));
        co_return r;
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        co_return co_await write_now_then_wait(socket_, data);
    }

    net::awaitable<error_code> shutdown_send() override {
        error_code ec;
        socket_.shutdown(Socket::shutdown_send, ec);
        co_return ec;
    }

    void close() override {
        error_code ignored;
        socket_.close(ignored);
    }

    int native_handle() override { return socket_.is_open() ? socket_.native_handle() : -1; }

    net::awaitable<error_code> wait(readiness r) override {
        error_code ec;
        co_await socket_.async_wait(r == readiness::readable ? net::socket_base::wait_read
                                                             : net::socket_base::wait_write,
                                    use_awaitable_ec(ec));
        co_return ec;
    }

private:
    Socket socket_;
};

// Puts /dev/null where `fd` was, closing our reference to what it was.
void replace_with_devnull(int fd) {
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) {
        ::close(fd);
        return;
    }
    ::dup2(null_fd, fd);
    ::close(null_fd);
}

bool is_socket(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// Whether the other of stdin/stdout is still the same file as `fd` (one terminal or socket for
// both). They then likely share their status flags, and those must stay as Asio set them
// (non-blocking) until the other one is let go of too.
bool other_stdio_shares_file(int fd) {
    int other = fd == STDIN_FILENO ? STDOUT_FILENO : STDIN_FILENO;
    struct stat a {
    }, b{};
    return ::fstat(fd, &a) == 0 && ::fstat(other, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

class stdio_stream final : public byte_stream {
public:
    stdio_stream(const net::any_io_executor& executor, int fd)
        : fd_(fd), flags_(::fcntl(fd, F_GETFL)), descriptor_(executor, fd), socket_(is_socket(fd)) {
    }

    ~stdio_stream() override { release(); }

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        io_result r;
        if (!open_) {
            r.ec = net::error::eof;
            co_return r;
        }
        // Regular files and /dev/null cannot be polled; Asio then reads them directly, which
        // never blocks for them.
        r.bytes = co_await descriptor_.async_read_some(buffer, use_awaitable_ec(r.ec));
        co_return r;
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        io_result r;
        if (!open_) {
            r.ec = net::error::broken_pipe;
            co_return r;
        }
        co_return co_await write_now_then_wait(descriptor_, data);
    }

    net::awaitable<error_code> shutdown_send() override {
        if (socket_)
            ::shutdown(fd_, SHUT_WR);
        release();
        co_return error_code{};
    }

    void close() override { release(); }

    int native_handle() override { return open_ ? fd_ : -1; }

    net::awaitable<error_code> wait(readiness r) override {
        error_code ec;
        if (!open_)
            co_return net::error::bad_descriptor;
        co_await descriptor_.async_wait(r == readiness::readable
                                            ? net::posix::descriptor_base::wait_read
                                            : net::posix::descriptor_base::wait_write,
                                        use_awaitable_ec(ec));
        co_return ec;
    }

private:
    void release() {
        if (!open_)
            return;
        open_ = false;
        error_code ignored;
        descriptor_.cancel(ignored);
        descriptor_.release();
        if (!other_stdio_shares_file(fd_))
            ::fcntl(fd_, F_SETFL, flags_);
        replace_with_devnull(fd_);
    }

    int fd_;
    int flags_;
    net::posix::stream_descriptor descriptor_;
    bool socket_;
    bool open_ = true;
};

// Two one-way streams as one.
class duplex_stream final : public byte_stream {
public:
    duplex_stream(std::unique_ptr<byte_stream> in, std::unique_ptr<byte_stream> out)
        : in_(std::move(in)), out_(std::move(out)) {}

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        co_return co_await in_->read_some(buffer);
    }
    net::awaitable<io_result> write_all(net::const_buffer data) override {
        co_return co_await out_->write_all(data);
    }
    net::awaitable<error_code> shutdown_send() override {
        co_return co_await out_->shutdown_send();
    }
    void close() override {
        in_->close();
        out_->close();
    }

private:
    std::unique_ptr<byte_stream> in_;
    std::unique_ptr<byte_stream> out_;
};

// A stream whose first bytes were already read from it: bytes of the next hop's answer that came
// with the previous proxy's 2xx.
class prefixed_stream final : public byte_stream {
public:
    prefixed_stream(std::unique_ptr<byte_stream> inner, std::string prefix)
        : inner_(std::move(inner)), prefix_(std::move(prefix)) {}

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        if (prefix_.empty())
            co_return co_await inner_->read_some(buffer);
        co_return io_result{{}, take(buffer, true)};
    }

    net::awaitable<io_result> peek_some(net::mutable_buffer buffer) override {
        if (prefix_.empty())
            co_return co_await inner_->peek_some(buffer);
        co_return io_result{{}, take(buffer, false)};
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        co_return co_await inner_->write_all(data);
    }
    net::awaitable<error_code> shutdown_send() override {
        co_return co_await inner_->shutdown_send();
    }
    void close() override { inner_->close(); }

    // Only once the prefix is gone may bytes bypass this object (splice, a handed-over socket).
    int native_handle() override { return prefix_.empty() ? inner_->native_handle() : -1; }
    net::awaitable<error_code> wait(readiness r) override { co_return co_await inner_->wait(r); }

private:
    std::size_t take(net::mutable_buffer buffer, bool consume) {
        auto n = std::min(buffer.size(), prefix_.size());
        std::memcpy(buffer.data(), prefix_.data(), n);
        if (consume)
            prefix_.erase(0, n);
        return n;
    }

    std::unique_ptr<byte_stream> inner_;
    std::string prefix_;
};

} // namespace

std::unique_ptr<byte_stream> make_prefixed_stream(std::unique_ptr<byte_stream> inner,
                                                  std::string prefix) {
    if (prefix.empty())
        return inner;
    return std::make_unique<prefixed_stream>(std::move(inner), std::move(prefix));
}

std::unique_ptr<byte_stream> make_socket_stream(net::ip::tcp::socket socket) {
    return std::make_unique<socket_stream<net::ip::tcp::socket>>(std::move(socket));
}

std::unique_ptr<byte_stream> make_unix_socket_stream(const net::any_io_executor& executor, int fd) {
    using unix_socket = net::local::stream_protocol::socket;
    unix_socket socket(executor);
    error_code ec;
    socket.assign(net::local::stream_protocol(), fd, ec);
    if (ec)
        ::close(fd);
    return std::make_unique<socket_stream<unix_socket>>(std::move(socket));
}

std::unique_ptr<byte_stream> make_duplex_stream(std::unique_ptr<byte_stream> in,
                                                std::unique_ptr<byte_stream> out) {
    return std::make_unique<duplex_stream>(std::move(in), std::move(out));
}

std::unique_ptr<byte_stream> make_stdio_stream(const net::any_io_executor& executor, int fd) {
    return std::make_unique<stdio_stream>(executor, fd);
}

} // namespace corkscrew
