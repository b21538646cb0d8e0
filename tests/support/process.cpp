#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace corkscrew_test {

namespace {

// Longest single poll() while pumping, so that deadlines are checked often enough.
constexpr int max_poll_ms = 50;

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw_errno("fcntl");
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// Variables from the test's own environment that would change the program's behaviour. The
// relay-path switch is the exception: ctest sets it to run the same tests on each path.
bool inherited_variable_allowed(const std::string& name) {
    const std::string l = lower(name);
    if (l.starts_with("corkscrew_")) {
        return l == "corkscrew_relay";
    }
    return l != "http_proxy" && l != "https_proxy" && l != "all_proxy" && l != "no_proxy";
}

std::vector<std::string> child_environment(const spawn_options& options) {
    std::vector<std::string> env;
    for (char** p = environ; *p != nullptr; ++p) {
        const std::string entry = *p;
        const std::string name = entry.substr(0, entry.find('='));
        const bool overridden = std::any_of(options.env.begin(), options.env.end(),
                                            [&](const auto& kv) { return kv.first == name; });
        if (!overridden && inherited_variable_allowed(name)) {
            env.push_back(entry);
        }
    }
    for (const auto& [name, value] : options.env) {
        env.push_back(name + "=" + value);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// A pipe whose ends are both close-on-exec; the child gets its end through dup2.
std::pair<int, int> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
        throw_errno("pipe2");
    }
    return {fds[0], fds[1]};
}

// RAII for the posix_spawn attribute objects.
struct spawn_setup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};

    spawn_setup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        // The test process ignores SIGPIPE; the child must start with default dispositions.
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int s :
             {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGALRM, SIGCHLD, SIGUSR1, SIGUSR2}) {
            sigaddset(&defaults, s);
        }
        sigset_t empty;
        sigemptyset(&empty);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setsigmask(&attr, &empty);
        // A session of its own: the program has no controlling terminal, so it can never ask
        // the developer running the tests for a password on theirs.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSID);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
};

exit_status status_from(int wstatus, const rusage& usage) {
    exit_status s;
    if (WIFEXITED(wstatus)) {
        s.exited = true;
        s.code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        s.signal = WTERMSIG(wstatus);
        s.core_dumped = WCOREDUMP(wstatus);
    }
    const auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
    s.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    return s;
}

} // namespace

std::string exit_status::describe() const {
    std::ostringstream os;
    if (exited) {
        os << "exit " << code;
    } else if (signal != 0) {
        os << "signal " << signal << " (" << ::strsignal(signal) << ")"
           << (core_dumped ? " core dumped" : "");
    } else {
        os << "not reaped";
    }
    os << (timed_out ? ", killed at the deadline" : "") << ", after "
       << std::chrono::duration<double>(elapsed).count() << " s, cpu " << cpu_seconds << " s";
    return os.str();
}

