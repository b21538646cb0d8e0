#include "tls.hpp"

#include "library.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

namespace corkscrew {

namespace {

// The most plaintext one TLS record carries: 2^14 bytes (RFC 8446 section 5.1).
constexpr std::size_t max_record_plaintext = 16 * 1024;

// A whole record on the wire at most: 5 bytes of header, then the plaintext and up to 2048 bytes
// of expansion (RFC 5246 section 6.2.3; TLS 1.3 allows 256, RFC 8446 section 5.2).
constexpr std::size_t max_record_bytes = 5 + max_record_plaintext + 2048;

// Ciphertext read from the inner stream at once, and taken from OpenSSL's output per write to it:
// a few whole records per system call in a bulk transfer.
constexpr std::size_t inner_io_bytes = 4 * max_record_bytes;

// Plaintext encrypted before its records are written to the inner stream: as much as one inner
// write carries, so what waits in memory stays small however much write_all is given.
constexpr std::size_t write_batch_bytes = 4 * max_record_plaintext;

// The first bytes of an answer that show the proxy speaks plain HTTP, not TLS ("HTTP/1.1 400").
constexpr std::string_view plain_http = "HTTP/";

// The libssl and libcrypto functions TLS uses, loaded on the first TLS hop (library.hpp). Each is
// named and typed as the OpenSSL headers declare it, so the compiler checks every call. The
// "functions" OpenSSL defines as macros (SSL_set_tlsext_host_name,
// SSL_CTX_set_min_proto_version) are called through the SSL_ctrl and SSL_CTX_ctrl under them.
struct ssl_functions {
    decltype(&::TLS_client_method) TLS_client_method = nullptr;
    decltype(&::SSL_CTX_new) SSL_CTX_new = nullptr;
    decltype(&::SSL_CTX_free) SSL_CTX_free = nullptr;
    decltype(&::SSL_CTX_ctrl) SSL_CTX_ctrl = nullptr;
    decltype(&::SSL_CTX_set_verify) SSL_CTX_set_verify = nullptr;
    decltype(&::SSL_CTX_set_default_verify_paths) SSL_CTX_set_default_verify_paths = nullptr;
    decltype(&::SSL_CTX_load_verify_locations) SSL_CTX_load_verify_locations = nullptr;
    decltype(&::SSL_CTX_set_default_passwd_cb) SSL_CTX_set_default_passwd_cb = nullptr;
    decltype(&::SSL_CTX_set_default_passwd_cb_userdata) SSL_CTX_set_default_passwd_cb_userdata =
        nullptr;
    decltype(&::SSL_CTX_use_certificate_chain_file) SSL_CTX_use_certificate_chain_file = nullptr;
    decltype(&::SSL_CTX_use_PrivateKey_file) SSL_CTX_use_PrivateKey_file = nullptr;
    decltype(&::SSL_CTX_check_private_key) SSL_CTX_check_private_key = nullptr;
    decltype(&::SSL_new) SSL_new = nullptr;
    decltype(&::SSL_free) SSL_free = nullptr;
    decltype(&::SSL_ctrl) SSL_ctrl = nullptr;
    decltype(&::SSL_set_bio) SSL_set_bio = nullptr;
    decltype(&::SSL_set_connect_state) SSL_set_connect_state = nullptr;
    decltype(&::SSL_set1_host) SSL_set1_host = nullptr;
    decltype(&::SSL_set_hostflags) SSL_set_hostflags = nullptr;
    decltype(&::SSL_get0_param) SSL_get0_param = nullptr;
    decltype(&::SSL_do_handshake) SSL_do_handshake = nullptr;
    decltype(&::SSL_read_ex) SSL_read_ex = nullptr;
    decltype(&::SSL_write_ex) SSL_write_ex = nullptr;
    decltype(&::SSL_shutdown) SSL_shutdown = nullptr;
    decltype(&::SSL_get_error) SSL_get_error = nullptr;
    decltype(&::SSL_get_verify_result) SSL_get_verify_result = nullptr;
    // From libcrypto, which libssl depends on.
    decltype(&::BIO_new) BIO_new = nullptr;
    decltype(&::BIO_s_mem) BIO_s_mem = nullptr;
    decltype(&::BIO_free) BIO_free = nullptr;
    decltype(&::BIO_read) BIO_read = nullptr;
    decltype(&::BIO_write) BIO_write = nullptr;
    decltype(&::BIO_ctrl_pending) BIO_ctrl_pending = nullptr;
    decltype(&::ERR_get_error) ERR_get_error = nullptr;
    decltype(&::ERR_clear_error) ERR_clear_error = nullptr;
    decltype(&::ERR_reason_error_string) ERR_reason_error_string = nullptr;
    decltype(&::ERR_error_string_n) ERR_error_string_n = nullptr;
    decltype(&::X509_VERIFY_PARAM_set1_ip_asc) X509_VERIFY_PARAM_set1_ip_asc = nullptr;
    decltype(&::X509_verify_cert_error_string) X509_verify_cert_error_string = nullptr;
};

result<ssl_functions> load_ssl_functions() {
    auto ssl = library::open(CORKSCREW_LIBSSL);
    if (!ssl)
        return ssl.err();
    auto crypto = library::open(CORKSCREW_LIBCRYPTO);
    if (!crypto)
        return crypto.err();
    ssl_functions f;
    const char* missing = nullptr;
    auto need = [&missing](const library& from, auto& function, const char* name) {
        if (!missing && !from.bind(function, name))
            missing = name;
    };
    // Binds the member of `f` named as the function, so that the two cannot differ.
#define CORKSCREW_BIND(from, name) need(**from, f.name, #name)
    CORKSCREW_BIND(ssl, TLS_client_method);
    CORKSCREW_BIND(ssl, SSL_CTX_new);
    CORKSCREW_BIND(ssl, SSL_CTX_free);
    CORKSCREW_BIND(ssl, SSL_CTX_ctrl);
    CORKSCREW_BIND(ssl, SSL_CTX_set_verify);
    CORKSCREW_BIND(ssl, SSL_CTX_set_default_verify_paths);
    CORKSCREW_BIND(ssl, SSL_CTX_load_verify_locations);
    CORKSCREW_BIND(ssl, SSL_CTX_set_default_passwd_cb);
    CORKSCREW_BIND(ssl, SSL_CTX_set_default_passwd_cb_userdata);
    CORKSCREW_BIND(ssl, SSL_CTX_use_certificate_chain_file);
    CORKSCREW_BIND(ssl, SSL_CTX_use_PrivateKey_file);
    CORKSCREW_BIND(ssl, SSL_CTX_check_private_key);
    CORKSCREW_BIND(ssl, SSL_new);
    CORKSCREW_BIND(ssl, SSL_free);
    CORKSCREW_BIND(ssl, SSL_ctrl);
    CORKSCREW_BIND(ssl, SSL_set_bio);
    CORKSCREW_BIND(ssl, SSL_set_connect_state);
    CORKSCREW_BIND(ssl, SSL_set1_host);
    CORKSCREW_BIND(ssl, SSL_set_hostflags);
    CORKSCREW_BIND(ssl, SSL_get0_param);
    CORKSCREW_BIND(ssl, SSL_do_handshake);
    CORKSCREW_BIND(ssl, SSL_read_ex);
    CORKSCREW_BIND(ssl, SSL_write_ex);
    CORKSCREW_BIND(ssl, SSL_shutdown);
    CORKSCREW_BIND(ssl, SSL_get_error);
    CORKSCREW_BIND(ssl, SSL_get_verify_result);
    CORKSCREW_BIND(crypto, BIO_new);
    CORKSCREW_BIND(crypto, BIO_s_mem);
    CORKSCREW_BIND(crypto, BIO_free);
    CORKSCREW_BIND(crypto, BIO_read);
    CORKSCREW_BIND(crypto, BIO_write);
    CORKSCREW_BIND(crypto, BIO_ctrl_pending);
    CORKSCREW_BIND(crypto, ERR_get_error);
    CORKSCREW_BIND(crypto, ERR_clear_error);
    CORKSCREW_BIND(crypto, ERR_reason_error_string);
    CORKSCREW_BIND(crypto, ERR_error_string_n);
    CORKSCREW_BIND(crypto, X509_VERIFY_PARAM_set1_ip_asc);
    CORKSCREW_BIND(crypto, X509_verify_cert_error_string);
#undef CORKSCREW_BIND
    if (missing)
        return fail(failure::internal, (*ssl)->soname() + " or " + (*crypto)->soname() + " lacks " +
                                           missing + ", which TLS needs");
    return f;
}

const result<ssl_functions>& ssl_library() {
    static const result<ssl_functions> loaded = load_ssl_functions();
    return loaded;
}

// Why OpenSSL's last call failed: the reason of the first error queued ("certificate verify
// failed", or the system's for a file that cannot be read), or `otherwise` when none is. Empties
// the queue.
std::string openssl_reason(const ssl_functions& f, const char* otherwise) {
    unsigned long e = f.ERR_get_error();
    f.ERR_clear_error();
    if (e == 0)
        return otherwise;
    if (ERR_GET_LIB(e) == ERR_LIB_SYS)
        return std::strerror(ERR_GET_REASON(e));
    if (const char* reason = f.ERR_reason_error_string(e))
        return reason;
    char text[256];
    f.ERR_error_string_n(e, text, sizeof text);
    return text;
}

// OpenSSL's failures after the handshake (an alert from the proxy, a record that does not
// decrypt), as error codes for the relay's messages. The value is OpenSSL's packed error code.
class tls_category_impl final : public boost::system::error_category {
public:
    // A failure OpenSSL queued no error for.
    static constexpr int unexplained = -1;

