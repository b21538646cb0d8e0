// Real TLS servers for the TLS tests: throwaway certificates made with the openssl tool, and
// stunnel serving one connection in inetd mode, on a socket the test hands it, with a command
// (cat, wc) on the plaintext side; or tls_peer, an echo that sends KeyUpdates.
#pragma once

#include "../support/process.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace corkscrew_test {

// The openssl and stunnel programs the build found (CORKSCREW_OPENSSL, CORKSCREW_STUNNEL); throws
// naming the package when one is missing.
std::string openssl_program();
std::string stunnel_program();
// The tests' own TLS echo server (CORKSCREW_TLS_PEER), tls_peer.cpp.
std::string tls_peer_program();
// `name` as the PATH finds it (cat, wc), for stunnel's exec option, which wants a full path.
std::string program_in_path(const std::string& name);

// A private directory removed, with what it holds, when the object ends.
class temp_directory {
public:
    temp_directory();
    ~temp_directory();
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;

    std::string file(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A CA and a server certificate it signed (for "localhost" and 127.0.0.1), a client certificate
// it signed, and a second CA that signed nothing here. Made once per test run with the openssl
// tool, in a private directory removed at exit; never checked in.
struct test_pki {
    std::string ca;       // PEM certificate
    std::string wrong_ca; // PEM certificate
    std::string server_cert;
    std::string server_key;
    std::string client_cert;
    std::string client_key;
    std::string client_cert_and_key;  // both in one file
    std::string client_key_encrypted; // passphrase "secret"
    std::string wrong_ca_key;         // not the client certificate's key
};

// Throws, saying what is missing, when the openssl tool is not there or fails.
const test_pki& pki();

struct server_config {
    // Runs with the plaintext as its stdin and stdout, given with its full path.
    std::vector<std::string> command = {program_in_path("cat")};
    // Ask for a client certificate, and refuse the connection without one the CA signed.
    bool require_client_cert = false;
    // The newest TLS version to speak, as stunnel names it ("TLSv1.2"); the default is 1.3.
    // "TLSv1.1" is allowed as OpenSSL's lowest security level allows it.
    std::string max_version;
    // Instead of stunnel: tls_peer, an echo that asks for a KeyUpdate and sends a session ticket
    // every so many bytes (the fields above do not apply).
    std::optional<long> key_update_every;
};

// stunnel serving the connection on `socket` (the test's copy stays the test's). Ends with the
// object: killed if still running.
class tls_server {
public:
    tls_server(int socket, const server_config& config);
    ~tls_server();
    tls_server(const tls_server&) = delete;
    tls_server& operator=(const tls_server&) = delete;

    // Ends the server at once (SIGKILL): the connection closes without close_notify.
    void kill();

    // What the server logged, for INFO().
    std::string log() const;

    // Waits (bounded) for the server to end, and returns what it logged.
    std::string finish();

    // Writes a configuration for stunnel in inetd mode into `dir`, where it logs too; returns its
    // path. For running one stunnel inside another.
    static std::string write_config(const std::string& dir, const server_config& config);

private:
    temp_directory dir_;
    std::unique_ptr<child_process> child_;
};

} // namespace corkscrew_test
