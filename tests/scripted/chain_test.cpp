// Chains of proxies, played by one scripted proxy that answers each hop's CONNECT in turn on the
// same connection: the hops' requests in order, what each one gets, and the bytes of one hop's
// answer that arrive with the previous hop's.
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace corkscrew_test;

namespace {

// Answers every CONNECT on the connection with `answers[i]` (segments), then the destination's
// banner after the last, and sinks what follows.
connection_handler chain_of(std::vector<std::vector<segment>> answers) {
    return [answers = std::move(answers)](proxy_connection& c) {
        for (const auto& answer : answers) {
            if (!c.read_request())
                return;
            c.send_segments(answer);
        }
        c.sink();
    };
}

// The scripted proxy as the nearest hop, then `far` (URLs), then the destination.
spawn_options chain_form(const scripted_proxy& proxy, const std::string& userinfo,
                         const std::vector<std::string>& far, std::vector<std::string> options) {
    spawn_options o;
    o.program = program();
    o.args = std::move(options);
    o.args.insert(o.args.end(), {"-x", proxy_url(proxy, userinfo)});
    for (const auto& url : far)
        o.args.insert(o.args.end(), {"-x", url});
    o.args.insert(o.args.end(), {std::string(dest_host), std::string(dest_port)});
    return o;
}

} // namespace

TEST_SUITE_BEGIN("chain" * doctest::timeout(60));

TEST_CASE("three hops: CONNECT to the next hop through each tunnel, the destination last") {
    scripted_proxy proxy(chain_of({{{std::string(established)}},
                                   {{std::string(established)}},
                                   {{std::string(established) + std::string(banner)}}}));
    auto options =
        chain_form(proxy, "", {"http://mid.example:8080", "http://carol:pw@far.example:3128"},
                   {"-q", "-H", "X-Token: nearest-only"});
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 3);
    const auto first = parse_request_head(requests[0]);
    const auto second = parse_request_head(requests[1]);
    const auto third = parse_request_head(requests[2]);
    CHECK(first.request_line == "CONNECT mid.example:8080 HTTP/1.1");
    CHECK(second.request_line == "CONNECT far.example:3128 HTTP/1.1");
    CHECK(third.request_line == "CONNECT target.example:22 HTTP/1.1");
    // -H is for the nearest proxy alone.
    CHECK(first.value("X-Token") == "nearest-only");
    CHECK_FALSE(second.value("X-Token").has_value());
    CHECK_FALSE(third.value("X-Token").has_value());
    // Preemptive credentials are not sent: nobody asked yet.
    for (const auto& head : {first, second, third})
        CHECK(head.values("Proxy-Authorization").empty());
}

TEST_CASE("the next hop's answer in the same segment as the previous 2xx is not lost") {
    // The nearest proxy's 200, the second hop's 200 and the banner all in one write, sent as
    // soon as the first request is in: the second hop's answer is read from what came with the
    // first.
    connection_handler eager = [](proxy_connection& c) {
        if (!c.read_request())
            return;
        c.send(std::string(established) + std::string(established) + std::string(banner));
        c.read_request();
        c.sink();
    };
    scripted_proxy proxy(eager);
    const auto r =
        run_until_delivered(chain_form(proxy, "", {"http://far.example:3128"}, {}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.all_requests().size() == 2);
}

TEST_CASE("a 407 from the second hop is answered to the second hop, with its credentials") {
    const std::string challenge = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                  "Proxy-Authenticate: Basic realm=\"far\"\r\n"
                                  "Content-Length: 0\r\n\r\n";
    scripted_proxy proxy(chain_of({{{std::string(established)}},
                                   {{challenge}},
                                   {{std::string(established) + std::string(banner)}}}));
    const auto r = run_until_delivered(
        chain_form(proxy, "alice:near-pw@", {"http://bob:far-pw@far.example:3128"}, {"-q"}),
        banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 3);
    // CONNECT far, CONNECT target (407), and the retry with bob's credentials in the same
    // tunnel, which the second hop kept open.
    const auto retry = parse_request_head(requests[2]);
    CHECK(retry.request_line == "CONNECT target.example:22 HTTP/1.1");
    CHECK(retry.values("Proxy-Authorization") ==
          std::vector<std::string>{"Basic Ym9iOmZhci1wdw=="}); // bob:far-pw
    for (const auto& text : requests)
        CHECK(text.find("YWxpY2U6bmVhci1wdw==") == std::string::npos); // alice:near-pw
}

TEST_CASE("a failure names the hop") {
    scripted_proxy proxy(chain_of(
        {{{std::string(established)}}, {{"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}}}));
    const auto r = run(chain_form(proxy, "", {"http://far.example:3128"}, {}), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::refused);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {"hop 2 of 2", "far.example:3128", "target.example:22", "403"}));
}

TEST_SUITE_END();