    const char* name() const noexcept override { return "tls"; }

    std::string message(int value) const override {
        const auto& f = ssl_library();
        const char* reason = nullptr;
        if (value != unexplained && f)
            reason = f->ERR_reason_error_string(static_cast<unsigned>(value));
        return std::string("TLS: ") + (reason ? reason : "the session failed");
    }
};

const boost::system::error_category& tls_category() {
    static const tls_category_impl category;
    return category;
}

// The error code of the failure OpenSSL just reported. Empties the queue.
error_code tls_failure(const ssl_functions& f) {
    unsigned long e = f.ERR_get_error();
    f.ERR_clear_error();
    int value =
        e == 0 ? tls_category_impl::unexplained : static_cast<int>(static_cast<unsigned>(e));
    return {value, tls_category()};
}

// A passphrase-protected key is refused, not asked for: OpenSSL's own prompt would read the
// terminal from under ssh, whose ProxyCommand this is. Notes that one was wanted.
int refuse_passphrase(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return 0;
}

struct context_free {
    void operator()(SSL_CTX* c) const { ssl_library()->SSL_CTX_free(c); }
};
using context_ptr = std::unique_ptr<SSL_CTX, context_free>;

struct ssl_free {
    void operator()(SSL* s) const { ssl_library()->SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_free>;

// The settings as an OpenSSL context.
result<context_ptr> make_context(const ssl_functions& f, const tls_settings& settings) {
    f.ERR_clear_error();
    context_ptr context(f.SSL_CTX_new(f.TLS_client_method()));
    if (!context)
        return fail(failure::internal, "cannot set up TLS: " + openssl_reason(f, "out of memory"));
    SSL_CTX* c = context.get();
    // TLS 1.0 and 1.1 are deprecated (RFC 8996).
    f.SSL_CTX_ctrl(c, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);

    if (settings.insecure) {
        f.SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    } else {
        f.SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
        if (settings.ca_file) {
            if (f.SSL_CTX_load_verify_locations(c, settings.ca_file->c_str(), nullptr) != 1)
                return fail(failure::usage, "cannot read CA certificates from " +
                                                *settings.ca_file + ": " +
                                                openssl_reason(f, "no certificate in it"));
        } else if (f.SSL_CTX_set_default_verify_paths(c) != 1) {
            return fail(failure::internal, "cannot use the system's CA certificates: " +
                                               openssl_reason(f, "unknown error"));
        }
    }

    if (!settings.cert_file) {
        if (settings.key_file)
            return fail(failure::usage, "a client key (" + *settings.key_file +
                                            ") without a client certificate to go with it");
        return context;
    }
    const std::string& cert = *settings.cert_file;
    const std::string& key = settings.key_file ? *settings.key_file : cert;
    if (f.SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1)
        return fail(failure::usage, "cannot read a client certificate from " + cert + ": " +
                                        openssl_reason(f, "no certificate in it"));
    bool passphrase_asked = false;
    f.SSL_CTX_set_default_passwd_cb(c, refuse_passphrase);
    f.SSL_CTX_set_default_passwd_cb_userdata(c, &passphrase_asked);
    int loaded = f.SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM);
    f.SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);
    if (loaded != 1 && passphrase_asked) {
        f.ERR_clear_error();
        return fail(failure::usage, "the private key in " + key +
                                        " is protected by a passphrase, which cannot be asked "
                                        "for here; use a copy without it");
    }
    // A key that is not the certificate's fails here already ("key values mismatch").
    if (loaded != 1)
        return fail(failure::usage,
                    "cannot use the private key in " + key +
                        " for the client certificate: " + openssl_reason(f, "no key in it"));
    if (f.SSL_CTX_check_private_key(c) != 1)
        return fail(failure::usage, "cannot use the private key in " + key +
                                        " for the client certificate: " +
                                        openssl_reason(f, "it is not the certificate's"));
    return context;
}

// `host` without the brackets of an IPv6 literal, when it is an IP address literal.
std::optional<std::string> address_literal(const std::string& host) {
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
        bare = bare.substr(1, bare.size() - 2);
    error_code ec;
    net::ip::make_address(bare, ec);
    if (ec)
        return std::nullopt;
    return bare;
}

// An OpenSSL session reading its ciphertext from `in` and writing it to `out`, memory BIOs it
// owns.
struct ssl_session {
    ssl_ptr ssl;
    BIO* in;
    BIO* out;
};

// A session for one connection to `host`: server name, name or address check, memory BIOs.
result<ssl_session> make_ssl(const ssl_functions& f, SSL_CTX* context, const std::string& host,
                             const tls_settings& settings) {
    f.ERR_clear_error();
    ssl_ptr ssl(f.SSL_new(context));
    BIO* in = f.BIO_new(f.BIO_s_mem());
    BIO* out = f.BIO_new(f.BIO_s_mem());
    if (!ssl || !in || !out) {
        f.BIO_free(in);
        f.BIO_free(out);
        return fail(failure::internal, "cannot set up TLS: " + openssl_reason(f, "out of memory"));
    }
    // The session owns both from here.
    f.SSL_set_bio(ssl.get(), in, out);
    f.SSL_set_connect_state(ssl.get());
    ssl_session session{std::move(ssl), in, out};
    SSL* s = session.ssl.get();

    auto address = address_literal(host);
    // Server Name Indication names a host, never an address (RFC 6066 section 3).
    if (!address)
        f.SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(host.c_str()));
    if (settings.insecure)
        return session;
    bool checked;
    if (address) {
        checked = f.X509_VERIFY_PARAM_set1_ip_asc(f.SSL_get0_param(s), address->c_str());
    } else {
        // "*.example.com" matches "a.example.com", but "a*.example.com" matches nothing (RFC 6125
        // section 7.2 advises against partial wildcards).
        f.SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        checked = f.SSL_set1_host(s, host.c_str());
    }
    if (!checked)
        return fail(failure::usage, "cannot check the proxy's certificate against '" + host +
                                        "': " + openssl_reason(f, "not a host name"));
    return session;
}

// Waiting for something another coroutine on the same thread does: cancel() wakes every waiter.
// The timer never expires by itself.
class event {
public:
    explicit event(const net::any_io_executor& executor)
        : timer_(executor, net::steady_timer::time_point::max()) {}

