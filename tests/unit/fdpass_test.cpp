#include "fdpass.hpp"

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

// Receives a descriptor as ssh's mm_receive_fd() does: one byte, one SCM_RIGHTS descriptor.
int receive_fd(int over) {
    char byte = 1;
    iovec data{&byte, 1};
    union {
        cmsghdr align;
        char space[CMSG_SPACE(sizeof(int))];
    } control{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.space;
    message.msg_controllen = sizeof control.space;
    if (::recvmsg(over, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
        return -1;
    cmsghdr* attached = CMSG_FIRSTHDR(&message);
    if (attached == nullptr || attached->cmsg_type != SCM_RIGHTS ||
        attached->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(attached), sizeof fd);
    return fd;
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
    owned got{receive_fd(carrier.b.fd)};
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
