// What the scripted tests share: the program's location, its exit codes, common answers.
#pragma once

#include "../support/bytes.hpp"
#include "../support/process.hpp"
#include "../support/request_head.hpp"
#include "../support/scripted_proxy.hpp"
#include "../support/terminal.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace corkscrew_test {

// Exit codes from the command-line contract.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int internal = 1;
inline constexpr int usage = 2;
inline constexpr int proxy_unreachable = 3;
inline constexpr int refused = 4;
inline constexpr int auth_failed = 5;
inline constexpr int bad_answer = 6;
inline constexpr int timeout = 7;
inline constexpr int tunnel_io = 8;
inline constexpr int compression = 9;
} // namespace exit_code

inline constexpr std::string_view banner = "SSH-2.0-FAKE\r\n";
inline constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
inline constexpr std::string_view dest_host = "target.example";
inline constexpr std::string_view dest_port = "22";
inline constexpr std::string_view dest = "target.example:22";

// Bound for a single run of the program; every test stays well under a minute.
inline constexpr auto run_limit = std::chrono::seconds(20);

// The binary under test, from CORKSCREW_BIN (throws when unset).
std::string program();

// corkscrew form: PROXYHOST PROXYPORT DESTHOST DESTPORT [AUTHFILE].
spawn_options corkscrew_form(const scripted_proxy& proxy, std::vector<std::string> extra = {});
// Modern form: [OPTIONS] -x URL DESTHOST DESTPORT.
spawn_options modern_form(const std::string& proxy_url, std::vector<std::string> options = {},
                          std::string host = std::string(dest_host),
                          std::string port = std::string(dest_port));
std::string proxy_url(const scripted_proxy& proxy, const std::string& userinfo = "");

// Status and stderr, for INFO() so that failures explain themselves.
std::string context(const run_result& r);
std::string context(const child_process& child);

// Start with stdin open, wait (bounded) until stdout holds at least `expected` bytes, then
// close stdin and wait for the exit. Proves delivery did not wait for stdin's EOF.
run_result run_until_delivered(const spawn_options& options, std::size_t expected,
                               std::string_view stdin_data = {});

// Send `signal` and wait (bounded by `limit`) for the exit; returns the seconds from the signal
// to the exit.
double signal_and_wait(child_process& child, int signal,
                       clock::duration limit = std::chrono::seconds(5));
// Ended as the contract says for a signal: exit status 128+N, or killed by it, without a core.
bool ended_by(const exit_status& status, int signal);

// The error contract: one line, "corkscrew++: " first, mentioning each of `parts`.
bool is_one_error_line(const std::string& err);
bool mentions_all(const std::string& text, const std::vector<std::string>& parts);

// A port on 127.0.0.1 that is bound (so nobody else takes it) but not listening: connecting
// to it is refused.
class refusing_port {
public:
    refusing_port();
    ~refusing_port();
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// An address and port on loopback where connecting neither succeeds nor fails: a listener with
// a full accept queue (backlog 0, one connection waiting), whose kernel drops further SYNs, as a
// blackholed route or a dead server does. Or, with `refuse`, a bound port nobody listens on.
class silent_address {
public:
    silent_address(const char* ip, std::uint16_t port, bool refuse = false);
    ~silent_address();
    silent_address(const silent_address&) = delete;
    silent_address& operator=(const silent_address&) = delete;
    std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_ = 0;
    int listener_ = -1;
    int filler_ = -1;
};

// Options that preload the getaddrinfo() shim (tests/support/fake_dns.cpp), under which names
// ending in ".slow.invalid" take 30 s to fail (`mark` is created when such a lookup begins) and
// names ending in ".nx.invalid" do not exist.
spawn_options with_fake_dns(spawn_options options, const std::string& mark);

// The CPU time a running process has used so far: the scheduler's own sum where the kernel shows
// it (/proc/PID/sched, to the microsecond), else utime + stime in clock ticks.
std::chrono::microseconds cpu_time(pid_t pid);

// A destination on 127.0.0.1 that accepts one connection and holds it open, silent, whatever
// the client sends or shuts down: only something else than the destination can end a relay to
// it.
class holding_destination {
public:
    holding_destination();
    ~holding_destination();
    holding_destination(const holding_destination&) = delete;
    holding_destination& operator=(const holding_destination&) = delete;
    std::uint16_t port() const { return port_; }
    // Waits (bounded) for the connection and keeps it.
    bool accept_one(std::chrono::milliseconds limit);

private:
    int listener_ = -1;
    int held_ = -1;
    std::uint16_t port_ = 0;
};

// A descriptor the test owns, closed at the end of its scope or by reset().
class owned_fd {
public:
    explicit owned_fd(int fd = -1) : fd_(fd) {}
    ~owned_fd() { reset(); }
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

// Read from the test's end of the child's stdio (or a socket it handed over) until `got` holds
// `want`; false on EOF, error or when the limit passes.
bool read_until(const owned_fd& fd, std::string& got, std::string_view want, clock::duration limit);

// Write a few bytes to the test's end; they fit in any socket or terminal buffer.
void write_all(const owned_fd& fd, std::string_view bytes);

// The client bytes the destination has received so far, on the first connection.
std::string received(const scripted_proxy& proxy);

// A file that exists for the life of the object.
class temp_file {
public:
    explicit temp_file(std::string_view contents);
    ~temp_file();
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    const std::string& path() const { return path_; }
    std::string read() const;

private:
    std::string path_;
};

// A private directory (mode 700) that exists, with everything put in it, for the life of the
// object: a home directory, or a place for files that need a chosen name or mode.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    // Writes `name` in the directory with exactly `mode` (whatever the umask); returns its path.
    std::string write(const std::string& name, std::string_view contents, mode_t mode = 0600) const;

private:
    std::string path_;
};

} // namespace corkscrew_test
