// A TLS 1.3 echo server for one connection on its stdin (a socket, inetd style), which every so
// many bytes asks the client for a KeyUpdate or sends it a new session ticket, in turn:
// post-handshake messages in the middle of a bulk transfer both ways. Written on OpenSSL directly,
// independent of the code under test.
//
// Usage: tls_peer CERT KEY UPDATE_EVERY_BYTES
// At its end it writes "key updates received: N" to stderr: the client's answers.
//
// stunnel serves the other tests; this one exists because stunnel (5.68) loses the end of a bulk
// echo (it takes the hang-up of its exec'd program's socket for the end while bytes are still
// unread in it), and it cannot send KeyUpdates.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

// Plaintext per read: a TLS record's worth.
constexpr int buffer_bytes = 16 * 1024;

// The handshake type of a KeyUpdate message (RFC 8446 section 4).
constexpr unsigned char key_update_type = 24;

int key_updates_received = 0;

// Counts the KeyUpdate messages that come in.
void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void*) {
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        static_cast<const unsigned char*>(buf)[0] == key_update_type)
        ++key_updates_received;
}

int failed(const char* what) {
    std::fprintf(stderr, "tls_peer: %s\n", what);
    ERR_print_errors_fp(stderr);
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4)
        return failed("usage: tls_peer CERT KEY UPDATE_EVERY_BYTES");
    const long every = std::strtol(argv[3], nullptr, 10);
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    if (context == nullptr || SSL_CTX_use_certificate_chain_file(context, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(context, argv[2], SSL_FILETYPE_PEM) != 1)
        return failed("cannot set up the server");
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    SSL_CTX_set_msg_callback(context, on_message);
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, STDIN_FILENO);
    if (SSL_accept(ssl) != 1)
        return failed("handshake failed");

    std::vector<char> buffer(buffer_bytes);
    long since_update = 0;
    bool ticket_next = false;
    for (;;) {
        const int n = SSL_read(ssl, buffer.data(), buffer_bytes);
        if (n <= 0) {
            // The client's close_notify ends the echo; anything else is a failure.
            if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN)
                return failed("SSL_read failed");
            break;
        }
        since_update += n;
        if (since_update >= every) {
            since_update = 0;
            // Either goes out with the next write, between two records of the echo; OpenSSL
            // takes one at a time.
            const bool scheduled = ticket_next ? SSL_new_session_ticket(ssl) == 1
                                               : SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) == 1;
            if (!scheduled)
                return failed(ticket_next ? "cannot send a session ticket"
                                          : "cannot ask for a KeyUpdate");
            ticket_next = !ticket_next;
        }
        if (SSL_write(ssl, buffer.data(), n) != n)
            return failed("SSL_write failed");
    }
    SSL_shutdown(ssl);
    std::fprintf(stderr, "key updates received: %d\n", key_updates_received);
    SSL_free(ssl);
    SSL_CTX_free(context);
    return 0;
}
