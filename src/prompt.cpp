#include "prompt.hpp"

#include "platform.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace corkscrew {

namespace {

using std::chrono::steady_clock;

// How often a wait looks for a blocked signal: short enough that Ctrl-C feels immediate.
constexpr std::chrono::milliseconds signal_check_interval{100};

// How long an askpass program asked to end (SIGTERM) gets before it is killed, and how long one
// that closed its output gets to exit.
constexpr std::chrono::milliseconds askpass_grace{500};

// How often an exit is looked for meanwhile: a small part of the grace period.
constexpr std::chrono::milliseconds reap_check_interval{10};

// Signals that end or suspend the program, and so must not find the terminal with echo off: they
// are held back while we ask, and let through once the terminal is restored (as OpenBSD's
// readpassphrase(3) does). SIGTTIN and SIGTTOU are left alone: they only come when the terminal is
// touched from the background, and stop us before anything on it has changed.
constexpr std::array guarded_signals{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP};

// Overwrites memory that held a password before it is reused or given back.
void wipe_bytes(void* data, std::size_t size) noexcept {
    secure_wipe(data, size);
}

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string errno_text(int e) {
    return std::strerror(e);
}

// An open file descriptor, closed when it goes out of scope.
class file_handle {
public:
    explicit file_handle(int fd = -1) : fd_(fd) {}
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// Holds the guarded signals back in this thread for its lifetime, and lets through on destruction
// those that came meanwhile, delivered as they would have been without it.
class signal_guard {
public:
    signal_guard() {
        ::sigemptyset(&guarded_);
        for (int s : guarded_signals)
            ::sigaddset(&guarded_, s);
        ::pthread_sigmask(SIG_BLOCK, &guarded_, &saved_);
    }
    signal_guard(const signal_guard&) = delete;
    signal_guard& operator=(const signal_guard&) = delete;
    ~signal_guard() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

    // A guarded signal waiting for us, or 0. One the program ignores is dropped here instead: with
    // it blocked, the system keeps it pending rather than discarding it.
    int pending() {
        sigset_t waiting;
        if (::sigpending(&waiting) != 0)
            return 0;
        for (int s : guarded_signals) {
            // Held back by our caller already: not ours to deliver.
            if (!::sigismember(&waiting, s) || ::sigismember(&saved_, s))
                continue;
            struct sigaction action {};
            ::sigaction(s, nullptr, &action);
            if ((action.sa_flags & SA_SIGINFO) == 0 && action.sa_handler == SIG_IGN) {
                discard(s);
                continue;
            }
            return s;
        }
        return 0;
    }

    // Delivers what is pending now; after a stop signal, returns once the program is continued.
    void let_through() {
        ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
        ::pthread_sigmask(SIG_BLOCK, &guarded_, nullptr);
    }

private:
    static void discard(int s) {
        sigset_t one;
        ::sigemptyset(&one);
        ::sigaddset(&one, s);
        const timespec now{};
        while (::sigtimedwait(&one, nullptr, &now) < 0 && errno == EINTR) {
        }
    }

