// --relay, the gateway side of a jump: what ends it when the ssh session that started it is gone.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <poll.h>
#include <unistd.h>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

// Whether process `pid` has ended (gone, or a zombie waiting for init).
bool ended(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return true;
    const auto close = line.rfind(')');
    return close == std::string::npos || line.substr(close + 2, 1) == "Z";
}

} // namespace

TEST_SUITE_BEGIN("gateway" * doctest::timeout(60));

TEST_CASE("--relay: the death of the process that started it ends it, however quiet the rest") {
    holding_destination destination;
    // A shell plays the sshd session: it starts the relay and is then killed. The relay's
    // stdout stays open (this test holds the pipe) and the destination never closes.
    spawn_options o;
    o.program = "/bin/sh";
    o.args = {"-c", "\"$0\" --relay 127.0.0.1 \"$1\" & echo $!; wait", program(),
              std::to_string(destination.port())};
    child_process session(o);
    REQUIRE(destination.accept_one(10s));
    REQUIRE(session.pump_until([&] { return session.out().find('\n') != std::string::npos; }, 10s));
    const pid_t relay = std::stoi(session.out());
    REQUIRE_FALSE(ended(relay));
    session.send_signal(SIGKILL);
    const auto deadline = clock::now() + 2s;
    while (!ended(relay) && clock::now() < deadline)
        ::poll(nullptr, 0, 10);
    const bool gone = ended(relay);
    if (!gone)
        ::kill(relay, SIGKILL);
    CHECK(gone);
}

TEST_CASE("--relay takes DESTHOST DESTPORT, not the corkscrew form, and excludes --fdpass") {
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--relay", "proxy", "3128", "host", "22"},
             {"--relay", "--fdpass", "host", "22"},
         }) {
        spawn_options o;
        o.program = program();
        o.args = args;
        const auto r = run(o, {}, run_limit);
        INFO(context(r));
        CHECK(r.status.code == exit_code::usage);
        CHECK(is_one_error_line(r.err));
    }
}

TEST_SUITE_END();
