// A byte stream the CONNECT exchange and the relay run over, whatever is under it: a TCP socket
// to the proxy, stdin or stdout (pipe, socket, tty, regular file, /dev/null), or, later, a TLS
// session or an earlier hop's tunnel.
#pragma once

#include <utility> // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

namespace corkscrew {

namespace net = boost::asio;
using boost::system::error_code;

// The completion token of every awaited operation here: errors come back as values.
inline auto use_awaitable_ec(error_code& ec) {
    return net::redirect_error(net::use_awaitable, ec);
}

struct io_result {
    error_code ec; // net::error::eof at the end of the stream
    std::size_t bytes = 0;
};

class byte_stream {
public:
    virtual ~byte_stream() = default;

    // Reads what is available, at least one byte, or reports EOF or an error.
    virtual net::awaitable<io_result> read_some(net::mutable_buffer buffer) = 0;

    // Like read_some, but the bytes stay in the stream: the next read returns them again. For
    // reading the proxy's answer without taking any tunnel byte, when the connection is to be
    // handed on. A stream that cannot (a TLS session, a test's in-memory stream) reports
    // operation_not_supported.
    virtual net::awaitable<io_result> peek_some(net::mutable_buffer) {
        co_return io_result{net::error::operation_not_supported, 0};
    }

    // Writes all of `data` or reports an error.
    virtual net::awaitable<io_result> write_all(net::const_buffer data) = 0;

    // Ends the sending direction, so the peer reads EOF; reading goes on.
    virtual net::awaitable<error_code> shutdown_send() = 0;

    // Aborts pending operations (they complete with operation_aborted) and lets go of the
    // underlying resource.
    virtual void close() = 0;

    // For the zero-copy relay (splice): the descriptor the bytes pass through unchanged, or -1
    // when there is none (a TLS session, a test's in-memory stream, a closed stream).
    virtual int native_handle() { return -1; }

    // Waits until the descriptor can be read / written without blocking. Only for streams with a
    // native_handle().
    enum class readiness { readable, writable };
    virtual net::awaitable<error_code> wait(readiness) {
        co_return net::error::operation_not_supported;
    }
};

// A connected TCP socket.
std::unique_ptr<byte_stream> make_socket_stream(net::ip::tcp::socket socket);

// A connected Unix stream socket (the one end of a socketpair given to a child process).
std::unique_ptr<byte_stream> make_unix_socket_stream(const net::any_io_executor& executor, int fd);

// Reads from `in` and writes to `out`, as one stream: stdin and stdout, where they carry one
// end of a stream (--relay --compress). Shutting down sends ends `out`.
std::unique_ptr<byte_stream> make_duplex_stream(std::unique_ptr<byte_stream> in,
                                                std::unique_ptr<byte_stream> out);

// `inner`, read after `prefix`: bytes already taken from it that belong to whoever reads next.
// Returns `inner` itself when there are none.
std::unique_ptr<byte_stream> make_prefixed_stream(std::unique_ptr<byte_stream> inner,
                                                  std::string prefix);

// One of the process's standard descriptors, which must be open (main makes sure of it).
// Shutting down stdout's sending direction lets its reader see EOF: the descriptor is replaced by
// /dev/null, so the number stays taken. The file status flags the relay changes (O_NONBLOCK) are
// put back first, as a terminal or pipe shared with the shell must not stay non-blocking.
std::unique_ptr<byte_stream> make_stdio_stream(const net::any_io_executor& executor, int fd);

} // namespace corkscrew