    sigset_t guarded_{};
    sigset_t saved_{};
};

bool is_stop_signal(int s) {
    return s == SIGTSTP;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

int set_mode(int fd, const termios& mode) {
    int rc;
    while ((rc = ::tcsetattr(fd, TCSAFLUSH, &mode)) != 0 && errno == EINTR) {
    }
    return rc;
}

// The terminal with echo off, for as long as this lives or until restore().
class echo_off {
public:
    echo_off(int fd, const termios& saved) : fd_(fd), saved_(saved) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
        // TCSAFLUSH also drops what was typed before echo went off: it was shown on the screen.
        active_ = set_mode(fd_, quiet) == 0;
        error_ = active_ ? 0 : errno;
    }
    echo_off(const echo_off&) = delete;
    echo_off& operator=(const echo_off&) = delete;
    ~echo_off() { restore(); }

    bool active() const { return active_; }
    int error() const { return error_; }

    void restore() {
        if (!active_)
            return;
        // The Enter that ended the line was not echoed either: move to the next line for it.
        write_all(fd_, "\n");
        set_mode(fd_, saved_);
        active_ = false;
    }

private:
    int fd_;
    termios saved_;
    bool active_ = false;
    int error_ = 0;
};

// The answer of one attempt at reading a line.
enum class line_status { done, too_long, end_of_input, stopped, interrupted, failed };

// A line typed on the terminal `fd` with echo off, after `prompt`.
std::optional<std::string> ask_on_terminal(int fd, const termios& saved, const std::string& prompt,
                                           signal_guard& signals, std::string& why_not) {
    std::array<char, max_password_bytes> line{};
    std::array<char, max_password_bytes> chunk{};
    // Asked again after a stop (Ctrl-Z) and `fg`, as the terminal was given back meanwhile.
    for (;;) {
        echo_off quiet(fd, saved);
        if (!quiet.active()) {
            why_not = "cannot turn off echo on the terminal: " + errno_text(quiet.error());
            return std::nullopt;
        }
        if (!write_all(fd, prompt)) {
            why_not = "cannot write to the terminal: " + errno_text(errno);
            return std::nullopt;
        }

        std::size_t length = 0;
        bool too_long = false;
        line_status status = line_status::failed;
        int error = 0;
        for (;;) {
            if (int s = signals.pending()) {
                status = is_stop_signal(s) ? line_status::stopped : line_status::interrupted;
                break;
            }
            pollfd ready{fd, POLLIN, 0};
            const int polled = ::poll(&ready, 1, static_cast<int>(signal_check_interval.count()));
            if (polled < 0 && errno != EINTR) {
                error = errno;
                break;
            }
            if (polled <= 0)
                continue;
            // The terminal hands over one line per read (canonical mode); a raw one may hand
            // over less, so read on until the end of the line.
            const ssize_t n = ::read(fd, chunk.data(), chunk.size());
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0) {
                error = errno;
                break;
            }
            // Ctrl-D: on an empty line there is no answer; after some text, it ends the line.
            if (n == 0) {
                status = length == 0 && !too_long ? line_status::end_of_input : line_status::done;
                break;
            }
            bool end = false;
            for (ssize_t i = 0; i < n && !end; ++i) {
                const char c = chunk[static_cast<std::size_t>(i)];
                if (c == '\n' || c == '\r')
                    end = true;
                else if (length < line.size())
                    line[length++] = c;
                else
                    too_long = true;
            }
            if (end) {
                status = line_status::done;
                break;
            }
        }
        if (status == line_status::done && too_long)
            status = line_status::too_long;
        wipe_bytes(chunk.data(), chunk.size());
        quiet.restore();

        std::optional<std::string> password;
        if (status == line_status::done)
            password.emplace(line.data(), length);
        wipe_bytes(line.data(), line.size());
        switch (status) {
        case line_status::done:
            return password;
        case line_status::too_long:
            why_not = "the password typed is longer than " + std::to_string(max_password_bytes) +
                      " bytes";
            return std::nullopt;
        case line_status::end_of_input:
            why_not = "no password typed (end of input on the terminal)";
            return std::nullopt;
        case line_status::stopped:
            signals.let_through();
            continue;
        case line_status::interrupted:
            why_not = "the password prompt was interrupted by a signal";
            return std::nullopt;
        case line_status::failed:
            why_not = "cannot read the terminal: " + errno_text(error);
            return std::nullopt;
        }
    }
}

// A child process, ended (asked, then killed) and reaped if still running when this goes.
class child_process {
public:
    explicit child_process(pid_t pid) : pid_(pid) {}
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        if (pid_ > 0)
            stop();
    }

