// memset_s, where the C library has it (macOS), is declared only when asked for.
#define __STDC_WANT_LIB_EXT1__ 1

#include "platform.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#if CORKSCREW_LINUX
#include <linux/close_range.h>
#include <sys/prctl.h>
#endif
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

namespace corkscrew {

namespace {

// Where marking descriptors close-on-exec one by one stops, without close_range (Linux before
// 5.11, other systems): far above what this program opens.
constexpr int fd_scan_limit = 65536;

#if !CORKSCREW_LINUX
bool set_cloexec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

// Makes both ends close-on-exec, or closes them: for the systems without pipe2 and SOCK_CLOEXEC.
bool cloexec_pair(int ends[2]) {
    if (set_cloexec(ends[0]) && set_cloexec(ends[1]))
        return true;
    const int err = errno;
    ::close(ends[0]);
    ::close(ends[1]);
    errno = err;
    return false;
}
#endif

} // namespace

bool make_pipe(int ends[2]) {
#if CORKSCREW_LINUX
    return ::pipe2(ends, O_CLOEXEC) == 0;
#else
    return ::pipe(ends) == 0 && cloexec_pair(ends);
#endif
}

bool make_socket_pair(int ends[2]) {
#if CORKSCREW_LINUX
    return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0;
#else
    return ::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) == 0 && cloexec_pair(ends);
#endif
}

void close_on_exec_from_3() {
#if CORKSCREW_LINUX && defined(CLOSE_RANGE_CLOEXEC)
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
#endif
    for (int fd = 3; fd < fd_scan_limit; ++fd)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void signal_when_parent_exits(int signo) {
    const pid_t parent = ::getppid();
#if CORKSCREW_LINUX
    ::prctl(PR_SET_PDEATHSIG, signo);
#else
    // Without PR_SET_PDEATHSIG: a thread that looks once a second. It takes no signal itself, so
    // the one it sends reaches the thread that handles it.
    sigset_t all;
    sigfillset(&all);
    sigset_t old;
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread([parent, signo] {
        while (::getppid() == parent)
            ::sleep(1);
        ::kill(::getpid(), signo);
    }).detach();
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
#endif
    if (::getppid() != parent)
        ::raise(signo);
}

std::optional<std::string> own_path() {
#if defined(__linux__)
    std::string path(4096, '\0');
    auto n = ::readlink("/proc/self/exe", path.data(), path.size());
    if (n <= 0 || static_cast<std::size_t>(n) >= path.size())
        return std::nullopt;
    path.resize(static_cast<std::size_t>(n));
    return path;
#elif defined(__APPLE__)
    uint32_t size = 0;
    ::_NSGetExecutablePath(nullptr, &size);
    std::string path(size, '\0');
    if (::_NSGetExecutablePath(path.data(), &size) != 0)
        return std::nullopt;
    char* real = ::realpath(path.c_str(), nullptr);
    if (!real)
        return std::nullopt;
    std::string resolved = real;
    std::free(real);
    return resolved;
#else
    return std::nullopt;
#endif
}

void secure_wipe(void* data, std::size_t size) noexcept {
#if defined(__GLIBC__) || defined(__FreeBSD__) || defined(__OpenBSD__)
    ::explicit_bzero(data, size);
#elif defined(__APPLE__)
    ::memset_s(data, size, 0, size);
#else
    auto* p = static_cast<volatile unsigned char*>(data);
    while (size--)
        *p++ = 0;
#endif
}

void keep_secrets_out_of_core_dumps() {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
#if CORKSCREW_LINUX
    ::prctl(PR_SET_DUMPABLE, 0);
#endif
}

void enlarge_pipe(int fd, int bytes) {
#if CORKSCREW_LINUX
    ::fcntl(fd, F_SETPIPE_SZ, bytes);
#else
    (void)fd;
    (void)bytes;
#endif
}

} // namespace corkscrew
