// How the program reads the proxy's answer to CONNECT (PEERS.md section C).
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

std::string with_banner(std::string_view answer) {
    return std::string(answer) + std::string(banner);
}

// The answer (with the banner behind it) must leave exactly the banner on stdout.
void check_banner_delivered(const script& s) {
    scripted_proxy proxy(s);
    const auto r = run_until_delivered(corkscrew_form(proxy), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.connection_count() == 1);
}

// The answer must end the program with `code`, nothing on stdout, one error line.
run_result check_failure(const script& s, int code, std::vector<std::string> mentions = {}) {
    scripted_proxy proxy(s);
    const auto r = run(corkscrew_form(proxy), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == code);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    mentions.push_back(proxy.host_port());
    mentions.push_back(std::string(dest));
    CHECK(mentions_all(r.err, mentions));
    return r;
}

std::string header_block(std::size_t total) {
    std::string out;
    for (int i = 0; out.size() < total; ++i) {
        out += "X-Fill-" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
    }
    return out;
}

} // namespace

TEST_SUITE_BEGIN("answer" * doctest::timeout(60));

TEST_CASE("answer and banner in one segment: banner once on stdout, nothing else") {
    scripted_proxy proxy(script{{{with_banner(established)}}, then_do::sink});
    const auto r = run_until_delivered(corkscrew_form(proxy), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(r.err.empty());
    CHECK(proxy.connection_count() == 1);
}

TEST_CASE("answer dribbled one byte per segment, split inside the status line") {
    auto segments = dribble(established);
    segments.push_back({std::string(banner), segment_gap});
    check_banner_delivered({segments, then_do::sink});
}

TEST_CASE("answer in two segments split after 'HTTP/1.1 2'") {
    check_banner_delivered({{{"HTTP/1.1 2"},
                             {"00 Connection established\r\nVia: 1.1 p\r\n\r\n", segment_gap},
                             {std::string(banner), segment_gap}},
                            then_do::sink});
}

TEST_CASE("204 No Content is success") {
    check_banner_delivered({{{with_banner("HTTP/1.1 204 No Content\r\n\r\n")}}, then_do::sink});
}

TEST_CASE("HTTP/1.0 200 is success") {
    check_banner_delivered(
        {{{with_banner("HTTP/1.0 200 Connection established\r\n\r\n")}}, then_do::sink});
}

TEST_CASE("a status line without a reason phrase") {
    SUBCASE("HTTP/1.0 200: success") {
        check_banner_delivered({{{with_banner("HTTP/1.0 200\r\n\r\n")}}, then_do::sink});
    }
    SUBCASE("HTTP/1.1 200 with the space but no phrase: success") {
        check_banner_delivered({{{with_banner("HTTP/1.1 200 \r\n\r\n")}}, then_do::sink});
    }
    SUBCASE("HTTP/1.1 403: exit 4") {
        check_failure({{{"HTTP/1.1 403\r\n\r\n"}}, then_do::half_close}, exit_code::refused,
                      {"403"});
    }
}

TEST_CASE("a 6000-byte header line: success, no header byte leaks to stdout") {
    const std::string answer =
        "HTTP/1.1 200 Connection established\r\nX-Long: " + std::string(6000, 'a') + "\r\n\r\n";
    check_banner_delivered({{{with_banner(answer)}}, then_do::sink});
}

TEST_CASE("1 MB of headers: exit 6, nothing on stdout") {
    const std::string answer = "HTTP/1.1 200 Connection established\r\n" +
                               header_block(1024 * 1024) + "\r\n" + std::string(banner);
    check_failure({{{answer}}, then_do::sink}, exit_code::bad_answer);
}

TEST_CASE("bare-LF answer is success") {
    SUBCASE("status line only") {
        check_banner_delivered({{{with_banner("HTTP/1.1 200 OK\n\n")}}, then_do::sink});
    }
    SUBCASE("with a header") {
        check_banner_delivered({{{with_banner("HTTP/1.1 200 OK\nVia: 1.1 p\n\n")}}, then_do::sink});
    }
}

TEST_CASE("100 Continue then 200: success, data intact") {
    SUBCASE("in one segment") {
        check_banner_delivered(
            {{{with_banner("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")}},
             then_do::sink});
    }
    SUBCASE("in separate segments") {
        check_banner_delivered({{{"HTTP/1.1 100 Continue\r\n\r\n"},
                                 {with_banner("HTTP/1.1 200 OK\r\n\r\n"), segment_gap}},
                                then_do::sink});
    }
}

TEST_CASE("Content-Length / Transfer-Encoding on a 200 are ignored: no waiting for a body") {
    std::string headers;
    SUBCASE("Content-Length: 1000") {
        headers = "Content-Length: 1000\r\n";
    }
    SUBCASE("Transfer-Encoding: chunked") {
        headers = "Transfer-Encoding: chunked\r\n";
    }
    SUBCASE("both") {
        headers = "Content-Length: 1000\r\nTransfer-Encoding: chunked\r\n";
    }
    CAPTURE(headers);
    check_banner_delivered(
        {{{with_banner("HTTP/1.1 200 Connection established\r\n" + headers + "\r\n")}},
         then_do::sink});
}

TEST_CASE("obs-fold continuation lines in a header of the 200") {
    check_banner_delivered({{{with_banner("HTTP/1.1 200 Connection established\r\n"
                                          "Via: 1.1 first-proxy,\r\n"
                                          "  1.1 second-proxy\r\n"
                                          "X-Note: a\r\n"
                                          "\tb\r\n"
                                          "\r\n")}},
                            then_do::sink});
}

TEST_CASE("extra proxy headers on the 200") {
    check_banner_delivered({{{with_banner("HTTP/1.1 200 Connection established\r\n"
                                          "Proxy-agent: scripted/1.0\r\n"
                                          "Via: 1.1 scripted\r\n"
                                          "X-Squid-Error: none\r\n"
                                          "Connection: close\r\n"
                                          "\r\n")}},
                            then_do::sink});
}

TEST_CASE("403 Forbidden: exit 4, one line naming proxy, destination and 403") {
    check_failure({{{"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 9\r\n\r\nforbidden"}},
                   then_do::half_close},
                  exit_code::refused, {"403"});
}

TEST_CASE("502 Bad Gateway: exit 4") {
    check_failure(
        {{{"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"}}, then_do::half_close},
        exit_code::refused, {"502"});
}

TEST_CASE("other non-2xx answers are refusals: exit 4") {
    std::string answer;
    SUBCASE("401 without Proxy-Authenticate") {
        answer = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    }
    SUBCASE("404 Not Found") {
        answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
    SUBCASE("503 with a body and no length") {
        answer = "HTTP/1.0 503 Service Unavailable\r\n\r\n<html>down</html>";
    }
    CAPTURE(answer);
    check_failure({{{answer}}, then_do::half_close}, exit_code::refused, {answer.substr(9, 3)});
}

TEST_CASE("a redirect is a refusal, never followed") {
    scripted_proxy proxy(script{{{"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
                                  "Content-Length: 0\r\n\r\n"}},
                                then_do::half_close});
    const auto r = run(corkscrew_form(proxy), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::refused);
    CHECK(r.out.empty());
    CHECK(proxy.connection_count() == 1);
    CHECK(mentions_all(r.err, {"302"}));
}

TEST_CASE("a proxy on the IPv6 loopback, given as [::1] in the URL") {
    scripted_proxy proxy(script{{{with_banner(established)}}, then_do::sink}, loopback::v6);
    const auto r = run_until_delivered(modern_form(proxy_url(proxy)), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.all_requests().size() == 1);
}

TEST_CASE("an answer that is not HTTP: exit 6") {
    std::string answer;
    SUBCASE("an SSH banner") {
        answer = "SSH-2.0-x\r\n\r\n";
    }
    SUBCASE("a greeting") {
        answer = "hello\r\n\r\n";
    }
    SUBCASE("HTML") {
        answer = "<html><body>blocked</body></html>\r\n\r\n";
    }
    CAPTURE(answer);
    check_failure({{{answer}}, then_do::half_close}, exit_code::bad_answer);
}

TEST_CASE("EOF before the end of the header: exit 6") {
    std::string answer;
    SUBCASE("after a header line") {
        answer = "HTTP/1.1 200 Connection established\r\nVia: 1.1 p\r\n";
    }
    SUBCASE("inside the status line") {
        answer = "HTTP/1.1 20";
    }
    SUBCASE("no answer at all") {
        answer = "";
    }
    CAPTURE(answer);
    check_failure({{{answer}}, then_do::half_close}, exit_code::bad_answer);
}

TEST_CASE("nothing listening at the proxy's port: exit 3") {
    const refusing_port port;
    spawn_options o;
    o.program = program();
    o.args = {"127.0.0.1", std::to_string(port.port()), std::string(dest_host),
              std::string(dest_port)};
    const auto r = run(o, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::proxy_unreachable);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {"127.0.0.1:" + std::to_string(port.port()), std::string(dest)}));
}

TEST_SUITE_END();
