// A plaintext TCP destination for the real tests (tests/real/compress.sh): every byte of each
// connection is sent back as it comes. When the client ends its sending direction, what was
// received has been sent back already; the server then ends its own (the client sees EOF after
// the last echoed byte) and closes.
//
// It listens on 127.0.0.1, on a port the kernel chooses, and prints that port as the first line
// of stdout once it is listening: a script waits for that line instead of sleeping. Each
// connection is served by a thread of its own; the process runs until it is killed, or until the
// process that started it ends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

// One read, sent back whole before the next: large enough that a bulk transfer of tens of MiB
// costs few system calls, small enough for a thread per connection.
constexpr std::size_t io_chunk_bytes = 256 * 1024;
// The tests open a handful of connections at a time.
constexpr int listen_backlog = SOMAXCONN;

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

void serve(int fd) {
    // A single echoed byte must leave at once: the tests time keystroke-sized exchanges.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<char> buffer(io_chunk_bytes);
    for (;;) {
        auto n = receive(fd, buffer);
        // Client done sending (or gone): everything it sent has been echoed already.
        if (n <= 0)
            break;
        if (!send_all(fd, buffer.data(), static_cast<std::size_t>(n)))
            break;
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

} // namespace

int main() {
    // A test script killed without its clean-up must not leave a listener behind.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
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
        std::perror("echo_server: listen on 127.0.0.1");
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(ntohs(address.sin_port)));
    std::fflush(stdout);

    for (;;) {
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            std::perror("echo_server: accept");
            return 1;
        }
        std::thread(serve, fd).detach();
    }
}
