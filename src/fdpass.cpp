#include "fdpass.hpp"

#include "platform.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace corkscrew {

// A reader gone from the socket is an error to return, not a signal (main ignores SIGPIPE too);
// systems without MSG_NOSIGNAL rely on that alone.
#ifdef MSG_NOSIGNAL
constexpr int no_sigpipe = MSG_NOSIGNAL;
#else
constexpr int no_sigpipe = 0;
#endif

namespace {

std::error_code last_error() {
    return {errno, std::generic_category()};
}

} // namespace

std::optional<std::string> why_cannot_carry_fds(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return "not open";
    if (S_ISFIFO(st.st_mode))
        return "a pipe";
    if (S_ISCHR(st.st_mode))
        return ::isatty(fd) ? "a terminal" : "a character device";
    if (S_ISREG(st.st_mode))
        return "a regular file";
    if (!S_ISSOCK(st.st_mode))
        return "not a socket";
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        return "a socket of unknown kind";
    if (address.ss_family == AF_INET || address.ss_family == AF_INET6)
        return "a TCP socket";
    if (address.ss_family != AF_UNIX)
        return "a socket that is not a Unix socket";
    return std::nullopt;
}

std::error_code pass_socket(int over, int socket, std::chrono::milliseconds timeout) {
    int flags = ::fcntl(socket, F_GETFL);
    if (flags < 0 || ::fcntl(socket, F_SETFL, flags & ~O_NONBLOCK) != 0)
        return last_error();

    char byte = 0;
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
    cmsghdr* attached = CMSG_FIRSTHDR(&message);
    attached->cmsg_level = SOL_SOCKET;
    attached->cmsg_type = SCM_RIGHTS;
    attached->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(attached), &socket, sizeof socket);

    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // Never blocking in sendmsg itself: the wait for room is poll's, and it is bounded.
        auto sent = ::sendmsg(over, &message, no_sigpipe | MSG_DONTWAIT);
        if (sent == 1)
            return {};
        if (sent >= 0)
            return std::make_error_code(std::errc::io_error);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return last_error();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return std::make_error_code(std::errc::timed_out);
        pollfd room{over, POLLOUT, 0};
        if (::poll(&room, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
            return last_error();
    }
}

} // namespace corkscrew