    net::awaitable<void> wait() {
        error_code ignored;
        co_await timer_.async_wait(use_awaitable_ec(ignored));
    }

    void notify() { timer_.cancel(); }

private:
    net::steady_timer timer_;
};

// One TLS connection over the inner stream, pumping ciphertext between OpenSSL's memory BIOs and
// the inner stream.
//
// The relay reads and writes at once, from two coroutines on one thread, so either may need the
// inner stream while the other is using it:
// - One read of the inner stream at a time: whoever needs input first reads, into OpenSSL's input
//   BIO; the other waits for that read to end and then tries OpenSSL again. OpenSSL's calls never
//   wait themselves, so the two interleave only at those waits.
// - One write at a time, in order: OpenSSL's output BIO is written out by whichever side finds
//   output waiting and no write running; a writer waits until the inner stream has taken its
//   records (so what waits in memory stays bounded). A reader never waits for a write: its output
//   (a reply to a KeyUpdate, a TLS 1.2 renegotiation, an alert) goes out from a coroutine of its
//   own. A reader stuck writing while the proxy is stuck writing to us would stop both.
// That background writer may outlive the stream object, so it holds the session by shared_ptr.
class tls_session : public std::enable_shared_from_this<tls_session> {
public:
    tls_session(const ssl_functions& f, ssl_session ssl, std::unique_ptr<byte_stream> inner,
                const net::any_io_executor& executor)
        : f_(f), ssl_(std::move(ssl.ssl)), in_(ssl.in), out_(ssl.out), inner_(std::move(inner)),
          executor_(executor), received_(executor), sent_(executor),
          in_buffer_(std::make_unique_for_overwrite<char[]>(inner_io_bytes)),
          out_buffer_(std::make_unique_for_overwrite<char[]>(inner_io_bytes)) {}

