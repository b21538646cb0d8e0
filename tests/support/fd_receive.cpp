#include "fd_receive.hpp"

#include <cstring>
#include <poll.h>
#include <sys/socket.h>

namespace corkscrew_test {

int receive_fd(int carrier, int timeout_ms) {
    pollfd p{carrier, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
        return -1;
    }
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
    if (::recvmsg(carrier, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1) {
        return -1;
    }
    const cmsghdr* attached = CMSG_FIRSTHDR(&message);
    if (attached == nullptr || attached->cmsg_level != SOL_SOCKET ||
        attached->cmsg_type != SCM_RIGHTS || attached->cmsg_len != CMSG_LEN(sizeof(int))) {
        return -1;
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(attached), sizeof fd);
    return fd;
}

} // namespace corkscrew_test
