#include "terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace corkscrew_test {

namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

} // namespace

pseudo_terminal::pseudo_terminal() {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (master_ < 0) {
        throw_errno("posix_openpt");
    }
    const char* name = nullptr;
    if (::grantpt(master_) != 0 || ::unlockpt(master_) != 0 ||
        (name = ::ptsname(master_)) == nullptr) {
        const int e = errno;
        ::close(master_);
        throw std::system_error(e, std::generic_category(), "pseudo-terminal setup");
    }
    slave_path_ = name;
    // O_NOCTTY: the terminal must never become the test process's own.
    slave_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_ < 0) {
        const int e = errno;
        ::close(master_);
        throw std::system_error(e, std::generic_category(), "open " + slave_path_);
    }
}

pseudo_terminal::~pseudo_terminal() {
    ::close(slave_);
    ::close(master_);
}

std::string pseudo_terminal::read_available() {
    std::string out;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(master_, buffer, sizeof buffer);
        if (n > 0) {
            out.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        // EAGAIN: nothing more for now. EIO: no slave open, which our own descriptor prevents.
        return out;
    }
}

void pseudo_terminal::type(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(master_, bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && errno != EINTR) {
            // A few bytes never fill a terminal's input queue; EAGAIN here is a failure too.
            throw_errno("write to the pseudo-terminal");
        }
    }
}

bool pseudo_terminal::echoes() const {
    termios mode{};
    if (::tcgetattr(slave_, &mode) != 0) {
        throw_errno("tcgetattr");
    }
    return (mode.c_lflag & ECHO) != 0;
}

} // namespace corkscrew_test
