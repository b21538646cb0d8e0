// TLS to a proxy against real TLS servers: stunnel, serving one connection in inetd mode on a
// socket the test hands it, with cat (an echo) or wc (which answers only at EOF) behind it; and,
// for a bulk transfer with KeyUpdates along the way, tls_peer. Certificates are made for the run
// with the openssl tool.
#include "tls.hpp"

#include "../support/bytes.hpp"
#include "tls_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace corkscrew;
using namespace corkscrew_test;

namespace {

// Bound for one exchange; each takes well under a second, even sanitized.
constexpr auto io_limit = std::chrono::seconds(60);

// Bytes per read and write in the tests, as the relay moves them.
constexpr std::size_t chunk_bytes = 128 * 1024;

// The most an echo through stunnel carries: less than the socket buffers between it and the
// test, so that stunnel's writes never wait. When they wait, stunnel 5.68 may take the hang-up of
// cat's socket for its end with the last bytes still unread, and the echo comes back short;
// tls_peer carries the bulk transfer.
constexpr std::size_t stunnel_echo_bytes = 48 * 1024;

// Runs `task` on `io` until it ends (bounded) and returns its value.
template <class T>
T run_io(net::io_context& io, net::awaitable<T> task) {
    std::optional<T> out;
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { out.emplace(co_await std::move(task)); },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
    io.restart();
    io.run_for(io_limit);
    REQUIRE_MESSAGE(out.has_value(), "not done within the limit");
    return std::move(*out);
}

// A stream over a descriptor that is no TCP socket and shows none (native_handle() is -1), as an
// earlier hop's tunnel is: TLS must work over any byte_stream.
class descriptor_stream final : public byte_stream {
public:
    descriptor_stream(const net::any_io_executor& executor, int fd) : descriptor_(executor, fd) {}

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        io_result r;
        r.bytes = co_await descriptor_.async_read_some(buffer, use_awaitable_ec(r.ec));
        co_return r;
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        io_result r;
        r.bytes = co_await net::async_write(descriptor_, data, use_awaitable_ec(r.ec));
        co_return r;
    }

    net::awaitable<error_code> shutdown_send() override {
        if (::shutdown(descriptor_.native_handle(), SHUT_WR) != 0)
            co_return error_code(errno, boost::system::system_category());
        co_return error_code{};
    }

    void close() override {
        error_code ignored;
        descriptor_.close(ignored);
    }

private:
    net::posix::stream_descriptor descriptor_;
};

// Passes bytes through, but once armed flips a bit of the next read that is long enough: a
// record that does not decrypt, as someone on the path would make it.
class tampering_stream final : public byte_stream {
public:
    // Past a record's 5-byte header: the ciphertext.
    static constexpr std::size_t tampered_byte = 10;

    explicit tampering_stream(std::unique_ptr<byte_stream> inner) : inner_(std::move(inner)) {}

    void arm() { armed_ = true; }

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        auto r = co_await inner_->read_some(buffer);
        if (armed_ && r.bytes > tampered_byte) {
            static_cast<char*>(buffer.data())[tampered_byte] ^= 1;
            armed_ = false;
        }
        co_return r;
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        co_return co_await inner_->write_all(data);
    }

    net::awaitable<error_code> shutdown_send() override {
        co_return co_await inner_->shutdown_send();
    }

    void close() override { inner_->close(); }

private:
    std::unique_ptr<byte_stream> inner_;
    bool armed_ = false;
};

void close_on_exec(int fd) {
    REQUIRE(::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0);
}

enum class transport {
    tcp,        // a loopback TCP connection, as to a proxy
    socket_pair // a socket pair behind a stream without a descriptor, as through a tunnel
};

// Our end of a connection to a TLS server of its own.
struct connection {
    std::unique_ptr<byte_stream> stream;
    std::unique_ptr<tls_server> server;
};

