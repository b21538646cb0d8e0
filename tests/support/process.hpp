// Run the program under test as a child process with pipes on stdin, stdout and stderr.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace corkscrew_test {

using clock = std::chrono::steady_clock;

struct spawn_options {
    std::string program;
    std::vector<std::string> args;
    // Set (or override) in the child's environment.
    std::vector<std::pair<std::string, std::string>> env;
    // Redirect from / to a file instead of a pipe (a regular file, /dev/null).
    std::optional<std::string> stdin_file;
    std::optional<std::string> stdout_file;
    // Give the child one of the test's descriptors instead (a socket, a terminal); the same one
    // may serve as both. The test keeps its own copy and closes it when it wants.
    std::optional<int> stdin_fd;
    std::optional<int> stdout_fd;
    // Start the child without the descriptor at all (closed, as a careless parent leaves it).
    bool no_stdin = false;
    bool no_stdout = false;
    // A terminal (a pseudo-terminal's slave) for the child to open after it has started its own
    // session, which makes it the child's controlling terminal (/dev/tty) while its standard
    // descriptors stay as set above. Without it the child has no controlling terminal.
    std::optional<std::string> controlling_tty;
};

// How the child ended, and what it cost.
struct exit_status {
    bool exited = false;
    int code = -1;
    int signal = 0;
    bool core_dumped = false;
    bool timed_out = false; // killed by us because the deadline passed
    double cpu_seconds = 0; // user + system, from wait4()
    clock::duration elapsed{};

    std::string describe() const;
};

class child_process {
public:
    explicit child_process(const spawn_options& options);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // Queue bytes for the child's stdin; they are written while pumping.
    void write_stdin(std::string_view bytes);
    // Close stdin once everything queued has been written.
    void close_stdin();
    // Close the read end of the child's stdout now: its reader is gone, later writes get EPIPE.
    void close_stdout();

    // Service the pipes until done() holds or the deadline passes; false on timeout.
    bool pump_until(const std::function<bool()>& done, clock::duration limit);
    // Wait for the child to exit (and its pipes to reach EOF), killing it after the limit.
    const exit_status& wait(clock::duration limit);

    void send_signal(int signal);

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }
    bool stdout_closed() const { return out_fd_ < 0; }
    bool stdin_closed() const { return in_fd_ < 0; }
    bool stdin_pending() const { return in_off_ < in_queue_.size(); }
    bool running() const { return !status_; }
    // Set once the child has been reaped.
    const std::optional<exit_status>& status() const { return status_; }
    pid_t pid() const { return pid_; }

private:
    void pump_once(int timeout_ms);
    void write_some_stdin();
    void drain(int& fd, std::string& sink);
    void try_reap();
    void kill_and_reap();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int in_fd_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string in_queue_;
    std::size_t in_off_ = 0;
    bool close_stdin_requested_ = false;
    std::string out_;
    std::string err_;
    clock::time_point started_;
    std::optional<exit_status> status_;
};

struct run_result {
    std::string out;
    std::string err;
    exit_status status;
};

// Start, feed stdin (then close it), collect everything, wait (bounded).
run_result run(const spawn_options& options, std::string_view stdin_data = {},
               clock::duration limit = std::chrono::seconds(30));

} // namespace corkscrew_test
