#include "fdpass.hpp"

#include "../support/fd_receive.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace corkscrew;

namespace {

// A descriptor closed at the end of the scope.
struct owned {
    int fd = -1;
    ~owned() {
        if (fd >= 0)
            ::close(fd);
    }
};

struct fd_pair {
    owned a, b;
};

fd_pair unix_pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    return {{fds[0]}, {fds[1]}};
}

bool same_file(int a, int b) {
    struct stat x {
    }, y{};
    return ::fstat(a, &x) == 0 && ::fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
           x.st_ino == y.st_ino;
}

} // namespace

TEST_CASE("only a Unix socket can carry a descriptor") {
    auto pair = unix_pair();
    CHECK_FALSE(why_cannot_carry_fds(pair.a.fd));

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    owned read_end{p[0]}, write_end{p[1]};
    CHECK(why_cannot_carry_fds(write_end.fd) == "a pipe");

    owned tcp{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    REQUIRE(tcp.fd >= 0);
    CHECK(why_cannot_carry_fds(tcp.fd) == "a TCP socket");

    owned null{::open("/dev/null", O_WRONLY | O_CLOEXEC)};
    CHECK(why_cannot_carry_fds(null.fd) == "a character device");

    CHECK(why_cannot_carry_fds(-1) == "not open");
}

TEST_CASE("the socket arrives with one byte, in blocking mode") {
    auto carrier = unix_pair();
    owned tcp{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    REQUIRE(tcp.fd >= 0);
    CHECK_FALSE(pass_socket(carrier.a.fd, tcp.fd));
    owned got{corkscrew_test::receive_fd(carrier.b.fd, 0)};
    REQUIRE(got.fd >= 0);
    CHECK(got.fd != tcp.fd);
    CHECK(same_file(got.fd, tcp.fd));
    CHECK((::fcntl(got.fd, F_GETFL) & O_NONBLOCK) == 0);
    // Nothing else was sent with it.
    char extra;
    CHECK(::recv(carrier.b.fd, &extra, 1, MSG_DONTWAIT) == -1);
}

TEST_CASE("passing over a pipe fails, and a carrier with no room times out") {
    owned tcp{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    REQUIRE(tcp.fd >= 0);

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    owned read_end{p[0]}, write_end{p[1]};
    CHECK(pass_socket(write_end.fd, tcp.fd) == std::errc::not_a_socket);

    auto full = unix_pair();
    const char filler[4096] = {};
    while (::send(full.a.fd, filler, sizeof filler, MSG_DONTWAIT) > 0) {
    }
    REQUIRE((errno == EAGAIN || errno == EWOULDBLOCK));
    CHECK(pass_socket(full.a.fd, tcp.fd, std::chrono::milliseconds(50)) == std::errc::timed_out);
}