connection connect_to(net::io_context& io, const server_config& config,
                      transport how = transport::tcp) {
    connection c;
    if (how == transport::tcp) {
        // The listening socket's backlog completes the connection; the test then accepts it and
        // hands it to stunnel: no port to choose, nothing to wait for.
        net::ip::tcp::acceptor listener(io, {net::ip::address_v4::loopback(), 0});
        net::ip::tcp::socket ours(io);
        ours.connect(listener.local_endpoint());
        net::ip::tcp::socket theirs(io);
        listener.accept(theirs);
        for (int fd : {listener.native_handle(), ours.native_handle(), theirs.native_handle()})
            close_on_exec(fd);
        c.server = std::make_unique<tls_server>(theirs.native_handle(), config);
        c.stream = make_socket_stream(std::move(ours));
    } else {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        c.server = std::make_unique<tls_server>(fds[1], config);
        ::close(fds[1]);
        c.stream = std::make_unique<descriptor_stream>(io.get_executor(), fds[0]);
    }
    return c;
}

// Reads until the end of the stream; returns how it ended (EOF, an error).
net::awaitable<error_code> read_to_end(byte_stream& s, std::string& into) {
    std::vector<char> buffer(chunk_bytes);
    for (;;) {
        auto r = co_await s.read_some(net::buffer(buffer));
        into.append(buffer.data(), r.bytes);
        if (r.ec)
            co_return r.ec;
    }
}

struct exchange_result {
    error_code sent; // how writing and shutdown_send() went
    std::string received;
    error_code ended; // how reading ended
};

// Sends `data`, ends the sending side, then reads everything the far end sends until its end.
net::awaitable<exchange_result> send_then_read(byte_stream& s, std::string data) {
    exchange_result x;
    auto w = co_await s.write_all(net::buffer(data));
    x.sent = w.ec;
    if (!x.sent)
        x.sent = co_await s.shutdown_send();
    x.ended = co_await read_to_end(s, x.received);
    co_return x;
}

using stream_result = result<std::unique_ptr<byte_stream>>;

stream_result handshake(net::io_context& io, std::unique_ptr<byte_stream> inner,
                        const std::string& host, const tls_settings& settings) {
    return run_io(io, start_tls(std::move(inner), host, settings));
}

tls_settings trusting_test_ca() {
    tls_settings s;
    s.ca_file = pki().ca;
    return s;
}

std::string describe(const stream_result& r) {
    return r ? std::string("handshake done") : "failed: " + r.err().message;
}

struct echo_result {
    error_code sent; // how writing and shutdown_send() went
    std::string received;
    std::optional<error_code> ended; // how reading ended; empty if it had not within the limit
};

// Sends `data` and ends the sending side while reading what comes back, until its end: an
// upload and a download at once on one thread, as the relay's two directions run.
echo_result echo_both_ways(net::io_context& io, byte_stream& s, const std::string& data) {
    echo_result x;
    auto upload = [&]() -> net::awaitable<void> {
        for (std::size_t at = 0; at < data.size() && !x.sent; at += chunk_bytes) {
            auto w = co_await s.write_all(
                net::buffer(data.data() + at, std::min(chunk_bytes, data.size() - at)));
            x.sent = w.ec;
        }
        if (!x.sent)
            x.sent = co_await s.shutdown_send();
    };
    auto download = [&]() -> net::awaitable<void> {
        std::string got;
        auto ended = co_await read_to_end(s, got);
        x.received = std::move(got);
        x.ended = ended;
    };
    net::co_spawn(io, upload, net::detached);
    net::co_spawn(io, download, net::detached);
    io.restart();
    io.run_for(io_limit);
    return x;
}

// `data` came back whole, then the end of the stream.
void check_echo(net::io_context& io, byte_stream& tls, const std::string& data) {
    auto x = echo_both_ways(io, tls, data);
    REQUIRE_MESSAGE(x.ended.has_value(),
                    "not done within the limit; received " << x.received.size() << " bytes");
    CHECK(x.sent == error_code{});
    CHECK(*x.ended == net::error::eof);
    CHECK(byte_diff(x.received, data) == "");
}

bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("tls" * doctest::timeout(300));

TEST_CASE("trusting the proxy's CA only: handshake, an echo, and both ends closing") {
    net::io_context io;
    auto c = connect_to(io, {});
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    // No descriptor to splice or hand on, and no peeking: the relay's portable path.
    CHECK((*tls)->native_handle() == -1);
    std::vector<char> buffer(16);
    auto peeked = run_io(io, (*tls)->peek_some(net::buffer(buffer)));
    CHECK(peeked.ec == net::error::operation_not_supported);
    check_echo(io, **tls,
               "CONNECT example:22 HTTP/1.1\r\n\r\n" + random_bytes(stunnel_echo_bytes, 1));
}

TEST_CASE("over a stream without a descriptor, as through a tunnel: a socket pair, TLS in TLS") {
    net::io_context io;
    const auto data = random_bytes(stunnel_echo_bytes, 2);
    SUBCASE("a socket pair behind a plain byte_stream") {
        auto c = connect_to(io, {}, transport::socket_pair);
        auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
        INFO(describe(tls), "\n", c.server->log());
        REQUIRE(tls);
        check_echo(io, **tls, data);
    }
    SUBCASE("TLS to a second server inside the TLS to the first, as a chain of HTTPS proxies") {
        // The outer stunnel runs the inner one on its plaintext, and the inner one the echo.
        const temp_directory inner_dir;
        server_config outer;
        outer.command = {stunnel_program(), tls_server::write_config(inner_dir.path(), {})};
        auto c = connect_to(io, outer);
        auto first = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
        INFO(describe(first), "\n", c.server->log());
        REQUIRE(first);
        auto second = handshake(io, std::move(*first), "127.0.0.1", trusting_test_ca());
        INFO(describe(second));
        REQUIRE(second);
        check_echo(io, **second, data);
    }
}

TEST_CASE("a certificate no trusted CA signed fails the handshake, saying why in one line") {
    net::io_context io;
    tls_settings settings;
    SUBCASE("the wrong CA given") {
        settings.ca_file = pki().wrong_ca;
    }
    SUBCASE("the system's CAs, which never signed the test's") {}
    auto c = connect_to(io, {});
    auto tls = handshake(io, std::move(c.stream), "localhost", settings);
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(!tls);
    CHECK(tls.err().kind == failure::proxy_unreachable);
    CHECK(one_line(tls.err().message));
    CHECK(contains(tls.err().message,
                   "certificate verify failed: unable to get local issuer certificate"));
    CHECK(contains(tls.err().message, "--proxy-cacert"));
    CHECK(contains(tls.err().message, "--proxy-insecure"));
}

TEST_CASE("a proxy that speaks TLS 1.1 at most is refused") {
    // TLS 1.0 and 1.1 are deprecated (RFC 8996).
    net::io_context io;
    server_config config;
    config.max_version = "TLSv1.1";
    auto c = connect_to(io, config);
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(!tls);
    CHECK(tls.err().kind == failure::proxy_unreachable);
    CHECK(one_line(tls.err().message));
    CHECK(contains(tls.err().message, "TLS handshake failed: "));
    CHECK(contains(tls.err().message, "protocol version"));
}

TEST_CASE("a name the certificate is not for fails; insecure skips every check") {
    net::io_context io;
    auto c = connect_to(io, {});
    SUBCASE("checked: hostname mismatch") {
        auto tls = handshake(io, std::move(c.stream), "wrong.example", trusting_test_ca());
        INFO(describe(tls), "\n", c.server->log());
        REQUIRE(!tls);
        CHECK(tls.err().kind == failure::proxy_unreachable);
        CHECK(one_line(tls.err().message));
        CHECK(contains(tls.err().message, "certificate verify failed: hostname mismatch"));
        CHECK(contains(tls.err().message, "not for wrong.example"));
    }
    SUBCASE("insecure: neither the name nor the CA is checked") {
        tls_settings settings;
        settings.insecure = true;
        settings.ca_file = pki().wrong_ca;
        auto tls = handshake(io, std::move(c.stream), "wrong.example", settings);
        INFO(describe(tls), "\n", c.server->log());
        REQUIRE(tls);
        check_echo(io, **tls, "through anyway");
    }
}