    // Its wait status, once it has exited; nothing if it is still running at `deadline`.
    std::optional<int> wait_until(steady_clock::time_point deadline) {
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return status;
            }
            // Reaped already, as when SIGCHLD is ignored: its status is lost, it did exit.
            if (r < 0 && errno == ECHILD) {
                pid_ = -1;
                return 0;
            }
            if (steady_clock::now() >= deadline)
                return std::nullopt;
            ::poll(nullptr, 0, static_cast<int>(reap_check_interval.count()));
        }
    }

    void stop() {
        ::kill(pid_, SIGTERM);
        if (wait_until(steady_clock::now() + askpass_grace))
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    pid_t pid_;
};

// RAII for the posix_spawn attribute objects.
struct spawn_setup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    spawn_setup() {
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawnattr_init(&attr);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;
    ~spawn_setup() {
        ::posix_spawn_file_actions_destroy(&actions);
        ::posix_spawnattr_destroy(&attr);
    }
};

// The first line printed by `program` run with `prompt` as its argument (ssh's SSH_ASKPASS).
std::optional<std::string> ask_with_program(const std::string& program, const std::string& prompt,
                                            std::chrono::milliseconds timeout,
                                            signal_guard& signals, std::string& why_not) {
    const std::string name = "SSH_ASKPASS program " + printable(program);
    int ends[2];
    if (!make_pipe(ends)) {
        why_not = "cannot run " + name + ": " + errno_text(errno);
        return std::nullopt;
    }
    file_handle from_child(ends[0]), child_out(ends[1]);

    spawn_setup setup;
    // Our stdin is the tunnel: the program gets nothing to read, and its stdout is our pipe.
    ::posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&setup.actions, child_out.get(), STDOUT_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Nor should it hold the tunnel's socket open.
    ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
#endif
    // It starts with no signal blocked (we hold some back) and none ignored that it needs.
    sigset_t none, defaults;
    ::sigemptyset(&none);
    ::sigemptyset(&defaults);
    for (int s : guarded_signals)
        ::sigaddset(&defaults, s);
    ::sigaddset(&defaults, SIGPIPE);
    ::posix_spawnattr_setsigmask(&setup.attr, &none);
    ::posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    ::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::string arg0 = program, arg1 = prompt;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    // Looked up in PATH, as ssh runs it with execlp().
    const int rc =
        ::posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attr, argv, environ);
    if (rc != 0) {
        why_not = "cannot run " + name + ": " + errno_text(rc);
        return std::nullopt;
    }
    child_process child(pid);
    child_out.reset();

    // Its output up to the end of the first line; more is read and dropped, so it can finish.
    std::array<char, max_password_bytes> line{};
    std::array<char, max_password_bytes> chunk{};
    std::size_t length = 0;
    bool line_ended = false, too_long = false;
    const auto deadline = steady_clock::now() + timeout;
    std::string failure;
    for (;;) {
        if (int s = signals.pending()) {
            if (is_stop_signal(s)) {
                signals.let_through();
                continue;
            }
            failure = "the password prompt was interrupted by a signal";
            break;
        }
        const auto left = deadline - steady_clock::now();
        if (left <= steady_clock::duration::zero()) {
            failure = name + " gave no answer within " +
                      std::to_string(std::chrono::ceil<std::chrono::seconds>(timeout).count()) +
                      " s";
            break;
        }
        const auto wait = std::min<steady_clock::duration>(left, signal_check_interval);
        pollfd ready{from_child.get(), POLLIN, 0};
        const int polled =
            ::poll(&ready, 1,
                   static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
        if (polled < 0 && errno != EINTR) {
            failure = "cannot read the output of " + name + ": " + errno_text(errno);
            break;
        }
        if (polled <= 0)
            continue;
        const ssize_t n = ::read(from_child.get(), chunk.data(), chunk.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            failure = "cannot read the output of " + name + ": " + errno_text(errno);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n && !line_ended; ++i) {
            const char c = chunk[static_cast<std::size_t>(i)];
            if (c == '\n' || c == '\r')
                line_ended = true;
            else if (length < line.size())
                line[length++] = c;
            else
                too_long = true;
        }
    }
    wipe_bytes(chunk.data(), chunk.size());

    std::optional<std::string> password;
    if (failure.empty()) {
        // Its output ended; it exits now, or soon.
        const auto status = child.wait_until(steady_clock::now() + askpass_grace);
        if (!status)
            failure = name + " closed its output but did not exit";
        else if (WIFSIGNALED(*status))
            failure = name + " was killed by signal " + std::to_string(WTERMSIG(*status));
        else if (WEXITSTATUS(*status) == 127)
            // A posix_spawn that cannot tell a failed exec (POSIX allows it; so it is under
            // valgrind) has the child exit 127, as a shell does for a command not found.
            failure = "cannot run " + name + " (it exited with status 127: a program not found)";
        else if (WEXITSTATUS(*status) != 0)
            // As for ssh, a non-zero exit is the user's "Cancel".
            failure = name + " exited with status " + std::to_string(WEXITSTATUS(*status));
        else if (too_long)
            failure = "the password from " + name + " is longer than " +
                      std::to_string(max_password_bytes) + " bytes";
        else
            password.emplace(line.data(), length);
    }
    wipe_bytes(line.data(), line.size());
    if (!failure.empty())
        why_not = failure;
    return password;
}

} // namespace

