// --fdpass: the tunnel's socket handed over stdout with SCM_RIGHTS, as ssh takes it with
// ProxyUseFdpass yes, with every byte the proxy sent after its answer still on it.
#include "harness.hpp"

#include "../support/fd_receive.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

// A proxy that answers each request with the next of `answers` (the last one in the same write
// as the destination's banner), then echoes what the client sends.
connection_handler answer_each(std::vector<std::vector<segment>> answers) {
    return [answers = std::move(answers)](proxy_connection& c) {
        for (std::size_t i = 0; i < answers.size(); ++i) {
            if (!c.read_request()) {
                return;
            }
            auto segments = answers[i];
            if (i + 1 == answers.size()) {
                segments.back().bytes += banner;
            }
            c.send_segments(segments);
        }
        c.echo();
    };
}

// The program with --fdpass (and `extra`), one end of a socket pair as its stdin and stdout, as
// ssh starts a ProxyCommand with ProxyUseFdpass; the test holds the other end.
std::array<int, 2> socket_pair() {
    std::array<int, 2> pair{-1, -1};
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()) == 0);
    return pair;
}

struct fdpass_run {
    std::array<int, 2> pair = socket_pair();
    owned_fd carrier{pair[0]};
    std::unique_ptr<child_process> child;

    fdpass_run(const scripted_proxy& proxy, std::vector<std::string> extra = {},
               std::vector<std::pair<std::string, std::string>> env = {}) {
        const owned_fd theirs(pair[1]);
        extra.insert(extra.begin(), "--fdpass");
        auto options = corkscrew_form(proxy);
        options.args.insert(options.args.begin(), extra.begin(), extra.end());
        options.env = std::move(env);
        options.stdin_fd = theirs.get();
        options.stdout_fd = theirs.get();
        child = std::make_unique<child_process>(options);
    }
};

// Takes the socket, lets the program end as ssh waits for it to, then expects the banner and
// only the banner on the socket, and a line written to it to come back through the proxy.
void check_handed_over(scripted_proxy& proxy, std::vector<std::string> extra = {},
                       std::vector<std::pair<std::string, std::string>> env = {}) {
    fdpass_run run(proxy, std::move(extra), std::move(env));
    const owned_fd tunnel(receive_fd(run.carrier.get(), 10000));
    const auto& status = run.child->wait(run_limit);
    INFO(context(*run.child));
    REQUIRE(tunnel.get() >= 0);
    CHECK(status.code == exit_code::ok);

    // Nothing but the descriptor's byte came over stdout, and the program's end is closed.
    std::string rest;
    CHECK_FALSE(read_until(run.carrier, rest, "never sent", 2s));
    CHECK(rest.empty());

    // The program is gone; the tunnel is not.
    std::string got;
    CHECK(read_until(tunnel, got, banner, 10s));
    write_all(tunnel, "ping\n");
    CHECK(read_until(tunnel, got, "ping\n", 10s));
    CHECK(got == std::string(banner) + "ping\n");
    CHECK(received(proxy) == "ping\n");
    CHECK(proxy.connection_count() == 1);
}

} // namespace

TEST_SUITE_BEGIN("fdpass" * doctest::timeout(60));

TEST_CASE("--fdpass: the answer's head is read, the tunnel bytes behind it stay on the socket") {
    std::vector<std::vector<segment>> answers;
    SUBCASE("200 and the banner in one write") {
        answers = {{{std::string(established)}}};
    }
    SUBCASE("100 Continue, 200 and the banner in one write") {
        answers = {{{"HTTP/1.1 100 Continue\r\n\r\n" + std::string(established)}}};
    }
    SUBCASE("100 Continue, then 200 and the banner in a later segment") {
        answers = {{{"HTTP/1.1 100 Continue\r\n\r\n"}, {std::string(established), segment_gap}}};
    }
    SUBCASE("a bare-LF 200 dribbled one byte per segment, the banner with its last byte") {
        answers = {dribble("HTTP/1.1 200 OK\nVia: 1.1 p\n\n", 5ms)};
    }
    scripted_proxy proxy(answer_each(answers));
    check_handed_over(proxy);
}

TEST_CASE("--fdpass: 407 with a body kept alive, then 200: the retry's tunnel bytes stay too") {
    std::string denied;
    SUBCASE("Content-Length body") {
        denied = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 4\r\n\r\nnope";
    }
    SUBCASE("chunked body") {
        denied = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"t\"\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "4\r\nnope\r\n0\r\n\r\n";
    }
    scripted_proxy proxy(answer_each({{{denied}}, {{std::string(established)}}}));
    check_handed_over(proxy, {}, {{"CORKSCREW_AUTH", "alice:secret"}});
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].find("Proxy-Authorization: Basic") != std::string::npos);
}

TEST_CASE("--fdpass -v says that the socket went to ssh") {
    scripted_proxy proxy(answer_each({{{std::string(established)}}}));
    fdpass_run run(proxy, {"-v"});
    const owned_fd tunnel(receive_fd(run.carrier.get(), 10000));
    const auto& status = run.child->wait(run_limit);
    INFO(context(*run.child));
    CHECK(tunnel.get() >= 0);
    CHECK(status.code == exit_code::ok);
    CHECK(run.child->err().find("passed the tunnel's socket to ssh (ProxyUseFdpass)") !=
          std::string::npos);
}

TEST_CASE("--fdpass without a Unix socket as stdout: exit 2 before the proxy is asked") {
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}, then_do::sink});
    auto options = corkscrew_form(proxy, {"--fdpass"});
    const temp_file output("");
    std::string kind;
    SUBCASE("a pipe") {
        kind = "a pipe";
    }
    SUBCASE("a regular file") {
        kind = "a regular file";
        options.stdout_file = output.path();
    }
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::usage);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {"--fdpass", "ProxyUseFdpass", kind}));
    CHECK(r.out.empty());
    CHECK(output.read().empty());
    CHECK(proxy.connection_count() == 0);
}

TEST_CASE("--fdpass and a refusal: exit 4, no descriptor sent") {
    scripted_proxy proxy(
        script{{{"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}}, then_do::close});
    fdpass_run run(proxy);
    const owned_fd tunnel(receive_fd(run.carrier.get(), 10000));
    const auto& status = run.child->wait(run_limit);
    INFO(context(*run.child));
    CHECK(tunnel.get() < 0);
    CHECK(status.code == exit_code::refused);
    CHECK(is_one_error_line(run.child->err()));
}

TEST_SUITE_END();