    net::awaitable<std::optional<error>> handshake(const std::string& host) {
        for (;;) {
            f_.ERR_clear_error();
            int done = f_.SSL_do_handshake(ssl_.get());
            int why = done == 1 ? SSL_ERROR_NONE : f_.SSL_get_error(ssl_.get(), done);
            // The ClientHello, our answer to the proxy's flight, or the alert of a failure.
            auto sent = co_await send_all();
            if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_NONE) {
                if (sent)
                    co_return fail(failure::proxy_unreachable, "TLS handshake: " + sent.message());
                if (why == SSL_ERROR_NONE) {
                    handshake_done_ = true;
                    co_return std::nullopt;
                }
                // Receive the proxy's next flight
                auto ec = co_await receive();
                if (ec == net::error::eof)
                    co_return fail(failure::proxy_unreachable, closed_in_handshake());
                if (ec)
                    co_return fail(failure::proxy_unreachable, "TLS handshake: " + ec.message());
                continue;
            }
            co_return fail(failure::proxy_unreachable, handshake_failure(host));
        }
    }

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) {
        io_result r;
        auto* data = static_cast<char*>(buffer.data());
        while (r.bytes < buffer.size()) {
            if (closed_)
                read_end_ = net::error::operation_aborted;
            if (read_end_) {
                // What came before the end is returned first; the end comes with the next read.
                if (r.bytes == 0)
                    r.ec = read_end_;
                break;
            }
            f_.ERR_clear_error();
            std::size_t got = 0;
            int ok = f_.SSL_read_ex(ssl_.get(), data + r.bytes, buffer.size() - r.bytes, &got);
            int why = ok == 1 ? SSL_ERROR_NONE : f_.SSL_get_error(ssl_.get(), ok);
            send_soon();
            if (why == SSL_ERROR_NONE) {
                // More records may be waiting in the input BIO: fill the buffer with what is here.
                r.bytes += got;
            } else if (why == SSL_ERROR_WANT_READ) {
                if (r.bytes > 0)
                    break;
                // The inner stream ending without the proxy's close_notify ends reading too: a
                // TLS terminator in front of a proxy (stunnel) often just closes the connection,
                // and what the tunnel carries (ssh) has its own integrity and end, so a cut-short
                // stream gains an attacker nothing that cutting the TCP connection would not.
                if (auto ec = co_await receive())
                    read_end_ = ec;
            } else if (why == SSL_ERROR_ZERO_RETURN) {
                // The proxy's close_notify.
                read_end_ = net::error::eof;
            } else {
                fatal(tls_failure(f_));
            }
        }
        co_return r;
    }

    net::awaitable<io_result> write_all(net::const_buffer data) {
        io_result r;
        const auto* bytes = static_cast<const char*>(data.data());
        while (r.bytes < data.size() && !r.ec) {
            if (closed_) {
                r.ec = net::error::operation_aborted;
            } else if (send_closed_) {
                r.ec = net::error::broken_pipe;
            } else if (failure_) {
                r.ec = failure_;
            } else {
                f_.ERR_clear_error();
                std::size_t batch = std::min(write_batch_bytes, data.size() - r.bytes);
                std::size_t put = 0;
                int ok = f_.SSL_write_ex(ssl_.get(), bytes + r.bytes, batch, &put);
                int why = ok == 1 ? SSL_ERROR_NONE : f_.SSL_get_error(ssl_.get(), ok);
                if (why != SSL_ERROR_NONE && why != SSL_ERROR_WANT_READ)
                    fatal(tls_failure(f_));
                // The batch's records go out before the next is encrypted.
                r.ec = co_await send_all();
                if (why == SSL_ERROR_NONE) {
                    r.bytes += put;
                } else if (why == SSL_ERROR_WANT_READ && !r.ec) {
                    // A TLS 1.2 renegotiation the proxy asked for must end first: the same call
                    // is repeated once more input came.
                    r.ec = co_await receive();
                    if (r.ec == net::error::eof)
                        r.ec = net::error::broken_pipe;
                }
            }
        }
        co_return r;
    }

    net::awaitable<error_code> shutdown_send() {
        if (closed_)
            co_return net::error::operation_aborted;
        if (send_closed_)
            co_return error_code{};
        // Send close_notify; the proxy's is still to come, and reading goes on until it does
        // (OpenSSL lets SSL_read go on after SSL_shutdown, in TLS 1.3 and 1.2 alike). Never
        // after a fatal error, which has sent its alert instead.
        if (handshake_done_ && !failure_) {
            f_.ERR_clear_error();
            f_.SSL_shutdown(ssl_.get());
            f_.ERR_clear_error();
        }
        auto ec = co_await send_all();
        // From here on OpenSSL's output is dropped: nothing may follow close_notify, and the
        // inner stream takes nothing more.
        send_closed_ = true;
        auto inner_ec = co_await inner_->shutdown_send();
        co_return ec ? ec : inner_ec;
    }

    void close() {
        if (closed_)
            return;
        closed_ = true;
        received_.notify();
        sent_.notify();
        inner_->close();
    }

