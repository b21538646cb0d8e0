#include "jump.hpp"

#include "platform.hpp"
#include "text.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#if CORKSCREW_LINUX
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// The environment (declared by glibc's unistd.h, not by every system's).
extern char** environ;

namespace corkscrew {

namespace {

// A word for a POSIX shell (ssh runs ProxyCommand with `$SHELL -c`): bare when it is plain,
// else in single quotes.
std::string shell_word(std::string_view word) {
    const bool plain = !word.empty() &&
                       word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789@%+=:,./_-") == std::string_view::npos;
    if (plain)
        return std::string(word);
    std::string out = "'";
    for (char c : word)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The gateway's program as its shell should see it: quoted, but a leading "~/" left bare so that
// the shell there finds it in the home directory.
std::string gateway_word(const std::string& program) {
    if (program.starts_with("~/") && program.size() > 2)
        return "~/" + shell_word(program.substr(2));
    return shell_word(program);
}

// ssh expands %h, %p and other tokens in ProxyCommand: a literal '%' is written "%%".
std::string escape_percent(const std::string& text) {
    std::string out;
    for (char c : text)
        out += c == '%' ? std::string("%%") : std::string(1, c);
    return out;
}

// A URL as one entry of CORKSCREW_PROXY's list, whose separators are commas and blanks: those
// can only be in the user information, where percent-encoding means the same.
std::string list_entry(const std::string& url) {
    std::string out;
    for (char c : url) {
        if (c == ',')
            out += "%2C";
        else if (c == ' ')
            out += "%20";
        else if (c == '\t')
            out += "%09";
        else
            out += c;
    }
    return out;
}

} // namespace

result<gateway> parse_gateway(std::string_view text) {
    gateway g;
    g.text = std::string(text);
    std::string_view rest = text;
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        g.user = std::string(rest.substr(0, at));
        rest.remove_prefix(at + 1);
        if (g.user.empty() || g.user.find_first_of(" \t\r\n'\"\\") != std::string::npos)
            return fail(failure::usage, "invalid user in --jump '" + printable(text) + "'");
    }
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return fail(failure::usage, "unclosed '[' in --jump '" + printable(text) + "'");
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':')
                return fail(failure::usage, "bad --jump '" + printable(text) + "'");
            port = rest.substr(close + 2);
        }
    } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
        if (rest.find(':', colon + 1) != std::string_view::npos)
            return fail(failure::usage, "write an IPv6 gateway in brackets ([::1]:22), not '" +
                                            printable(text) + "'");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    auto h = parse_host(host);
    if (!h)
        return h.err();
    g.at.host = *h;
    if (!port.empty() || rest.ends_with(":")) {
        auto p = parse_port(port);
        if (!p)
            return p.err();
        g.at.port = *p;
    }
    return g;
}

jump_plan plan_jump(const jump_settings& settings, const endpoint_name& destination,
                    const std::string& self) {
    jump_plan plan;
    const gateway& last = settings.gateways.back();

    // The ProxyCommand: this program, the same route, and the gateways before the last.
    std::string command = shell_word(self);
    for (const auto& a : settings.route_args)
        command += " " + shell_word(a);
    for (std::size_t i = 0; i + 1 < settings.gateways.size(); ++i)
        command += " --jump " + shell_word(settings.gateways[i].text);
    if (settings.gateways.size() > 1) {
        // The gateways before the last are reached by nested ssh, which need the same options.
        if (settings.ssh != "ssh")
            command += " --ssh " + shell_word(settings.ssh);
        for (const auto& o : settings.ssh_options)
            command += " --ssh-option " + shell_word(o);
    }
    command = escape_percent(command) + " %h %p";

    plan.argv = {settings.ssh, "-o", "ProxyCommand=" + command};
    for (const auto& o : settings.ssh_options)
        plan.argv.insert(plan.argv.end(), {"-o", o});
    if (!last.user.empty())
        plan.argv.insert(plan.argv.end(), {"-l", last.user});
    if (last.at.port != 0)
        plan.argv.insert(plan.argv.end(), {"-p", std::to_string(last.at.port)});
    if (settings.compress) {
        // The far end of the compression runs on the gateway; no terminal, no escape character:
        // the channel carries the stream byte for byte.
        plan.argv.insert(plan.argv.end(),
                         {"-T", "-e", "none", last.at.host,
                          gateway_word(settings.gateway_program) + " " +
                              shell_line({"--relay", "--compress", destination.host,
                                          std::to_string(destination.port)})});
    } else {
        // No terminal, no command: ssh only forwards the stream (-W implies -N -T).
        plan.argv.insert(plan.argv.end(), {"-W", authority(destination), last.at.host});
    }

    if (!settings.proxy_urls.empty()) {
        std::string list;
        for (const auto& url : settings.proxy_urls)
            list += (list.empty() ? "" : ", ") + list_entry(url);
        plan.env.emplace_back("CORKSCREW_PROXY", list);
        // Proxies given with -x do not give way to no_proxy; as CORKSCREW_PROXY they would.
        plan.env.emplace_back("no_proxy", std::nullopt);
        plan.env.emplace_back("NO_PROXY", std::nullopt);
    }
    return plan;
}

