// The command line and the environment, read in this one place and turned into a plain config.
#pragma once

#include "error.hpp"
#include "jump.hpp"
#include "proxy_env.hpp"
#include "relay.hpp"
#include "resolve.hpp"
#include "route.hpp"
#include "tls.hpp"
#include "tunnel.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace corkscrew {

// How long resolving, connecting and the CONNECT exchange may take together. Long enough for a
// proxy that is slow to reach the destination, short enough that a dead one is reported while
// the user still waits for it.
inline constexpr std::chrono::seconds default_connect_timeout{30};
// Open tunnels a listener holds at most before it stops accepting: far above what a CI job or a
// developer's tools open, and with 16 KiB buffers each way, well under 100 MB at the limit.
inline constexpr std::size_t default_max_connections = 512;
// How long a listener lets open tunnels finish after SIGTERM: a few round trips of a slow
// protocol, short enough for a CI job's teardown.
inline constexpr std::chrono::seconds default_shutdown_grace{10};
// The relay buffer per direction of a listener's tunnel: 16 KiB moves bulk data at hundreds of
// MB/s, and 1,000 tunnels' buffers are 32 MB even when every one has been used.
inline constexpr std::size_t listen_buffer_bytes = 16 * 1024;

struct config;

// Where a listener (-L) accepts connections: a TCP address and port (0: the kernel chooses), or
// a Unix socket's path.
struct listen_address {
    bool unix_socket = false;
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string path;
    std::string text; // as given, for messages
};

struct listener {
    listen_address at;
    // What each accepted connection runs: the same as `corkscrew++ [route options] DEST`.
    std::shared_ptr<const config> tunnel;
};

// -L: accept connections and tunnel each (listen.hpp).
struct listen_settings {
    std::vector<listener> listeners;
    std::size_t max_connections = default_max_connections;
    std::optional<int> ready_fd;
    std::chrono::milliseconds shutdown_grace = default_shutdown_grace;
};

struct config {
    route path;
    request_options request;
    std::chrono::milliseconds connect_timeout = default_connect_timeout;
    std::optional<std::chrono::milliseconds> idle_timeout;
    ip_family family = ip_family::any;
    relay_path relay = relay_path::automatic; // CORKSCREW_RELAY, a switch for tests and benchmarks
    std::size_t relay_buffer = relay_buffer_bytes;
    int verbosity = 0; // -1 with -q, +1 per -v
    // Hand the tunnel's socket to ssh over stdout instead of relaying (ProxyUseFdpass).
    bool fdpass = false;
    // --relay: the far end of a jump through an SSH gateway, in place of nc. Ends when the ssh
    // session that started it goes away (its parent's death is a SIGHUP).
    bool gateway_relay = false;
    // -z: the stream is compressed between this end and another corkscrew++ (compress.hpp):
    // the tunnel, or with --relay stdin/stdout, or with --jump the ssh to the last gateway.
    bool compress = false;
    // -J: reach the destination through SSH gateways, with ssh -W (jump.hpp) instead of a relay.
    std::optional<jump_settings> jump;
    // How https:// proxies are verified, and the client certificate they get.
    tls_settings tls;
    // --probe: walk the route, report each step on stdout, and relay nothing (probe.hpp);
    // --json: as one JSON document.
    bool probe = false;
    bool json = false;
    // -L: this process listens, and runs a tunnel per connection; the rest of this config is
    // then unused.
    std::optional<listen_settings> listen;
    // Which rule chose the route, for -v ("proxy from https_proxy", "no_proxy entry ...").
    std::string route_reason;
};

struct command_line {
    enum class action { run, help, version };
    action what = action::run;
    config settings;
    // Said on stderr before anything else, unless -q.
    std::vector<std::string> warnings;
    // The help or version text, for those actions.
    std::string text;
    // The proxy URLs as given, for hide_url_passwords().
    std::vector<std::string> proxy_args;
};

// The process's own environment.
std::optional<std::string> process_env(const char* name);

result<command_line> parse_command_line(int argc, const char* const* argv, const env_lookup& env);

// Overwrites with '*' the password of each of `urls` where it stands in argv (as an argument of
// its own or after "--proxy=" or "-x"), so the process list shows it no longer (it was visible
// from the start of the process until this call).
void hide_url_passwords(int argc, char** argv, const std::vector<std::string>& urls);

} // namespace corkscrew
