#include "tunnel.hpp"

#include "../support/script_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <deque>

using namespace corkscrew;

namespace {

using corkscrew_test::script_stream;

struct run_result {
    std::optional<result<tunnel>> outcome;
    std::vector<std::string> requests; // everything written, per connection
};

enum class reading { as_needed, exactly, exactly_without_peek };

// Runs the exchange against one scripted connection per entry of `connections`.
run_result run_exchange(std::vector<std::string> connections, const hop& through,
                        std::size_t step = 1 << 20, reading how = reading::as_needed) {
    run_result rr;
    rr.requests.reserve(connections.size() + 1);
    std::size_t next = 0;
    connector connect = [&]() -> net::awaitable<result<std::unique_ptr<byte_stream>>> {
        if (next == connections.size())
            co_return fail(failure::proxy_unreachable, "no more scripted connections");
        rr.requests.emplace_back();
        std::unique_ptr<byte_stream> s = std::make_unique<script_stream>(
            corkscrew_test::split_pieces(connections[next++], step), rr.requests.back(),
            how != reading::exactly_without_peek);
        co_return s;
    };
    net::io_context io;
    request_options options;
    options.user_agent = "test-agent";
    options.exact = how != reading::as_needed;
    endpoint_name target{"git.example", 22};
    logger quiet(-1);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            rr.outcome = co_await open_tunnel(connect, through, target, options, quiet);
        },
        net::detached);
    io.run();
    return rr;
}

// The tunnel data: what came with the answer, then what the stream still holds.
std::string tunnel_data(const result<tunnel>& t) {
    return t->leftover + dynamic_cast<const script_stream&>(*t->stream).rest();
}

hop proxy_with(std::optional<credentials> creds, bool preemptive = false) {
    hop h;
    h.proxy = {"proxy.test", 3128};
    h.creds = std::move(creds);
    h.preemptive_basic = preemptive;
    return h;
}

const std::string basic_alice = "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"; // alice:secret

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("200 with tunnel data in the same read, and byte by byte") {
    for (std::size_t step : {std::size_t{1}, std::size_t{1 << 20}}) {
        auto rr = run_exchange({"HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-x\r\n"},
                               proxy_with(std::nullopt), step);
        REQUIRE(rr.outcome);
        REQUIRE(*rr.outcome);
        CHECK(tunnel_data(*rr.outcome) == "SSH-2.0-x\r\n");
        CHECK(rr.requests.size() == 1);
        CHECK(rr.requests[0] == "CONNECT git.example:22 HTTP/1.1\r\nHost: git.example:22\r\n"
                                "User-Agent: test-agent\r\n\r\n");
    }
}

TEST_CASE("100 Continue is skipped") {
    auto rr = run_exchange({"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nDATA"},
                           proxy_with(std::nullopt), 1);
    REQUIRE(*rr.outcome);
    CHECK(tunnel_data(*rr.outcome) == "DATA");
}

TEST_CASE("407 kept alive with a chunked body: the retry goes on the same connection") {
    auto rr = run_exchange({"HTTP/1.1 407 Proxy Authentication Required\r\n"
                            "Proxy-Authenticate: Basic realm=\"test\"\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                            "4\r\nnope\r\n0\r\n\r\n"
                            "HTTP/1.1 200 OK\r\n\r\nbanner"},
                           proxy_with(credentials{"alice", "secret", "test"}), 3);
    REQUIRE(*rr.outcome);
    CHECK(tunnel_data(*rr.outcome) == "banner");
    REQUIRE(rr.requests.size() == 1);
    CHECK(count(rr.requests[0], "CONNECT git.example:22") == 2);
    CHECK(count(rr.requests[0], basic_alice) == 1);
}

TEST_CASE("407 with Connection: close: the retry goes on a new connection") {
    auto rr = run_exchange({"HTTP/1.1 407 Denied\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                            "Connection: close\r\nContent-Length: 4\r\n\r\nnope",
                            "HTTP/1.0 200 OK\r\n\r\n"},
                           proxy_with(credentials{"alice", "secret", "test"}));
    REQUIRE_MESSAGE(*rr.outcome, (*rr.outcome ? "" : rr.outcome->err().message));
    REQUIRE(rr.requests.size() == 2);
    CHECK(count(rr.requests[0], basic_alice) == 0);
    CHECK(count(rr.requests[1], basic_alice) == 1);
}

