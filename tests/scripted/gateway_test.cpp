// --relay, the gateway side of a jump: what ends it when the ssh session that started it is gone.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

// A destination on 127.0.0.1 that accepts one connection and holds it open, silent, whatever
// the client sends or shuts down: only something else than the destination can end a relay to it.
class holding_destination {
public:
    holding_destination() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) < 0 ||
            ::listen(listener_, 1) < 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
            throw std::runtime_error("holding destination: cannot listen");
        port_ = ntohs(addr.sin_port);
    }
    ~holding_destination() {
        if (held_ >= 0)
            ::close(held_);
        ::close(listener_);
    }
    holding_destination(const holding_destination&) = delete;
    holding_destination& operator=(const holding_destination&) = delete;

    std::uint16_t port() const { return port_; }

    // Waits (bounded) for the connection and keeps it.
    bool accept_one(std::chrono::milliseconds limit) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1)
            return false;
        held_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        return held_ >= 0;
    }

private:
    int listener_ = -1;
    int held_ = -1;
    std::uint16_t port_ = 0;
};

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
