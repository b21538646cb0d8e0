#include "tls_server.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace corkscrew_test {

namespace {

using namespace std::chrono_literals;

// Bound for one run of the openssl tool; making an EC key and signing take milliseconds.
constexpr auto openssl_limit = 30s;

std::string program_from(const char* variable, const char* remedy) {
    const char* path = std::getenv(variable);
    if (path == nullptr || *path == '\0' || ::access(path, X_OK) != 0)
        throw std::runtime_error(std::string(variable) + " does not name a program: " + remedy);
    return path;
}

void write_file(const std::string& path, const std::string& contents) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush())
        throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void openssl(std::vector<std::string> args) {
    spawn_options o;
    o.program = openssl_program();
    o.args = std::move(args);
    const auto r = run(o, {}, openssl_limit);
    if (!r.status.exited || r.status.code != 0) {
        std::string command = "openssl";
        for (const auto& a : o.args)
            command += " " + a;
        throw std::runtime_error(command + ": " + r.status.describe() + ": " + r.err);
    }
}

// The extensions of each kind of certificate (openssl x509 -extfile ... -extensions NAME).
constexpr const char* extensions = R"([ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
)";

struct made_pki {
    temp_directory dir;
    test_pki files;

    made_pki() {
        const auto f = [this](const char* name) { return dir.file(name); };
        const std::string ext = f("extensions.cnf");
        write_file(ext, extensions);
        // P-256 keys: made in a millisecond, unlike RSA ones.
        const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt",
                                                  "ec_paramgen_curve:prime256v1", "-nodes"};
        const auto self_signed = [&](const std::string& name, const std::string& subject) {
            std::vector<std::string> args = {"req", "-new"};
            args.insert(args.end(), new_key.begin(), new_key.end());
            args.insert(args.end(), {"-keyout", f((name + ".key").c_str()), "-out",
                                     f((name + ".csr").c_str()), "-subj", subject});
            openssl(args);
            openssl({"x509", "-req", "-in", f((name + ".csr").c_str()), "-signkey",
                     f((name + ".key").c_str()), "-days", "2", "-extfile", ext, "-extensions", "ca",
                     "-out", f((name + ".pem").c_str())});
        };
        const auto signed_by_ca = [&](const std::string& name, const std::string& subject,
                                      const std::string& kind, const std::string& serial) {
            std::vector<std::string> args = {"req", "-new"};
            args.insert(args.end(), new_key.begin(), new_key.end());
            args.insert(args.end(), {"-keyout", f((name + ".key").c_str()), "-out",
                                     f((name + ".csr").c_str()), "-subj", subject});
            openssl(args);
            openssl({"x509", "-req", "-in", f((name + ".csr").c_str()), "-CA", f("ca.pem"),
                     "-CAkey", f("ca.key"), "-set_serial", serial, "-days", "2", "-extfile", ext,
                     "-extensions", kind, "-out", f((name + ".pem").c_str())});
        };
        self_signed("ca", "/CN=corkscrew test CA");
        self_signed("wrong-ca", "/CN=corkscrew other test CA");
        signed_by_ca("server", "/CN=localhost", "server", "2");
        signed_by_ca("client", "/CN=corkscrew test client", "client", "3");
        openssl({"pkey", "-in", f("client.key"), "-aes128", "-passout", "pass:secret", "-out",
                 f("client-encrypted.key")});
        write_file(f("client-both.pem"), read_file(f("client.pem")) + read_file(f("client.key")));
        files = {f("ca.pem"),          f("wrong-ca.pem"),         f("server.pem"),
                 f("server.key"),      f("client.pem"),           f("client.key"),
                 f("client-both.pem"), f("client-encrypted.key"), f("wrong-ca.key")};
    }
};

std::string basename_of(const std::string& path) {
    return std::filesystem::path(path).filename();
}

} // namespace

temp_directory::temp_directory() {
    std::string pattern = std::filesystem::temp_directory_path() / "corkscrew-tls-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

temp_directory::~temp_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string openssl_program() {
    return program_from("CORKSCREW_OPENSSL",
                        "install the package openssl (tools/packages.txt) and configure again");
}

std::string stunnel_program() {
    return program_from("CORKSCREW_STUNNEL",
                        "install the package stunnel4 (tools/packages.txt) and configure again");
}

std::string program_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t at = 0; at <= dirs.size();) {
        auto end = dirs.find(':', at);
        if (end == std::string::npos)
            end = dirs.size();
        const std::string candidate = dirs.substr(at, end - at) + "/" + name;
        if (end > at && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        at = end + 1;
    }
    throw std::runtime_error(name + " is not in the PATH");
}

std::string tls_peer_program() {
    return program_from("CORKSCREW_TLS_PEER", "run the tests through ctest");
}

const test_pki& pki() {
    static const made_pki made;
    return made.files;
}

std::string tls_server::write_config(const std::string& dir, const server_config& config) {
    const auto& p = pki();
    std::string execArgs = basename_of(config.command.at(0));
    for (std::size_t i = 1; i < config.command.size(); ++i)
        execArgs += " " + config.command[i];
    // No accept option: inetd mode, TLS on stdin and stdout. Everything is logged to a file of
    // the test's, not syslog, for INFO() when a test fails.
    std::string text = "syslog = no\n"
                       "output = " +
                       dir + "/stunnel.log\n" + "debug = 5\n" + "cert = " + p.server_cert + "\n" +
                       "key = " + p.server_key + "\n" + "exec = " + config.command.at(0) + "\n" +
                       "execArgs = " + execArgs + "\n";
    if (config.require_client_cert)
        text += "CAfile = " + p.ca + "\nverifyChain = yes\n";
    if (!config.max_version.empty())
        text += "sslVersionMax = " + config.max_version + "\n";
    if (config.max_version == "TLSv1.1")
        text += "securityLevel = 0\nciphers = DEFAULT:@SECLEVEL=0\n";
    const std::string path = dir + "/stunnel.conf";
    write_file(path, text);
    return path;
}

tls_server::tls_server(int socket, const server_config& config) {
    spawn_options o;
    if (config.key_update_every) {
        o.program = tls_peer_program();
        o.args = {pki().server_cert, pki().server_key, std::to_string(*config.key_update_every)};
    } else {
        o.program = stunnel_program();
        o.args = {write_config(dir_.path(), config)};
    }
    o.stdin_fd = socket;
    o.stdout_fd = socket;
    child_ = std::make_unique<child_process>(o);
}

tls_server::~tls_server() = default;

void tls_server::kill() {
    child_->send_signal(SIGKILL);
    child_->wait(openssl_limit);
}

std::string tls_server::log() const {
    return read_file(dir_.path() + "/stunnel.log") + child_->err();
}

std::string tls_server::finish() {
    child_->wait(openssl_limit);
    return log();
}

} // namespace corkscrew_test
