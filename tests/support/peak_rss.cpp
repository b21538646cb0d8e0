// Runs a program as its child and writes the child's peak resident set size to a file:
//
//   peak_rss FILE PROGRAM [ARG...]
//
// The test cannot learn it itself: posix_spawn() starts a program with vfork, and the kernel
// then counts, in the peak that wait4() reports, the peak of the process it was spawned from (the
// test, tens of MiB). This small process forks instead, so its child starts from its own few
// pages. The child gets this process's stdio and environment; FILE gets the peak in KiB, one
// line; the exit status is the child's, and a child killed by a signal is reported as such by
// raising that signal here. Signals sent to this process are not passed on.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: peak_rss FILE PROGRAM [ARG...]\n");
        return 2;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("peak_rss: fork");
        return 2;
    }
    if (child == 0) {
        ::execvp(argv[2], argv + 2);
        std::fprintf(stderr, "peak_rss: cannot run %s: %s\n", argv[2], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    while (::wait4(child, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            std::perror("peak_rss: wait4");
            return 2;
        }
    }
    if (std::FILE* out = std::fopen(argv[1], "w")) {
        std::fprintf(out, "%ld\n", usage.ru_maxrss);
        std::fclose(out);
    }
    if (WIFSIGNALED(status)) {
        std::signal(WTERMSIG(status), SIG_DFL);
        ::raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
