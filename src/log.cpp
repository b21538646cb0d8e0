#include "log.hpp"

#include <cerrno>
#include <poll.h>
#include <string>
#include <unistd.h>

namespace corkscrew {

void logger::write(std::string_view line) const {
    if (sink_) {
        (*sink_)(line);
        return;
    }
    // One write per line, so lines from this process never interleave mid-line with others.
    std::string out = "corkscrew++: ";
    out += prefix_;
    out += line;
    out += '\n';
    std::string_view rest = out;
    while (!rest.empty()) {
        auto n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            // stderr shares a terminal with stdin or stdout, which the relay made non-blocking.
            pollfd p{STDERR_FILENO, POLLOUT, 0};
            if (::poll(&p, 1, -1) >= 0)
                continue;
        }
        if (n <= 0)
            return;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

} // namespace corkscrew