child_process::child_process(const spawn_options& options) {
    spawn_setup setup;
    int child_in = -1;
    int child_out = -1;
    int child_err = -1;
    if (options.no_stdin) {
        posix_spawn_file_actions_addclose(&setup.actions, 0);
    } else if (options.stdin_fd) {
        posix_spawn_file_actions_adddup2(&setup.actions, *options.stdin_fd, 0);
    } else if (options.stdin_file) {
        posix_spawn_file_actions_addopen(&setup.actions, 0, options.stdin_file->c_str(), O_RDONLY,
                                         0);
    } else {
        std::tie(child_in, in_fd_) = make_pipe();
        posix_spawn_file_actions_adddup2(&setup.actions, child_in, 0);
    }
    if (options.no_stdout) {
        posix_spawn_file_actions_addclose(&setup.actions, 1);
    } else if (options.stdout_fd) {
        posix_spawn_file_actions_adddup2(&setup.actions, *options.stdout_fd, 1);
    } else if (options.stdout_file) {
        posix_spawn_file_actions_addopen(&setup.actions, 1, options.stdout_file->c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
    } else {
        std::tie(out_fd_, child_out) = make_pipe();
        posix_spawn_file_actions_adddup2(&setup.actions, child_out, 1);
    }
    std::tie(err_fd_, child_err) = make_pipe();
    posix_spawn_file_actions_adddup2(&setup.actions, child_err, 2);
    if (options.controlling_tty) {
        // File actions run after setsid(): opening a terminal without O_NOCTTY as the leader of
        // a session that has none makes it the controlling terminal, which outlives the
        // descriptor.
        constexpr int tty_fd = 3;
        posix_spawn_file_actions_addopen(&setup.actions, tty_fd, options.controlling_tty->c_str(),
                                         O_RDWR, 0);
        posix_spawn_file_actions_addclose(&setup.actions, tty_fd);
    }

    std::vector<std::string> argv_strings{options.program};
    argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
    std::vector<std::string> env_strings = child_environment(options);
    auto argv = c_strings(argv_strings);
    auto envp = c_strings(env_strings);

    started_ = clock::now();
    const int rc = ::posix_spawn(&pid_, options.program.c_str(), &setup.actions, &setup.attr,
                                 argv.data(), envp.data());
    close_fd(child_in);
    close_fd(child_out);
    close_fd(child_err);
    if (rc != 0) {
        close_fd(in_fd_);
        close_fd(out_fd_);
        close_fd(err_fd_);
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + options.program);
    }
    for (int fd : {in_fd_, out_fd_, err_fd_}) {
        if (fd >= 0) {
            set_nonblocking(fd);
        }
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

child_process::~child_process() {
    if (running()) {
        kill_and_reap();
    }
    close_fd(in_fd_);
    close_fd(out_fd_);
    close_fd(err_fd_);
    close_fd(pidfd_);
}

void child_process::write_stdin(std::string_view bytes) {
    in_queue_.append(bytes);
}

void child_process::close_stdin() {
    close_stdin_requested_ = true;
    if (!stdin_pending()) {
        close_fd(in_fd_);
    }
}

void child_process::close_stdout() {
    close_fd(out_fd_);
}

void child_process::send_signal(int signal) {
    if (running()) {
        ::kill(pid_, signal);
    }
}

void child_process::write_some_stdin() {
    while (stdin_pending()) {
        const ssize_t n = ::write(in_fd_, in_queue_.data() + in_off_, in_queue_.size() - in_off_);
        if (n > 0) {
            in_off_ += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        // The child closed its stdin (EPIPE): nothing more can be delivered.
        in_off_ = in_queue_.size();
        close_fd(in_fd_);
        return;
    }
    if (close_stdin_requested_) {
        close_fd(in_fd_);
    }
}

void child_process::drain(int& fd, std::string& sink) {
    char buffer[65536];
    // Bounded: a child that writes as fast as it is read (an endless download) would otherwise
    // keep this loop going, and pump_until() would never look at its condition in between.
    for (int reads = 0; reads < 16; ++reads) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            sink.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        close_fd(fd);
        return;
    }
}

void child_process::try_reap() {
    if (!running()) {
        return;
    }
    int wstatus = 0;
    rusage usage{};
    const pid_t r = ::wait4(pid_, &wstatus, WNOHANG, &usage);
    if (r == pid_) {
        status_ = status_from(wstatus, usage);
        status_->elapsed = clock::now() - started_;
        close_fd(pidfd_);
    }
}

void child_process::kill_and_reap() {
    ::kill(pid_, SIGKILL);
    int wstatus = 0;
    rusage usage{};
    while (::wait4(pid_, &wstatus, 0, &usage) < 0 && errno == EINTR) {
    }
    status_ = status_from(wstatus, usage);
    status_->elapsed = clock::now() - started_;
    status_->timed_out = true;
    close_fd(pidfd_);
}

void child_process::pump_once(int timeout_ms) {
    if (in_fd_ >= 0 && close_stdin_requested_ && !stdin_pending()) {
        close_fd(in_fd_);
    }
    std::vector<pollfd> fds;
    if (in_fd_ >= 0 && stdin_pending()) {
        fds.push_back({in_fd_, POLLOUT, 0});
    }
    for (int fd : {out_fd_, err_fd_, pidfd_}) {
        if (fd >= 0) {
            fds.push_back({fd, POLLIN, 0});
        }
    }
    // Without a pidfd, poll briefly and check for the exit with waitpid.
    const int wait_ms = pidfd_ >= 0 ? timeout_ms : std::min(timeout_ms, 5);
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) {
        throw_errno("poll");
    }
    if (in_fd_ >= 0 && stdin_pending()) {
        write_some_stdin();
    }
    if (out_fd_ >= 0) {
        drain(out_fd_, out_);
    }
    if (err_fd_ >= 0) {
        drain(err_fd_, err_);
    }
    try_reap();
}

bool child_process::pump_until(const std::function<bool()>& done, clock::duration limit) {
    const auto deadline = clock::now() + limit;
    for (;;) {
        if (done()) {
            return true;
        }
        const bool nothing_left = !running() && out_fd_ < 0 && err_fd_ < 0;
        const auto now = clock::now();
        if (nothing_left || now >= deadline) {
            return done();
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        pump_once(static_cast<int>(std::min<long long>(left.count() + 1, max_poll_ms)));
    }
}

const exit_status& child_process::wait(clock::duration limit) {
    const bool finished =
        pump_until([this] { return !running() && out_fd_ < 0 && err_fd_ < 0; }, limit);
    if (!finished && running()) {
        kill_and_reap();
    }
    // After the exit the pipes hold only what the child wrote before it; take that too.
    pump_until([this] { return out_fd_ < 0 && err_fd_ < 0; }, std::chrono::seconds(2));
    return *status_;
}

run_result run(const spawn_options& options, std::string_view stdin_data, clock::duration limit) {
    child_process child(options);
    child.write_stdin(stdin_data);
    child.close_stdin();
    const exit_status status = child.wait(limit);
    return {child.out(), child.err(), status};
}

} // namespace corkscrew_test
