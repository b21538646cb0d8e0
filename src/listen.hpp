// Listen mode (-L): a local port (or Unix socket) that leads through the route, for programs
// that cannot take a ProxyCommand. One process, one event loop: each accepted connection runs a
// session (session.hpp) with the connection as its local side, as `corkscrew++ [route options]
// DEST` would with stdin and stdout.
#pragma once

#include "error.hpp"
#include "log.hpp"
#include "options.hpp"
#include "url.hpp"

#include <optional>
#include <string_view>
#include <utility>

namespace corkscrew {

// An -L value: `[ADDR:]PORT`, `[ADDR:]PORT:DESTHOST:DESTPORT`, `unix:PATH` or
// `unix:PATH:DESTHOST:DESTPORT`; IPv6 addresses in brackets. The destination, when given.
struct listen_spec {
    listen_address at;
    std::optional<endpoint_name> destination;
};
result<listen_spec> parse_listen_spec(std::string_view text);

// Whether the address only this machine can reach (127.0.0.0/8, ::1, a Unix socket).
bool is_loopback(const listen_address& at);

// Listens as `settings` says until SIGTERM, SIGINT or SIGHUP, then lets open tunnels finish for
// the grace period; returns the exit status (0 after such a shutdown).
int serve(const listen_settings& settings, const logger& log);

} // namespace corkscrew