TEST_CASE("a wrong password is tried at most max_auth_tries times") {
    const std::string denied = "HTTP/1.1 407 Denied\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                               "Content-Length: 0\r\n\r\n";
    std::string all;
    for (int i = 0; i < 10; ++i)
        all += denied;
    auto rr = run_exchange({all}, proxy_with(credentials{"alice", "secret", "test"}));
    REQUIRE_FALSE(*rr.outcome);
    const auto& e = rr.outcome->err();
    CHECK(e.kind == failure::auth_failed);
    CHECK(e.message.find("proxy.test:3128") != std::string::npos);
    CHECK(e.message.find("407 Denied") != std::string::npos);
    CHECK(e.message.find("secret") == std::string::npos);
    CHECK(count(rr.requests[0], basic_alice) == max_auth_tries);
}

TEST_CASE("401 to credentials is their rejection (tinyproxy), 401 to none a refusal") {
    const std::string challenge = "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                                  "Content-Length: 0\r\n\r\n";
    const std::string unauthorized = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    auto rejected =
        run_exchange({challenge + unauthorized}, proxy_with(credentials{"alice", "secret", "t"}));
    REQUIRE_FALSE(*rejected.outcome);
    CHECK(rejected.outcome->err().kind == failure::auth_failed);
    CHECK(rejected.outcome->err().message.find("401 Unauthorized") != std::string::npos);
    CHECK(count(rejected.requests[0], basic_alice) == 1);

    auto refused = run_exchange({unauthorized}, proxy_with(std::nullopt));
    REQUIRE_FALSE(*refused.outcome);
    CHECK(refused.outcome->err().kind == failure::proxy_refused);
}

TEST_CASE("preemptive Basic counts as the first try") {
    auto rr = run_exchange({"HTTP/1.1 200 OK\r\n\r\n"},
                           proxy_with(credentials{"alice", "secret", "auth file"}, true));
    REQUIRE(*rr.outcome);
    CHECK(count(rr.requests[0], basic_alice) == 1);
}

TEST_CASE("407 without credentials, and with a scheme we do not speak") {
    const std::string digest_only = "HTTP/1.1 407 Denied\r\nProxy-Authenticate: Digest "
                                    "realm=\"t\", nonce=\"n\"\r\nContent-Length: 0\r\n\r\n";
    const std::string ntlm_only = "HTTP/1.1 407 Denied\r\nProxy-Authenticate: NTLM\r\n"
                                  "Content-Length: 0\r\n\r\n";
    auto none = run_exchange({digest_only}, proxy_with(std::nullopt));
    REQUIRE_FALSE(*none.outcome);
    CHECK(none.outcome->err().kind == failure::auth_failed);
    CHECK(none.outcome->err().message.find("Digest") != std::string::npos);
    auto ntlm = run_exchange({ntlm_only}, proxy_with(credentials{"a", "b", "t"}));
    REQUIRE_FALSE(*ntlm.outcome);
    CHECK(ntlm.outcome->err().kind == failure::auth_failed);
    CHECK(ntlm.outcome->err().message.find("NTLM") != std::string::npos);
}

TEST_CASE("refusals and broken answers") {
    auto refused = run_exchange({"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"},
                                proxy_with(std::nullopt));
    REQUIRE_FALSE(*refused.outcome);
    CHECK(refused.outcome->err().kind == failure::proxy_refused);
    CHECK(refused.outcome->err().message ==
          "proxy proxy.test:3128 refused CONNECT to git.example:22: 403 Forbidden");

    auto cut = run_exchange({"HTTP/1.1 200 Conn"}, proxy_with(std::nullopt));
    REQUIRE_FALSE(*cut.outcome);
    CHECK(cut.outcome->err().kind == failure::bad_answer);

    auto silent = run_exchange({""}, proxy_with(std::nullopt));
    REQUIRE_FALSE(*silent.outcome);
    CHECK(silent.outcome->err().kind == failure::bad_answer);
    CHECK(silent.outcome->err().message.find("without answering") != std::string::npos);
}

