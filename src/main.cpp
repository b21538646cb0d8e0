// corkscrew++: tunnel a TCP stream through HTTP CONNECT proxies.
#include "app.hpp"
#include "log.hpp"
#include "options.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <unistd.h>

namespace {

// Opens /dev/null on any of stdin, stdout and stderr the process was started without, as OpenSSH
// does: otherwise the next descriptor opened (a socket, Asio's eventfd) would take the number and
// be read, written or logged to as if it were one of them.
void ensure_std_descriptors() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFL) != -1)
            continue;
        int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0 && null_fd != fd) {
            ::dup2(null_fd, fd);
            ::close(null_fd);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    using namespace corkscrew;
    // A reader that goes away must show up as EPIPE on the write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    ensure_std_descriptors();
    try {
        auto cl = parse_command_line(argc, argv, process_env);
        if (!cl) {
            logger{}.error(cl.err().message + " (see --help)");
            return exit_status(cl.err().kind);
        }
        hide_url_passwords(argc, argv, cl->proxy_args);
        if (cl->what != command_line::action::run) {
            std::fputs(cl->text.c_str(), stdout);
            return 0;
        }
        logger log(cl->settings.verbosity);
        for (const auto& w : cl->warnings)
            log.warn("warning: " + w);
        return run(cl->settings, log);
    } catch (const std::exception& e) {
        logger{}.error(std::string("internal error: ") + e.what());
        return exit_status(failure::internal);
    }
}