private:
    // A fatal TLS error: both directions end with it, and no close_notify follows.
    void fatal(error_code ec) {
        if (!failure_)
            failure_ = ec;
        if (!read_end_)
            read_end_ = ec;
    }

    std::size_t output_waiting() const { return f_.BIO_ctrl_pending(out_); }

    // Brings ciphertext from the inner stream into OpenSSL's input, or waits while the other
    // direction does. Success means "try OpenSSL again", not that there is more for this side.
    net::awaitable<error_code> receive() {
        if (closed_)
            co_return net::error::operation_aborted;
        if (receive_end_)
            co_return receive_end_;
        if (receiving_) {
            co_await received_.wait();
            co_return closed_ ? net::error::operation_aborted : error_code{};
        }
        receiving_ = true;
        auto r = co_await inner_->read_some(net::buffer(in_buffer_.get(), inner_io_bytes));
        receiving_ = false;
        if (r.bytes > 0) {
            if (!handshake_done_ && first_bytes_.size() < plain_http.size())
                first_bytes_.append(in_buffer_.get(),
                                    std::min(r.bytes, plain_http.size() - first_bytes_.size()));
            // A memory BIO takes everything (it grows), short of running out of memory.
            if (f_.BIO_write(in_, in_buffer_.get(), static_cast<int>(r.bytes)) !=
                static_cast<int>(r.bytes))
                r.ec = net::error::no_memory;
        }
        if (r.ec)
            receive_end_ = r.ec;
        received_.notify();
        if (closed_)
            co_return net::error::operation_aborted;
        co_return r.bytes > 0 ? error_code{} : r.ec;
    }

    // Writes OpenSSL's output to the inner stream until none is left and no write is running
    // (so that what this side produced has been taken, whoever wrote it).
    net::awaitable<error_code> send_all() {
        for (;;) {
            if (closed_)
                co_return net::error::operation_aborted;
            if (send_end_)
                co_return send_end_;
            if (sending_) {
                co_await sent_.wait();
                continue;
            }
            if (output_waiting() == 0)
                co_return error_code{};
            sending_ = true;
            int n = f_.BIO_read(out_, out_buffer_.get(), static_cast<int>(inner_io_bytes));
            if (n > 0 && !send_closed_) {
                auto w = co_await inner_->write_all(net::buffer(out_buffer_.get(), n));
                if (w.ec)
                    send_end_ = w.ec;
            }
            sending_ = false;
            sent_.notify();
        }
    }

    // Starts writing OpenSSL's output without waiting for it (see the class comment).
    void send_soon() {
        if (closed_ || sending_ || background_sending_ || output_waiting() == 0)
            return;
        background_sending_ = true;
        net::co_spawn(executor_, send_in_background(shared_from_this()), net::detached);
    }

    static net::awaitable<void> send_in_background(std::shared_ptr<tls_session> self) {
        co_await self->send_all();
        self->background_sending_ = false;
    }

    std::string closed_in_handshake() const {
        if (first_bytes_ == plain_http)
            return "the proxy answered in plain HTTP, not TLS (is it an http:// proxy?)";
        return "the proxy closed the connection during the TLS handshake";
    }

    std::string handshake_failure(const std::string& host) const {
        long verified = f_.SSL_get_verify_result(ssl_.get());
        if (verified == X509_V_OK && first_bytes_ == plain_http) {
            f_.ERR_clear_error();
            return "the proxy answered in plain HTTP, not TLS (is it an http:// proxy?)";
        }
        if (verified == X509_V_OK)
            return "TLS handshake failed: " + openssl_reason(f_, "unknown error");
        f_.ERR_clear_error();
        std::string why =
            std::string("certificate verify failed: ") + f_.X509_verify_cert_error_string(verified);
        if (verified == X509_V_ERR_HOSTNAME_MISMATCH || verified == X509_V_ERR_IP_ADDRESS_MISMATCH)
            return why + " (the certificate is not for " + host +
                   "; --proxy-insecure skips the check)";
        return why + " (give the proxy's CA with --proxy-cacert, or --proxy-insecure)";
    }

    const ssl_functions& f_;
    ssl_ptr ssl_;
    BIO* in_;  // ciphertext from the proxy, for OpenSSL to read; owned by ssl_
    BIO* out_; // ciphertext from OpenSSL, for the proxy; owned by ssl_
    std::unique_ptr<byte_stream> inner_;
    net::any_io_executor executor_;
    event received_; // an inner read ended
    event sent_;     // an inner write ended
    std::unique_ptr<char[]> in_buffer_;
    std::unique_ptr<char[]> out_buffer_;
    std::string first_bytes_; // of the handshake's answer, to recognize plain HTTP
    bool receiving_ = false;
    bool sending_ = false;
    bool background_sending_ = false;
    bool handshake_done_ = false;
    bool send_closed_ = false;
    bool closed_ = false;
    error_code receive_end_; // how the inner stream's reading ended (eof, an error)
    error_code send_end_;    // how writing to the inner stream failed
    error_code read_end_;    // what read_some reports from now on
    error_code failure_;     // a fatal TLS error
};

