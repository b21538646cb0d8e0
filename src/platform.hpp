// What differs between Linux and the other POSIX systems (macOS, the BSDs), in one place.
//
// On Linux the program uses what only Linux has: the epoll/splice relay (relay_fd), larger pipes
// (F_SETPIPE_SZ), a signal when the parent dies (PR_SET_PDEATHSIG), close_range. Elsewhere it
// runs the portable relay on Asio's reactor, and plain POSIX calls in place of the others. A
// Linux build with CORKSCREW_LINUX_APIS=OFF (CMake; the "minimal" preset) takes the portable
// code, so that the tests run it where it cannot be built otherwise.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#if defined(__linux__) && !defined(CORKSCREW_NO_LINUX_APIS)
#define CORKSCREW_LINUX 1
#else
#define CORKSCREW_LINUX 0
#endif

namespace corkscrew {

// pipe(2) and socketpair(AF_UNIX, SOCK_STREAM) with both ends close-on-exec; false with errno set.
bool make_pipe(int ends[2]);
bool make_socket_pair(int ends[2]);

// Marks every descriptor from 3 up close-on-exec. Only async-signal-safe calls: it runs between
// fork and exec.
void close_on_exec_from_3();

// Arranges for SIGNO to reach this process when its parent exits (at once on Linux, within a
// second elsewhere), and raises it now if the parent is gone already.
void signal_when_parent_exits(int signo);

// The path of the running program, when the system says it.
std::optional<std::string> own_path();

// Makes a pipe's buffer `bytes` large where the system allows it (Linux); elsewhere, nothing.
void enlarge_pipe(int fd, int bytes);

// Overwrites `size` bytes at `data` with zeros, in a way the compiler may not drop as a dead store.
void secure_wipe(void* data, std::size_t size) noexcept;

// Once a password (or a Kerberos context) is in memory: no core dump may write it to disk, and on
// Linux no other process of the same user may read this one's memory (ptrace, /proc/PID/mem).
// There is no undoing it; an exec (ssh for --jump) starts afresh.
void keep_secrets_out_of_core_dumps();

} // namespace corkscrew