std::string shell_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv)
        line += (line.empty() ? "" : " ") + shell_word(a);
    return line;
}

namespace {

void apply_env(const jump_plan& plan) {
    for (const auto& [name, value] : plan.env) {
        if (value)
            ::setenv(name.c_str(), value->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
}

// ssh gets the signal dispositions a freshly started program has (main ignores SIGPIPE; the
// event loop blocks the stop signals). Only async-signal-safe calls: it also runs after fork.
void reset_signals() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int signo : {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGCHLD})
        ::sigaction(signo, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The process's environment with the plan's changes, as execve takes it.
std::vector<std::string> changed_environment(const jump_plan& plan) {
    std::vector<std::string> words;
    for (char** e = environ; *e; ++e) {
        std::string_view entry = *e;
        auto name = entry.substr(0, entry.find('='));
        const bool changed = std::any_of(plan.env.begin(), plan.env.end(),
                                         [&](const auto& change) { return change.first == name; });
        if (!changed)
            words.emplace_back(entry);
    }
    for (const auto& [name, value] : plan.env)
        if (value)
            words.push_back(name + "=" + *value);
    return words;
}

std::vector<char*> c_args(const std::vector<std::string>& words) {
    std::vector<char*> args;
    for (const auto& a : words)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    return args;
}

error cannot_run(const jump_plan& plan, int err) {
    return fail(failure::usage, "cannot run " + plan.argv[0] +
                                    " for --jump: " + std::strerror(err) + " (see --ssh)");
}

} // namespace

error exec_jump(const jump_plan& plan) {
    apply_env(plan);
    reset_signals();
    auto args = c_args(plan.argv);
    ::execvp(args[0], args.data());
    return cannot_run(plan, errno);
}

result<ssh_child> spawn_jump(const jump_plan& plan) {
    int pair[2];
    if (!make_socket_pair(pair))
        return fail(failure::internal, std::string("socketpair: ") + std::strerror(errno));
    // The child reports a failed exec through this pipe, closed by a successful one.
    int report[2];
    if (!make_pipe(report)) {
        int err = errno;
        ::close(pair[0]);
        ::close(pair[1]);
        return fail(failure::internal, std::string("pipe: ") + std::strerror(err));
    }
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    auto args = c_args(plan.argv);
    auto env_words = changed_environment(plan);
    auto envp = c_args(env_words);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pair[0]);
        ::close(report[0]);
#if CORKSCREW_LINUX
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (::getppid() != parent)
            ::_exit(127);
        ::dup2(pair[1], STDIN_FILENO);
        ::dup2(pair[1], STDOUT_FILENO);
        // ssh gets stdin, stdout and stderr only: a listener's sockets (its own and its other
        // clients') held open in ssh would keep those alive after this process closes them. The
        // report pipe closes on exec like the rest.
        close_on_exec_from_3();
        reset_signals();
#ifdef __GLIBC__
        ::execvpe(args[0], args.data(), envp.data());
#else
        environ = envp.data();
        ::execvp(args[0], args.data());
#endif
        int err = errno;
        [[maybe_unused]] auto n = ::write(report[1], &err, sizeof err);
        ::_exit(127);
    }
    int err = errno;
    ::close(pair[1]);
    ::close(report[1]);
    if (pid < 0) {
        ::close(pair[0]);
        ::close(report[0]);
        return fail(failure::internal, std::string("fork: ") + std::strerror(err));
    }
    int exec_err = 0;
    ssize_t n;
    do
        n = ::read(report[0], &exec_err, sizeof exec_err);
    while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof exec_err)) {
        ::close(pair[0]);
        ::waitpid(pid, nullptr, 0);
        return cannot_run(plan, exec_err);
    }
    return ssh_child{pid, pair[0]};
}

} // namespace corkscrew