TEST_CASE("Digest: a stale nonce is answered at once and is no new try") {
    auto digest_407 = [](const std::string& nonce, bool stale) {
        return "HTTP/1.1 407 Denied\r\nProxy-Authenticate: Digest realm=\"t\", nonce=\"" + nonce +
               "\", qop=\"auth\"" + (stale ? ", stale=true" : "") + "\r\nContent-Length: 0\r\n\r\n";
    };
    std::string script = digest_407("one", false) + digest_407("two", true);
    for (int i = 0; i < 10; ++i)
        script += digest_407("two", false);
    auto rr = run_exchange({script}, proxy_with(credentials{"alice", "secret", "test"}));
    REQUIRE_FALSE(*rr.outcome);
    CHECK(rr.outcome->err().kind == failure::auth_failed);
    CHECK(rr.outcome->err().message.find("Digest") != std::string::npos);
    // Three counted tries, plus the one that only refreshed the nonce.
    CHECK(count(rr.requests[0], "Proxy-Authorization: Digest username=\"alice\"") ==
          max_auth_tries + 1);
    CHECK(count(rr.requests[0], "nonce=\"two\"") == max_auth_tries);
    CHECK(count(rr.requests[0], "uri=\"git.example:22\"") == max_auth_tries + 1);
}

TEST_CASE("reading exactly, the tunnel's first bytes stay on the connection") {
    const std::string banner = "SSH-2.0-x\r\n";
    const std::string chunked_407 = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                    "Proxy-Authenticate: Basic realm=\"test\"\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n"
                                    "4\r\nnope\r\n0\r\n\r\n";
    const std::string sized_407 = "HTTP/1.1 407 Denied\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                                  "Content-Length: 4\r\n\r\nnope";
    struct shape {
        const char* name;
        std::string answers;
    };
    const std::vector<shape> shapes = {
        {"200", "HTTP/1.1 200 Connection established\r\n\r\n"},
        {"bare-LF 200 with a header", "HTTP/1.1 200 OK\nVia: 1.1 p\n\n"},
        {"100 Continue, then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"},
        {"two interim answers, then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 "
                                          "Processing\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"},
        {"407 with a chunked body, then 200", chunked_407 + "HTTP/1.1 200 OK\r\n\r\n"},
        {"407 with a Content-Length body, then 200", sized_407 + "HTTP/1.1 200 OK\r\n\r\n"},
    };
    for (const auto& s : shapes) {
        for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{1 << 20}}) {
            CAPTURE(s.name);
            CAPTURE(step);
            auto rr = run_exchange({s.answers + banner}, proxy_with(credentials{"a", "b", "t"}),
                                   step, reading::exactly);
            REQUIRE(rr.outcome);
            REQUIRE_MESSAGE(*rr.outcome, (*rr.outcome ? "" : rr.outcome->err().message));
            CHECK((*rr.outcome)->leftover.empty());
            CHECK(tunnel_data(*rr.outcome) == banner);
            CHECK(rr.requests.size() == 1);
        }
    }
}

TEST_CASE("reading exactly and as needed send the same requests") {
    const std::string answers = "HTTP/1.1 407 Denied\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                                "Content-Length: 4\r\n\r\nnopeHTTP/1.1 200 OK\r\n\r\nDATA";
    auto exact = run_exchange({answers}, proxy_with(credentials{"alice", "secret", "test"}), 2,
                              reading::exactly);
    auto needed = run_exchange({answers}, proxy_with(credentials{"alice", "secret", "test"}), 2);
    REQUIRE(*exact.outcome);
    REQUIRE(*needed.outcome);
    CHECK(exact.requests == needed.requests);
    CHECK(count(exact.requests[0], basic_alice) == 1);
    CHECK((*exact.outcome)->leftover.empty());
    CHECK(tunnel_data(*exact.outcome) == "DATA");
    CHECK(tunnel_data(*needed.outcome) == "DATA");
}

TEST_CASE("reading exactly on a connection that cannot be peeked at: a usage error") {
    auto rr = run_exchange({"HTTP/1.1 200 OK\r\n\r\nDATA"}, proxy_with(std::nullopt), 1 << 20,
                           reading::exactly_without_peek);
    REQUIRE_FALSE(*rr.outcome);
    CHECK(rr.outcome->err().kind == failure::usage);
    CHECK(rr.outcome->err().message.find("proxy.test:3128") != std::string::npos);
}
