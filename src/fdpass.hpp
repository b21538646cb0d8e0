// Handing the tunnel's socket to ssh instead of relaying it (OpenSSH's ProxyUseFdpass): ssh starts
// its ProxyCommand with one end of a Unix socket pair as stdin and stdout, waits there for a
// descriptor sent with SCM_RIGHTS, waits for the command to exit, then uses the socket itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <system_error>

namespace corkscrew {

// How long the message carrying the socket may wait for room on stdout. ssh reads it right after
// starting its ProxyCommand, so it leaves at once; a reader that does not take it within this is
// not ssh waiting for a socket.
inline constexpr std::chrono::seconds fd_pass_timeout{10};

// Why `fd` cannot carry a descriptor to another process ("a pipe", "a TCP socket", ...), or
// nothing when it can: only a Unix domain socket can.
std::optional<std::string> why_cannot_carry_fds(int fd);

// Gives `socket` to the process at the other end of the Unix socket `over`: one byte with the
// descriptor attached (SCM_RIGHTS), as ssh's mm_receive_fd() expects. The socket is put back in
// blocking mode first, as ssh's own connect leaves a socket. Ours stays open, to be closed (never
// shut down: that would end the tunnel for ssh too).
std::error_code pass_socket(int over, int socket,
                            std::chrono::milliseconds timeout = fd_pass_timeout);

} // namespace corkscrew
