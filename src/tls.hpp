// TLS to a proxy (an https:// hop), as a client, over any byte_stream: the TCP connection to the
// proxy, or the tunnel through the hops before it.
//
// libssl is loaded the first time a TLS hop is used (library.hpp): linked, it would cost every
// run about a millisecond of start-up, and most runs have no TLS hop.
#pragma once

#include "error.hpp"
#include "stream.hpp"

#include <memory>
#include <optional>
#include <string>

namespace corkscrew {

struct tls_settings {
    // Trust only the CA certificates of this PEM file (--proxy-cacert), not the system's store.
    std::optional<std::string> ca_file;
    // No verification at all (--proxy-insecure): neither the chain nor the name.
    bool insecure = false;
    // A client certificate, with the chain to send after it, in PEM (--proxy-cert).
    std::optional<std::string> cert_file;
    // Its private key in PEM (--proxy-key); taken from cert_file when empty. A key protected by
    // a passphrase is refused, not asked for.
    std::optional<std::string> key_file;
};

// Runs a TLS handshake (1.2 or later) as a client over `inner` and returns the stream that
// encrypts and decrypts over it. `host` is the proxy's name as the user gave it: sent as SNI
// unless it is an IP address literal (IPv6 with or without brackets), and checked against the
// certificate as a name or as an address, unless settings.insecure.
//
// Fails with usage when a file of `settings` cannot be used, proxy_unreachable when the handshake
// fails (the message says why in one line, with a hint when it is the certificate), and internal
// when libssl cannot be loaded. The message does not say which proxy: the caller adds that.
// Closing `inner` while the handshake waits aborts it.
//
// The stream has no descriptor (native_handle() is -1) and cannot peek. Reading and writing may
// run concurrently (the relay's two directions); shutdown_send() sends close_notify and ends
// `inner`'s sending side, and reading goes on. Reading ends with EOF at the proxy's close_notify,
// and also when `inner` ends without one.
net::awaitable<result<std::unique_ptr<byte_stream>>> start_tls(std::unique_ptr<byte_stream> inner,
                                                               const std::string& host,
                                                               const tls_settings& settings);

} // namespace corkscrew
