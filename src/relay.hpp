// Copying between stdin/stdout and the tunnel until both directions have ended.
#pragma once

#include "error.hpp"
#include "stream.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace corkscrew {

// Bytes moved per read in each direction: large enough that a bulk transfer costs few system
// calls, small enough that two of them are nothing next to the process.
inline constexpr std::size_t relay_buffer_bytes = 128 * 1024;

// How bytes move. `automatic`: when the tunnel is a socket and stdin and stdout are pipes or
// sockets (as ssh gives a ProxyCommand), regular files or /dev/null, the descriptor loop of
// relay_fd.hpp, which moves interactive traffic by
// read/write and bulk data by splice(2) through the pipe side; otherwise (a terminal, a file, a
// stream without a descriptor) the portable read/write path over the streams. `copy` forces the
// portable path, `splice` the descriptor loop with splice wherever a pipe allows it; both for
// tests and measurements (CORKSCREW_RELAY=copy|splice).
enum class relay_path { automatic, copy, splice };

// The size stdin's and stdout's pipes are raised to: fewer, larger transfers per wake-up. 1 MiB
// is the most Linux allows an unprivileged process by default (/proc/sys/fs/pipe-max-size).
inline constexpr int relay_pipe_bytes = 1024 * 1024;

struct relay_options {
    // End the relay after this long without traffic either way (off when empty).
    std::optional<std::chrono::milliseconds> idle_timeout;
    // "tunnel to host:22 via proxy:3128", for messages.
    std::string tunnel_name;
    relay_path path = relay_path::automatic;
    // The portable path's buffer per direction (the listener's many tunnels use smaller ones).
    std::size_t buffer_bytes = relay_buffer_bytes;
    // The local side in messages ("reading stdin"), when it is not stdin and stdout.
    std::string local_in_name = "stdin";
    std::string local_out_name = "stdout";
};

struct relay_outcome {
    std::uint64_t sent = 0;     // stdin -> tunnel
    std::uint64_t received = 0; // tunnel -> stdout, leftover included
    bool idle_expired = false;
    bool tunnel_ended = false; // the far end closed its side (EOF)
    // How each direction moved its bytes ("read/write", "splice" or both), for -v.
    const char* sent_by = "read/write";
    const char* received_by = "read/write";
    std::optional<error> failure;
};

// Relays local_in -> tunnel and tunnel -> local_out, `leftover` first. Each direction ends on its
// own: EOF on local_in shuts down the tunnel's sending side and reading goes on; EOF from the
// tunnel ends local_out and sending goes on. An error on the tunnel ends both; so does the reader
// of local_out going away (EPIPE), which is a normal end.
net::awaitable<relay_outcome> relay(byte_stream& local_in, byte_stream& local_out,
                                    byte_stream& tunnel, std::string leftover,
                                    const relay_options& options);

} // namespace corkscrew
