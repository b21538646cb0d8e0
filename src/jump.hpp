// Jumping through SSH gateways (-J): the system's OpenSSH client reaches the gateway with
// corkscrew++ itself as its ProxyCommand (so the route's proxies are crossed on the way), and
// asks the gateway for a stream to the destination (ssh -W), which it relays on stdin and stdout.
#pragma once

#include "error.hpp"
#include "url.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corkscrew {

// [user@]host[:port] as ssh takes it; port 0 and an empty user leave them to ssh's config.
struct gateway {
    std::string user;
    endpoint_name at;
    std::string text; // as given, for the next corkscrew++ in the chain
};

result<gateway> parse_gateway(std::string_view text);

struct jump_settings {
    std::vector<gateway> gateways;        // the first is reached first
    std::string ssh = "ssh";              // --ssh
    std::vector<std::string> ssh_options; // --ssh-option, each as ssh's -o
    // The options that shape the route to the first gateway (everything but -x and the jump's
    // own), for the corkscrew++ that ssh runs as its ProxyCommand.
    std::vector<std::string> route_args;
    // The -x URLs as given: they reach that corkscrew++ through its environment (CORKSCREW_PROXY),
    // not its argv, which every user can read in the process list.
    std::vector<std::string> proxy_urls;
    // --compress: instead of ssh -W, run `PROGRAM --relay --compress DEST` on the last gateway
    // (--gateway-program), and relay through ssh here, compressing.
    bool compress = false;
    std::string gateway_program = "corkscrew++";
};

struct jump_plan {
    std::vector<std::string> argv; // ssh's command line
    // Environment changes for ssh and the ProxyCommand it runs: set (a value) or unset (none).
    std::vector<std::pair<std::string, std::optional<std::string>>> env;
};

// The ssh command that reaches `destination` through the last gateway, the ones before it
// reached by nested corkscrew++ -J, the first through the route. `self` is this program's path.
jump_plan plan_jump(const jump_settings& settings, const endpoint_name& destination,
                    const std::string& self);

// The plan as one line for -v, words quoted as a shell would need them.
std::string shell_line(const std::vector<std::string>& argv);

// ssh started as a child whose stdin and stdout are one end of a socketpair, the other end
// being `socket` (for --jump --compress, which must see the bytes). Its stderr is ours.
struct ssh_child {
    int pid = -1;
    int socket = -1;
};
// The child ends with a SIGTERM if this process dies first.
result<ssh_child> spawn_jump(const jump_plan& plan);

// Replaces the process with ssh: its stdin, stdout, stderr and exit status become the run's.
// Returns only when ssh could not be started.
error exec_jump(const jump_plan& plan);

} // namespace corkscrew
