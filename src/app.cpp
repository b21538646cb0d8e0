#include "app.hpp"

#include "jump.hpp"
#include "listen.hpp"
#include "platform.hpp"
#include "probe.hpp"
#include "session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <unistd.h>

namespace corkscrew {

namespace {

// A relay on a gateway runs under the sshd session that started it: when that session ends (the
// client was killed, the network went), the kernel sends SIGHUP, which ends the run as ssh's own
// SIGHUP does. A parent already gone before this is the same.
void follow_parent() {
    signal_when_parent_exits(SIGHUP);
}

// Whether the run holds a password from the start (the URL, a file, the environment), in its
// own route or in the route of any listener.
bool holds_password(const config& settings) {
    for (const auto& hop : settings.path.hops)
        if (hop.creds && hop.creds->has_password)
            return true;
    if (settings.listen)
        for (const auto& l : settings.listen->listeners)
            if (l.tunnel && holds_password(*l.tunnel))
                return true;
    return false;
}

} // namespace

int run(const config& settings, const logger& log) {
    if (holds_password(settings))
        keep_secrets_out_of_core_dumps();
    if (settings.listen)
        return serve(*settings.listen, log);
    if (settings.probe)
        return run_probe(settings);
    if (settings.jump && !settings.compress) {
        // Run ssh in this process's place: it relays, and its exit status is the run's.
        auto self = own_path();
        if (!self) {
            log.error("cannot find this program's own path for ssh's ProxyCommand (--jump)");
            return exit_status(failure::internal);
        }
        auto plan = plan_jump(*settings.jump, settings.path.destination, *self);
        log.info("running " + shell_line(plan.argv));
        auto e = exec_jump(plan);
        log.error(e.message);
        return exit_status(e.kind);
    }
    if (settings.gateway_relay)
        follow_parent();
    net::io_context io{1};
    session s(settings, log, io);
    net::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
    signals.async_wait([&](const error_code& ec, int signo) {
        if (ec)
            return;
        // ssh ends a ProxyCommand with SIGHUP and does not wait: stop at once. Closing what is in
        // use ends every pending operation, so all unwinds in order, now; the set-up checks before
        // each new step. A second signal gets the default action.
        error_code ignored;
        signals.clear(ignored);
        s.stop(signo);
    });
    bool crashed = false;
    net::co_spawn(io, s.run(), [&](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log.error(std::string("internal error: ") + ex.what());
            }
            crashed = true;
        }
        error_code ignored;
        signals.cancel(ignored);
    });
    io.run();
    return crashed ? exit_status(failure::internal) : s.status();
}

} // namespace corkscrew
