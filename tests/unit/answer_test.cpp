#include "answer.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

namespace {

struct parsed {
    std::size_t head_length = 0;
    std::optional<error> err;
};

// Offers `wire` to the parser `step` bytes at a time, as a socket would deliver it.
parsed feed_head(answer_parser& p, std::string_view wire, std::size_t step) {
    std::string buffered;
    for (std::size_t at = 0; at < wire.size(); at += step) {
        buffered.append(wire.substr(at, step));
        auto r = p.parse_head(buffered);
        if (!r)
            return {0, r.err()};
        if (*r)
            return {*r, std::nullopt};
    }
    return {};
}

} // namespace

TEST_CASE("the head ends at the empty line, whatever the split; the rest is tunnel data") {
    const std::string head = "HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n";
    const std::string wire = head + "SSH-2.0-OpenSSH_9.2\r\n";
    for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, wire.size()}) {
        CAPTURE(step);
        answer_parser p;
        auto r = feed_head(p, wire, step);
        REQUIRE_FALSE(r.err);
        CHECK(r.head_length == head.size());
        CHECK(p.head().status == 200);
        CHECK(p.head().reason == "Connection established");
        CHECK(p.head().is_success());
        CHECK(p.head().values("via") == std::vector<std::string_view>{"1.1 squid"});
    }
}

TEST_CASE("success shapes") {
    struct shape {
        const char* name;
        std::string wire;
        unsigned status;
        int version;
    };
    const std::string long_value(6000, 'x');
    for (const auto& s : std::vector<shape>{
             {"204", "HTTP/1.1 204 No Content\r\n\r\n", 204, 11},
             {"HTTP/1.0", "HTTP/1.0 200 Connection established\r\n\r\n", 200, 10},
             {"bare LF", "HTTP/1.1 200 OK\nProxy-Agent: x\n\n", 200, 11},
             {"mixed line ends", "HTTP/1.1 200 OK\r\nA: b\n\r\n", 200, 11},
             {"empty reason", "HTTP/1.1 200 \r\n\r\n", 200, 11},
             {"no reason", "HTTP/1.0 200\r\n\r\n", 200, 10},
             {"no reason, bare LF", "HTTP/1.1 204\nVia: x\n\n", 204, 11},
             {"6 KB header", "HTTP/1.1 200 OK\r\nX-Long: " + long_value + "\r\n\r\n", 200, 11},
             {"obs-fold", "HTTP/1.1 200 OK\r\nX-Folded: one\r\n  two\r\n\r\n", 200, 11},
         }) {
        CAPTURE(s.name);
        answer_parser p;
        auto r = feed_head(p, s.wire, 3);
        REQUIRE_FALSE(r.err);
        CHECK(r.head_length == s.wire.size());
        CHECK(p.head().status == s.status);
        CHECK(p.head().version == s.version);
    }
}

TEST_CASE("Content-Length and Transfer-Encoding on a 2xx are ignored (RFC 9110 section 9.3.6)") {
    for (std::string fields :
         {"Content-Length: 1000\r\n", "Transfer-Encoding: chunked\r\n",
          "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
          "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "Content-Length: banana\r\n"}) {
        CAPTURE(fields);
        const std::string head = "HTTP/1.1 200 OK\r\n" + fields + "\r\n";
        answer_parser p;
        auto r = feed_head(p, head + "tunnel", 1);
        REQUIRE_FALSE(r.err);
        CHECK(r.head_length == head.size());
        CHECK(p.head().is_success());
    }
}

TEST_CASE("interim answers are recognised") {
    answer_parser p;
    auto r = feed_head(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 1);
    REQUIRE_FALSE(r.err);
    CHECK(r.head_length == 25);
    CHECK(p.head().is_interim());
    CHECK(p.done());
}

TEST_CASE("malformed answers") {
    for (std::string wire :
         {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "hello\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "<html>\n\n",
          "HTTP/1.1 407 X\r\nBad Header\r\n\r\n", "\r\n\r\n"}) {
        CAPTURE(wire);
        answer_parser p;
        auto r = feed_head(p, wire, 1);
        REQUIRE(r.err);
        CHECK(r.err->kind == failure::bad_answer);
    }
}

TEST_CASE("heads beyond the limit are an error, not tunnel data") {
    std::string wire = "HTTP/1.1 200 OK\r\n";
    while (wire.size() <= max_answer_head_bytes)
        wire += "X-Filler: " + std::string(1000, 'f') + "\r\n";
    answer_parser p;
    auto r = feed_head(p, wire, 4096);
    REQUIRE(r.err);
    CHECK(r.err->kind == failure::bad_answer);
    answer_parser q;
    r = feed_head(q, wire + "\r\n", wire.size() + 2);
    REQUIRE(r.err);
    CHECK(r.err->kind == failure::bad_answer);
}

TEST_CASE("a 407 body is read to its end: chunked and Content-Length") {
    struct shape {
        std::string head, body;
    };
    for (const auto& s : std::vector<shape>{
             {"HTTP/1.1 407 Proxy Authentication Required\r\nTransfer-Encoding: chunked\r\n\r\n",
              "5\r\nhello\r\n1a; ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"},
             {"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 11\r\n\r\n",
              "hello world"},
         }) {
        answer_parser p;
        auto r = feed_head(p, s.head, 5);
        REQUIRE_FALSE(r.err);
        CHECK(p.head().status == 407);
        CHECK(p.head().keep_alive);
        CHECK(p.body_is_framed());
        CHECK_FALSE(p.done());
        // Byte at a time, as the worst network would deliver it.
        std::string pending;
        std::size_t fed = 0;
        while (!p.done() && fed < s.body.size()) {
            pending += s.body[fed++];
            auto used = p.parse_body(pending);
            REQUIRE(used);
            pending.erase(0, *used);
        }
        CHECK(p.done());
        CHECK(fed == s.body.size());
        CHECK(pending.empty());
    }
}

TEST_CASE("connections that cannot carry a retry") {
    SUBCASE("Connection: close") {
        answer_parser p;
        feed_head(p, "HTTP/1.1 407 X\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 100);
        CHECK_FALSE(p.head().keep_alive);
    }
    SUBCASE("Proxy-Connection: close") {
        answer_parser p;
        feed_head(p, "HTTP/1.1 407 X\r\nProxy-Connection: Close\r\nContent-Length: 0\r\n\r\n", 100);
        CHECK_FALSE(p.head().keep_alive);
        answer_parser q;
        feed_head(q, "HTTP/1.1 407 X\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n",
                  100);
        CHECK(q.head().keep_alive);
    }
    SUBCASE("HTTP/1.0 without keep-alive") {
        answer_parser p;
        feed_head(p, "HTTP/1.0 407 X\r\nContent-Length: 0\r\n\r\n", 100);
        CHECK_FALSE(p.head().keep_alive);
    }
    SUBCASE("a body that ends when the connection does") {
        answer_parser p;
        feed_head(p, "HTTP/1.1 407 X\r\n\r\n", 100);
        CHECK_FALSE(p.body_is_framed());
    }
}

TEST_CASE("status lines for messages") {
    answer_parser p;
    feed_head(p, "HTTP/1.1 403 Forbidden\r\n\r\n", 100);
    CHECK(p.head().status_line() == "403 Forbidden");
    answer_parser q;
    feed_head(q, "HTTP/1.1 502 \r\n\r\n", 100);
    CHECK(q.head().status_line() == "502");
}