class tls_stream final : public byte_stream {
public:
    explicit tls_stream(std::shared_ptr<tls_session> session) : session_(std::move(session)) {}

    // A background write may still hold the session: closing makes it end now.
    ~tls_stream() override { session_->close(); }

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override {
        co_return co_await session_->read_some(buffer);
    }

    net::awaitable<io_result> write_all(net::const_buffer data) override {
        co_return co_await session_->write_all(data);
    }

    net::awaitable<error_code> shutdown_send() override {
        co_return co_await session_->shutdown_send();
    }

    void close() override { session_->close(); }

private:
    std::shared_ptr<tls_session> session_;
};

} // namespace

net::awaitable<result<std::unique_ptr<byte_stream>>> start_tls(std::unique_ptr<byte_stream> inner,
                                                               const std::string& host,
                                                               const tls_settings& settings) {
    const auto& library = ssl_library();
    if (!library)
        co_return library.err();
    const ssl_functions& f = *library;
    auto context = make_context(f, settings);
    if (!context)
        co_return context.err();
    auto ssl = make_ssl(f, context->get(), host, settings);
    if (!ssl)
        co_return ssl.err();
    auto executor = co_await net::this_coro::executor;
    auto session = std::make_shared<tls_session>(f, std::move(*ssl), std::move(inner), executor);
    // Shake hands
    if (auto failed = co_await session->handshake(host)) {
        session->close();
        co_return std::move(*failed);
    }
    co_return std::make_unique<tls_stream>(std::move(session));
}

} // namespace corkscrew
