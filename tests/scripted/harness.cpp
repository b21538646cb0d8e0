#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

namespace corkscrew_test {

std::string program() {
    const char* bin = std::getenv("CORKSCREW_BIN");
    if (bin == nullptr || *bin == '\0') {
        throw std::runtime_error("CORKSCREW_BIN is not set; run the tests through ctest");
    }
    return bin;
}

std::string proxy_url(const scripted_proxy& proxy, const std::string& userinfo) {
    return "http://" + (userinfo.empty() ? "" : userinfo + "@") + proxy.host_port();
}

spawn_options corkscrew_form(const scripted_proxy& proxy, std::vector<std::string> extra) {
    spawn_options o;
    o.program = program();
    o.args = {"127.0.0.1", std::to_string(proxy.port()), std::string(dest_host),
              std::string(dest_port)};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    return o;
}

spawn_options modern_form(const std::string& url, std::vector<std::string> options,
                          std::string host, std::string port) {
    spawn_options o;
    o.program = program();
    o.args = std::move(options);
    o.args.insert(o.args.end(), {"-x", url, std::move(host), std::move(port)});
    return o;
}

std::string context(const run_result& r) {
    return r.status.describe() + "; stderr: " + r.err;
}

std::string context(const child_process& child) {
    const auto& status = child.status();
    return (status ? status->describe() : std::string("still running")) +
           "; stderr: " + child.err();
}

run_result run_until_delivered(const spawn_options& options, std::size_t expected,
                               std::string_view stdin_data) {
    child_process child(options);
    child.write_stdin(stdin_data);
    child.pump_until([&] { return child.out().size() >= expected; }, std::chrono::seconds(10));
    child.close_stdin();
    const exit_status status = child.wait(run_limit);
    return {child.out(), child.err(), status};
}

double signal_and_wait(child_process& child, int signal, clock::duration limit) {
    const auto sent = clock::now();
    child.send_signal(signal);
    child.wait(limit);
    return std::chrono::duration<double>(clock::now() - sent).count();
}

bool ended_by(const exit_status& status, int signal) {
    return !status.timed_out && !status.core_dumped &&
           ((status.exited && status.code == 128 + signal) || status.signal == signal);
}

bool is_one_error_line(const std::string& err) {
    const auto newline = err.find('\n');
    return err.starts_with("corkscrew++: ") && newline == err.size() - 1;
}

bool mentions_all(const std::string& text, const std::vector<std::string>& parts) {
    for (const auto& p : parts) {
        if (text.find(p) == std::string::npos) {
            return false;
        }
    }
    return true;
}

bool read_until(const owned_fd& fd, std::string& got, std::string_view want,
                clock::duration limit) {
    const auto deadline = clock::now() + limit;
    while (got.find(want) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd.get(), POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) {
            return false;
        }
        if (n <= 0) {
            continue;
        }
        char buffer[4096];
        const ssize_t r = ::read(fd.get(), buffer, sizeof buffer);
        if (r > 0) {
            got.append(buffer, static_cast<std::size_t>(r));
        } else if (r == 0 || errno != EINTR) {
            return false;
        }
    }
    return true;
}

void write_all(const owned_fd& fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        REQUIRE(n > 0);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string received(const scripted_proxy& proxy) {
    const auto records = proxy.records();
    return records.empty() ? std::string() : records[0].received;
}

namespace {

// A TCP socket bound to a free port of 127.0.0.1, listening when `backlog` is given; throws
// naming `what` when the system refuses.
int bound_loopback_socket(std::uint16_t& port, std::optional<int> backlog, const char* what) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0 ||
        (backlog && ::listen(fd, *backlog) < 0) ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
        if (fd >= 0)
            ::close(fd);
        throw std::runtime_error(std::string(what) + ": cannot bind a loopback port");
    }
    port = ntohs(addr.sin_port);
    return fd;
}

} // namespace

refusing_port::refusing_port() {
    fd_ = bound_loopback_socket(port_, std::nullopt, "refusing port");
}

refusing_port::~refusing_port() {
    ::close(fd_);
}

holding_destination::holding_destination() {
    listener_ = bound_loopback_socket(port_, 1, "holding destination");
}

holding_destination::~holding_destination() {
    if (held_ >= 0)
        ::close(held_);
    ::close(listener_);
}

bool holding_destination::accept_one(std::chrono::milliseconds limit) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1)
        return false;
    held_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    return held_ >= 0;
}

silent_address::silent_address(const char* ip, std::uint16_t port, bool refuse) {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &at.sin_addr);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const auto* addr = reinterpret_cast<const sockaddr*>(&at);
    if (listener_ < 0 || ::bind(listener_, addr, sizeof at) != 0)
        throw std::runtime_error(std::string("cannot bind ") + ip);
    socklen_t size = sizeof at;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&at), &size);
    port_ = ntohs(at.sin_port);
    if (refuse)
        return;
    if (::listen(listener_, 0) != 0)
        throw std::runtime_error("cannot listen");
    filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(filler_, addr, sizeof at) != 0)
        throw std::runtime_error("cannot fill the accept queue");
}

silent_address::~silent_address() {
    if (filler_ >= 0)
        ::close(filler_);
    ::close(listener_);
}

spawn_options with_fake_dns(spawn_options options, const std::string& mark) {
    const char* shim = std::getenv("CORKSCREW_FAKE_DNS");
    REQUIRE_MESSAGE(shim != nullptr, "CORKSCREW_FAKE_DNS is not set (run the tests with ctest)");
    options.env.emplace_back("LD_PRELOAD", shim);
    options.env.emplace_back("SLOW_DNS_MARK", mark);
    // A sanitized program insists on its runtime coming first among preloaded libraries.
    const char* asan = std::getenv("ASAN_OPTIONS");
    options.env.emplace_back("ASAN_OPTIONS", std::string(asan ? asan : "") +
                                                 (asan && *asan ? ":" : "") +
                                                 "verify_asan_link_order=0");
    return options;
}

std::chrono::microseconds cpu_time(pid_t pid) {
    std::ifstream sched("/proc/" + std::to_string(pid) + "/sched");
    for (std::string line; std::getline(sched, line);) {
        if (line.rfind("se.sum_exec_runtime", 0) == 0) {
            const double ms = std::stod(line.substr(line.find(':') + 1));
            return std::chrono::microseconds(static_cast<long long>(ms * 1000));
        }
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields 14 and 15 (utime, stime) follow the command name, which ends at the last ')'.
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) {
            utime = std::stoll(field);
        } else if (i == 15) {
            stime = std::stoll(field);
        }
    }
    return std::chrono::microseconds((utime + stime) * 1'000'000 / ::sysconf(_SC_CLK_TCK));
}

temp_file::temp_file(std::string_view contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "corkscrew-test-XXXXXX");
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    path_ = pattern;
    std::size_t off = 0;
    while (off < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("writing a temporary file failed");
        }
        off += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

temp_file::~temp_file() {
    ::unlink(path_.c_str());
}

std::string temp_file::read() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "corkscrew-test-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::write(const std::string& name, std::string_view contents, mode_t mode) const {
    const std::string path = path_ + "/" + name;
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
        if (!out) {
            throw std::runtime_error("writing " + path + " failed");
        }
    }
    if (::chmod(path.c_str(), mode) != 0) {
        throw std::runtime_error("chmod " + path + " failed");
    }
    return path;
}

} // namespace corkscrew_test
