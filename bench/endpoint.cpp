// The far end of every tunnel the benchmark opens: a loopback stand-in for an HTTP proxy that
// answers each CONNECT with 200 and then plays the destination itself, so a measurement sees the
// relay under test and nothing else (no real proxy, no real server, no second hop).
//
//   endpoint sink          read and discard to EOF, close; then print the byte count on stdout
//   endpoint source MIB    send MIB MiB of zeros in large writes, half-close, read to EOF, close
//   endpoint echo          send back whatever arrives, until EOF
//   endpoint banner        send one short line, as an ssh server does first, then read to EOF
//
// It listens on 127.0.0.1, on a port the kernel chooses, and prints that port as the first line
// of stdout once it is listening: a script waits for that line instead of sleeping. Each
// connection is served by a thread of its own; the process runs until it is killed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// Data moves in 1 MiB reads and writes, as `dd bs=1M` does on the other side: the endpoint's own
// system calls stay a small fixed cost next to the relay being measured.
constexpr std::size_t io_chunk_bytes = std::size_t{1} << 20;
// A CONNECT request from any of the benchmarked tools is a few hundred bytes; the limit only
// stops a client that never sends the blank line from growing the buffer for ever.
constexpr std::size_t max_head_bytes = 64 * 1024;
// A request head takes a few reads of this size at most; the bytes past its end are kept.
constexpr std::size_t head_read_bytes = 4096;
// The benchmark opens one tunnel at a time; a few more only matter if a killed run leaves one.
constexpr int listen_backlog = 16;
// Bytes sent by `source` are counted in MiB on the command line, as `dd bs=1M count=N` counts.
constexpr std::uint64_t mebibyte = std::uint64_t{1} << 20;

constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
// What an ssh server sends first (RFC 4253 §4.2); its arrival on the tool's stdout is "tunnel up".
constexpr std::string_view banner_line = "SSH-2.0-corkscrew-bench\r\n";

enum class mode { sink, source, echo, banner };

struct config {
    mode what = mode::sink;
    std::uint64_t source_bytes = 0;
};

// Serializes the lines `sink` prints, one per finished connection.
std::mutex stdout_mutex;

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        auto n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Reads one chunk: the byte count, 0 at EOF, -1 on an error.
ssize_t receive(int fd, std::vector<char>& buffer) {
    for (;;) {
        auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

// Reads and discards to EOF; returns how many bytes that was.
std::uint64_t drain(int fd, std::vector<char>& buffer) {
    std::uint64_t total = 0;
    for (;;) {
        auto n = receive(fd, buffer);
        if (n <= 0)
            return total;
        total += static_cast<std::uint64_t>(n);
    }
}

// Reads the request head up to its blank line (CRLF or bare LF). Returns the bytes that came
// after it, which already belong to the tunnel, or nothing when the client ended first.
std::optional<std::string> read_request_head(int fd) {
    std::string head;
    std::vector<char> buffer(head_read_bytes);
    while (head.size() < max_head_bytes) {
        auto n = receive(fd, buffer);
        if (n <= 0)
            return std::nullopt;
        head.append(buffer.data(), static_cast<std::size_t>(n));
        auto crlf = head.find("\r\n\r\n");
        auto lf = head.find("\n\n");
        if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf))
            return head.substr(crlf + 4);
        if (lf != std::string::npos)
            return head.substr(lf + 2);
    }
    return std::nullopt;
}

void serve(int fd, config cfg) {
    // Small writes (the echo, the banner) must leave at once, as a real server's do.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto leftover = read_request_head(fd);
    if (leftover && send_all(fd, established.data(), established.size())) {
        std::vector<char> buffer(io_chunk_bytes);
        switch (cfg.what) {
        case mode::sink: {
            auto total = leftover->size() + drain(fd, buffer);
            std::lock_guard lock(stdout_mutex);
            std::printf("%llu\n", static_cast<unsigned long long>(total));
            std::fflush(stdout);
            break;
        }
        case mode::source: {
            std::uint64_t left = cfg.source_bytes;
            bool ok = true;
            while (ok && left > 0) {
                auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
                ok = send_all(fd, buffer.data(), chunk);
                left -= chunk;
            }
            // The download is complete: the client sees EOF, and may go on sending.
            ::shutdown(fd, SHUT_WR);
            drain(fd, buffer);
            break;
        }
        case mode::echo: {
            bool ok = send_all(fd, leftover->data(), leftover->size());
            while (ok) {
                auto n = receive(fd, buffer);
                ok = n > 0 && send_all(fd, buffer.data(), static_cast<std::size_t>(n));
            }
            break;
        }
        case mode::banner:
            if (send_all(fd, banner_line.data(), banner_line.size()))
                drain(fd, buffer);
            break;
        }
    }
    ::close(fd);
}

std::optional<config> parse(int argc, char** argv) {
    if (argc < 2)
        return std::nullopt;
    std::string_view name = argv[1];
    if (name == "sink" && argc == 2)
        return config{mode::sink};
    if (name == "echo" && argc == 2)
        return config{mode::echo};
    if (name == "banner" && argc == 2)
        return config{mode::banner};
    if (name == "source" && argc == 3) {
        char* end = nullptr;
        errno = 0;
        auto mib = std::strtoull(argv[2], &end, 10);
        if (errno == 0 && end != argv[2] && *end == '\0')
            return config{mode::source, mib * mebibyte};
    }
    return std::nullopt;
}

} // namespace

int main(int argc, char** argv) {
    auto cfg = parse(argc, argv);
    if (!cfg) {
        std::fprintf(stderr, "usage: endpoint sink | source MIB | echo | banner\n");
        return 2;
    }
#ifdef __linux__
    // A benchmark killed without its clean-up must not leave a listener behind.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    std::signal(SIGPIPE, SIG_IGN);

    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener, listen_backlog) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("endpoint: listen on 127.0.0.1");
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(ntohs(address.sin_port)));
    std::fflush(stdout);

    for (;;) {
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            std::perror("endpoint: accept");
            return 1;
        }
        std::thread(serve, fd, *cfg).detach();
    }
}