TEST_CASE("an IP address literal is checked against the certificate's addresses") {
    net::io_context io;
    auto c = connect_to(io, {});
    std::string host;
    bool in_certificate = false;
    SUBCASE("127.0.0.1, which it has") {
        host = "127.0.0.1";
        in_certificate = true;
    }
    SUBCASE("127.0.0.2") {
        host = "127.0.0.2";
    }
    SUBCASE("::1") {
        host = "::1";
    }
    SUBCASE("[::1], in brackets as in a URL") {
        host = "[::1]";
    }
    CAPTURE(host);
    auto tls = handshake(io, std::move(c.stream), host, trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(static_cast<bool>(tls) == in_certificate);
    if (in_certificate) {
        check_echo(io, **tls, "by address");
    } else {
        CHECK(contains(tls.err().message, "certificate verify failed: IP address mismatch"));
        CHECK(one_line(tls.err().message));
    }
}

TEST_CASE("a proxy that requires a client certificate: accepted with one, refused without") {
    net::io_context io;
    server_config config;
    config.require_client_cert = true;
    SUBCASE("TLS 1.3") {}
    SUBCASE("TLS 1.2") {
        config.max_version = "TLSv1.2";
    }
    CAPTURE(config.max_version);
    auto c = connect_to(io, config);
    auto settings = trusting_test_ca();
    SUBCASE("certificate and key in two files") {
        settings.cert_file = pki().client_cert;
        settings.key_file = pki().client_key;
        auto tls = handshake(io, std::move(c.stream), "localhost", settings);
        INFO(describe(tls), "\n", c.server->log());
        REQUIRE(tls);
        check_echo(io, **tls, "with a certificate");
    }
    SUBCASE("certificate and key in one file") {
        settings.cert_file = pki().client_cert_and_key;
        auto tls = handshake(io, std::move(c.stream), "localhost", settings);
        INFO(describe(tls), "\n", c.server->log());
        REQUIRE(tls);
        check_echo(io, **tls, "with a certificate");
    }
    SUBCASE("none: the handshake fails (TLS 1.2), or the first read does (TLS 1.3)") {
        // In TLS 1.3 the client's handshake is done before the server has seen its (missing)
        // certificate; the server's alert comes with the first read.
        auto tls = handshake(io, std::move(c.stream), "localhost", settings);
        INFO(describe(tls), "\n", c.server->log());
        std::string why;
        if (tls) {
            CHECK(config.max_version.empty());
            auto x = run_io(io, send_then_read(**tls, "without"));
            CHECK(x.received == "");
            CHECK(x.ended.category().name() == std::string("tls"));
            why = x.ended.message();
        } else {
            CHECK(tls.err().kind == failure::proxy_unreachable);
            CHECK(one_line(tls.err().message));
            why = tls.err().message;
        }
        CAPTURE(why);
        CHECK(contains(why,
                       config.max_version.empty() ? "certificate required" : "handshake failure"));
    }
}

TEST_CASE("certificate and key files that cannot be used are usage errors naming the file") {
    // All fail before a byte is sent: no server needed.
    net::io_context io;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ::close(fds[1]);
    auto settings = trusting_test_ca();
    std::string file;
    std::string why;
    SUBCASE("a CA file that is not there") {
        file = "/nonexistent/ca.pem";
        settings.ca_file = file;
        why = "cannot read CA certificates";
    }
    SUBCASE("a client certificate that is not there") {
        file = "/nonexistent/client.pem";
        settings.cert_file = file;
        why = "cannot read a client certificate";
    }
    SUBCASE("a key protected by a passphrase: refused, not asked for") {
        settings.cert_file = pki().client_cert;
        settings.key_file = file = pki().client_key_encrypted;
        why = "passphrase";
    }
    SUBCASE("a key that is not the certificate's") {
        settings.cert_file = pki().client_cert;
        settings.key_file = file = pki().wrong_ca_key;
        why = "key values mismatch";
    }
    SUBCASE("a key without a certificate") {
        settings.key_file = file = pki().client_key;
        why = "without a client certificate";
    }
    auto tls = handshake(io, std::make_unique<descriptor_stream>(io.get_executor(), fds[0]),
                         "localhost", settings);
    INFO(describe(tls));
    REQUIRE(!tls);
    CHECK(tls.err().kind == failure::usage);
    CHECK(one_line(tls.err().message));
    CHECK(contains(tls.err().message, file));
    CHECK(contains(tls.err().message, why));
}

TEST_CASE("shutdown_send: the proxy reads EOF, and its answer after that still arrives") {
    // wc answers only once its input has ended: the answer proves the server saw EOF, and
    // that reading goes on after our close_notify.
    net::io_context io;
    server_config config;
    config.command = {program_in_path("wc"), "-c"};
    SUBCASE("TLS 1.3") {}
    SUBCASE("TLS 1.2") {
        config.max_version = "TLSv1.2";
    }
    CAPTURE(config.max_version);
    auto c = connect_to(io, config);
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    const auto data = random_bytes(1000000, 3);
    auto x = run_io(io, send_then_read(**tls, data));
    CHECK(x.sent == error_code{});
    CHECK(x.ended == net::error::eof);
    CHECK(x.received == std::to_string(data.size()) + "\n");
    // Writing after shutdown_send() fails; reading at the end stays at the end.
    auto w = run_io(io, (*tls)->write_all(net::buffer(data.data(), 10)));
    CHECK(w.ec == net::error::broken_pipe);
    std::vector<char> buffer(16);
    auto r = run_io(io, (*tls)->read_some(net::buffer(buffer)));
    CHECK(r.ec == net::error::eof);
}

TEST_CASE("a large transfer both ways at once arrives intact, with KeyUpdates along the way") {
    // The upload writes while the download reads, as the relay's two directions do, on one
    // thread: the echo sends everything back as it comes, so neither direction may wait for the
    // other. Every 256 KiB the server asks for a KeyUpdate or sends a session ticket, in turn,
    // which the reading side takes in while the writing side goes on.
    constexpr std::size_t total = 16 * 1024 * 1024;
    constexpr long update_every = 256 * 1024;
    net::io_context io;
    transport how = transport::tcp;
    SUBCASE("over TCP") {}
    SUBCASE("over a stream without a descriptor") {
        how = transport::socket_pair;
    }
    server_config config;
    config.key_update_every = update_every;
    auto c = connect_to(io, config, how);
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    check_echo(io, **tls, random_bytes(total, 4));
    // The server ended cleanly, having had answers: each goes out with our next write (RFC 8446
    // section 4.6.3), so requests that came after our close_notify rightly had none.
    const auto log = c.server->finish();
    INFO(log);
    auto at = log.find("key updates received: ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stol(log.substr(at + 22)) >= 1);
}

TEST_CASE("the proxy closing without close_notify ends reading with EOF") {
    net::io_context io;
    auto c = connect_to(io, {});
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    auto w = run_io(io, (*tls)->write_all(net::buffer(std::string_view("ping"))));
    REQUIRE(w.ec == error_code{});
    std::string got;
    std::vector<char> buffer(16);
    while (got.size() < 4) {
        auto r = run_io(io, (*tls)->read_some(net::buffer(buffer)));
        REQUIRE(r.ec == error_code{});
        got.append(buffer.data(), r.bytes);
    }
    CHECK(got == "ping");
    c.server->kill();
    auto r = run_io(io, (*tls)->read_some(net::buffer(buffer)));
    CHECK(r.ec == net::error::eof);
    CHECK(r.bytes == 0);
}

TEST_CASE("a record that does not decrypt ends the session: a TLS error, and an alert sent") {
    net::io_context io;
    auto c = connect_to(io, {});
    auto tampering = std::make_unique<tampering_stream>(std::move(c.stream));
    auto& tamper = *tampering;
    auto tls = handshake(io, std::move(tampering), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    tamper.arm();
    auto w = run_io(io, (*tls)->write_all(net::buffer(std::string_view("ping"))));
    REQUIRE(w.ec == error_code{});
    std::vector<char> buffer(16);
    auto r = run_io(io, (*tls)->read_some(net::buffer(buffer)));
    CHECK(r.bytes == 0);
    CHECK(r.ec.category().name() == std::string("tls"));
    CHECK(contains(r.ec.message(), "bad record mac"));
    // Writing fails the same way from now on, and so does reading.
    w = run_io(io, (*tls)->write_all(net::buffer(std::string_view("more"))));
    CHECK(w.ec == r.ec);
    CHECK(run_io(io, (*tls)->read_some(net::buffer(buffer))).ec == r.ec);
    // The reading side's alert went out without a write to carry it.
    const auto log = c.server->finish();
    INFO(log);
    CHECK(contains(log, "alert bad record mac"));
}

TEST_CASE("close() aborts a pending read; later operations fail the same way") {
    net::io_context io;
    auto c = connect_to(io, {});
    auto tls = handshake(io, std::move(c.stream), "localhost", trusting_test_ca());
    INFO(describe(tls), "\n", c.server->log());
    REQUIRE(tls);
    byte_stream& s = **tls;
    std::optional<io_result> read;
    std::vector<char> buffer(16);
    // The read starts first and waits for the silent server; the close comes after it.
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { read = co_await s.read_some(net::buffer(buffer)); },
        net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            s.close();
            co_return;
        },
        net::detached);
    io.restart();
    io.run_for(io_limit);
    REQUIRE(read.has_value());
    CHECK(read->ec == net::error::operation_aborted);
    auto w = run_io(io, s.write_all(net::buffer(buffer)));
    CHECK(w.ec == net::error::operation_aborted);
    CHECK(run_io(io, s.shutdown_send()) == net::error::operation_aborted);
}

TEST_CASE("a plain HTTP proxy, or one that closes, fails the handshake saying so") {
    // The far end is the test's own socket: it answers before it has read the ClientHello.
    net::io_context io;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    std::string why;
    SUBCASE("an http:// proxy's answer to the ClientHello") {
        const std::string answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        REQUIRE(::write(fds[1], answer.data(), answer.size()) ==
                static_cast<ssize_t>(answer.size()));
        why = "answered in plain HTTP, not TLS";
    }
    SUBCASE("closed at once") {
        why = "closed the connection during the TLS handshake";
    }
    ::shutdown(fds[1], SHUT_WR);
    auto tls = handshake(io, std::make_unique<descriptor_stream>(io.get_executor(), fds[0]),
                         "localhost", trusting_test_ca());
    ::close(fds[1]);
    INFO(describe(tls));
    REQUIRE(!tls);
    CHECK(tls.err().kind == failure::proxy_unreachable);
    CHECK(one_line(tls.err().message));
    CHECK(contains(tls.err().message, why));
}

// Run alone by the ctest entry tls.no_libssl, with a broken libssl first on LD_LIBRARY_PATH.
TEST_CASE("libssl that cannot be loaded: an error naming it, and nothing loaded before" *
          doctest::skip()) {
    auto mapped = [] {
        std::ifstream maps("/proc/self/maps");
        std::stringstream s;
        s << maps.rdbuf();
        return s.str();
    };
    CHECK(!contains(mapped(), "libssl"));
    net::io_context io;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ::close(fds[1]);
    auto tls = handshake(io, std::make_unique<descriptor_stream>(io.get_executor(), fds[0]),
                         "localhost", {});
    INFO(describe(tls));
    REQUIRE(!tls);
    CHECK(tls.err().kind == failure::internal);
    CHECK(one_line(tls.err().message));
    CHECK(contains(tls.err().message, "cannot load " CORKSCREW_LIBSSL));
}

TEST_SUITE_END();
