// Failure kinds, their error category, and the one mapping from failure to exit status.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace corkscrew {

// Every way a run can fail. Each kind has its own exit status (see exit_status()), documented in
// --help and the man page, so scripts and ssh users can tell them apart.
enum class failure {
    internal = 1,      // a bug or an unexpected system error
    usage,             // bad command line, URL, header, destination or auth file
    proxy_unreachable, // cannot resolve or connect to the proxy
    proxy_refused,     // the proxy answered CONNECT with a non-2xx status
    auth_failed,       // 407 without usable credentials, or still 407 after the last try
    bad_answer,        // the proxy's answer is not HTTP, is cut short, or is too large
    timeout,           // the tunnel was not up within --connect-timeout
    relay_io,          // an I/O error after the tunnel was up
    compression,       // the ends of --compress disagree, or its stream is corrupt or cut off
};

const std::error_category& failure_category() noexcept;
std::error_code make_error_code(failure f) noexcept;

// The process exit status for a failure: the only place where kinds become numbers.
int exit_status(failure f) noexcept;

// Exit status for a run ended by a signal, as a shell reports a process killed by it.
constexpr int signal_exit_status(int signo) noexcept {
    return 128 + signo;
}

// A failure with the one line that goes to stderr (without the program name).
struct error {
    failure kind;
    std::string message;
};

// A value or the error that prevented it. Expected outcomes are values; nothing here throws.
template <typename T>
class result {
public:
    result(T value) : v_(std::move(value)) {}
    result(error e) : v_(std::move(e)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const error& err() const { return std::get<1>(v_); }

private:
    std::variant<T, error> v_;
};

// Shorthand for building an error.
inline error fail(failure kind, std::string message) {
    return {kind, std::move(message)};
}

} // namespace corkscrew

template <>
struct std::is_error_code_enum<corkscrew::failure> : std::true_type {};
