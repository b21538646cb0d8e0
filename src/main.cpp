// corkscrew++: tunnel a TCP stream through HTTP CONNECT proxies.
#include "app.hpp"
#include "log.hpp"
#include "options.hpp"

#include <csignal>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    using namespace corkscrew;
    // A reader that goes away must show up as EPIPE on the write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto cl = parse_command_line(argc, argv, process_env);
        if (!cl) {
            logger{}.error(cl.err().message + " (see --help)");
            return exit_status(cl.err().kind);
        }
        hide_url_passwords(argc, argv);
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