prompt_env prompt_env_from(const prompt_env_lookup& env) {
    auto non_empty = [&](const char* name) {
        auto v = env(name);
        return v && !v->empty();
    };
    prompt_env out;
    out.askpass = env("SSH_ASKPASS").value_or("");
    out.askpass_require = env("SSH_ASKPASS_REQUIRE").value_or("");
    out.display = non_empty("DISPLAY") || non_empty("WAYLAND_DISPLAY");
    return out;
}

std::optional<std::string> ask_password(const std::string& prompt, const prompt_env& env,
                                        std::string& why_not) {
    // SSH_ASKPASS_REQUIRE as ssh(1) reads it: "force" needs no display and goes before the
    // terminal, "prefer" goes before the terminal when there is a display, "never" turns it off.
    const std::string require = lower(env.askpass_require);
    const bool forced = require == "force";
    const bool askpass_usable =
        !env.askpass.empty() && require != "never" && (forced || env.display);
    const bool askpass_first = askpass_usable && (forced || require == "prefer");

    signal_guard signals;
    if (askpass_first)
        return ask_with_program(env.askpass, prompt, env.askpass_timeout, signals, why_not);

    std::string no_terminal = "no terminal";
    file_handle tty(::open(env.tty_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (tty.get() >= 0) {
        termios saved{};
        if (::tcgetattr(tty.get(), &saved) == 0)
            return ask_on_terminal(tty.get(), saved, prompt, signals, why_not);
        no_terminal = "no terminal (" + printable(env.tty_path) + " is not one)";
        tty.reset();
    }
    if (askpass_usable)
        return ask_with_program(env.askpass, prompt, env.askpass_timeout, signals, why_not);

    if (env.askpass.empty())
        why_not = no_terminal + " and no SSH_ASKPASS";
    else if (require == "never")
        why_not = no_terminal + ", and SSH_ASKPASS_REQUIRE=never";
    else
        why_not = no_terminal + ", and SSH_ASKPASS needs DISPLAY or WAYLAND_DISPLAY (or "
                                "SSH_ASKPASS_REQUIRE=force)";
    return std::nullopt;
}

std::optional<std::string> ask_password(const std::string& prompt, std::string& why_not) {
    return ask_password(prompt, prompt_env_from([](const char* name) -> std::optional<std::string> {
                            if (const char* v = std::getenv(name))
                                return std::string(v);
                            return std::nullopt;
                        }),
                        why_not);
}

} // namespace corkscrew
