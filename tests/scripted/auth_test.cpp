// Proxy authentication: 407 challenges, retries on the same or a new connection, preemptive
// Basic with the corkscrew AUTHFILE, and never leaking the password (stderr, process list).
#include "harness.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

std::string basic(std::string_view user, std::string_view password) {
    return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

// One chunk of a chunked body, size in upper-case hex, with an optional extension.
std::string chunk(std::string_view data, std::string_view extension = "") {
    char size[32];
    std::snprintf(size, sizeof size, "%zX", data.size());
    return size + std::string(extension) + "\r\n" + std::string(data) + "\r\n";
}

const std::string challenge_head = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                   "Proxy-Authenticate: Basic realm=\"scripted\"\r\n";

std::vector<segment> chunked_keep_alive_407() {
    return {{challenge_head +
             "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
             "Content-Type: text/html\r\n\r\n" +
             chunk("<html>auth required</html>") + chunk("hello", ";note=x") + "0\r\n\r\n"}};
}

std::vector<segment> length_keep_alive_407() {
    const std::string body(2000, 'x');
    // The body comes in its own segment: the program must wait for it, not guess.
    return {{challenge_head + "Connection: keep-alive\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n"},
            {body, segment_gap}};
}

std::vector<segment> closing_407() {
    return {{challenge_head + "Connection: close\r\nContent-Length: 12\r\n\r\ngo away now!"}};
}

std::vector<segment> until_close_407() {
    return {{"HTTP/1.0 407 Proxy Authentication Required\r\n"
             "Proxy-Authenticate: Basic realm=\"scripted\"\r\n\r\n"
             "<html>no length, the body ends at the close</html>"}};
}

struct auth_proxy_shape {
    std::vector<segment> challenge;
    bool close_after_challenge = false;
};

// A proxy that answers `challenge` until a request carries Proxy-Authorization `accepted`,
// then 200 + banner.
connection_handler basic_auth_proxy(std::string accepted, auth_proxy_shape shape) {
    return [accepted = std::move(accepted), shape = std::move(shape)](proxy_connection& c) {
        while (const auto head = c.read_request()) {
            if (parse_request_head(*head).value("Proxy-Authorization") == accepted) {
                c.play({{{std::string(established) + std::string(banner)}}, then_do::sink});
                return;
            }
            c.send_segments(shape.challenge);
            if (shape.close_after_challenge) {
                return;
            }
        }
    };
}

std::size_t count_with_credentials(const std::vector<std::string>& requests) {
    std::size_t n = 0;
    for (const auto& r : requests) {
        n += parse_request_head(r).values("Proxy-Authorization").empty() ? 0 : 1;
    }
    return n;
}

// First request without credentials, second with exactly `expected`.
void check_challenge_then_credentials(const std::vector<std::string>& requests,
                                      const std::string& expected) {
    REQUIRE(requests.size() == 2);
    CHECK(parse_request_head(requests[0]).values("Proxy-Authorization").empty());
    CHECK(parse_request_head(requests[1]).value("Proxy-Authorization") == expected);
    CHECK(parse_request_head(requests[1]).crlf_only);
}

// The command line as the process list shows it, arguments separated by spaces.
std::string command_line_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (auto& c : text) {
        c = c == '\0' ? ' ' : c;
    }
    return text;
}

const script success{{{std::string(established) + std::string(banner)}}, then_do::sink};

} // namespace

TEST_SUITE_BEGIN("auth" * doctest::timeout(60));

TEST_CASE("407 chunked keep-alive, then 200 on the same connection") {
    scripted_proxy proxy(basic_auth_proxy(basic("user", "pass"), {chunked_keep_alive_407()}));
    const auto r = run_until_delivered(modern_form(proxy_url(proxy, "user:pass")), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.connection_count() == 1);
    check_challenge_then_credentials(proxy.all_requests(), "Basic dXNlcjpwYXNz");
}

TEST_CASE("407 with a Content-Length body kept alive, then 200 on the same connection") {
    scripted_proxy proxy(basic_auth_proxy(basic("user", "pass"), {length_keep_alive_407()}));
    const auto r = run_until_delivered(modern_form(proxy_url(proxy, "user:pass")), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.connection_count() == 1);
    check_challenge_then_credentials(proxy.all_requests(), basic("user", "pass"));
}

TEST_CASE("407 that closes the connection, then 200 on a new connection") {
    auth_proxy_shape shape;
    SUBCASE("Connection: close with a Content-Length body") {
        shape = {closing_407(), true};
    }
    SUBCASE("HTTP/1.0 with a body that ends at the close") {
        shape = {until_close_407(), true};
    }
    SUBCASE("Proxy-Connection: close, though the connection stays open") {
        // The proxy would answer a retry on the first connection; the header says it will not,
        // and the program must believe the header.
        shape = {{{challenge_head + "Proxy-Connection: close\r\nContent-Length: 2\r\n\r\nno"}},
                 false};
    }
    scripted_proxy proxy(basic_auth_proxy(basic("user", "pass"), shape));
    const auto r = run_until_delivered(modern_form(proxy_url(proxy, "user:pass")), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.connection_count() == 2);
    const auto records = proxy.records();
    REQUIRE(records.size() == 2);
    CHECK(records[0].requests.size() == 1);
    CHECK(records[1].requests.size() == 1);
    check_challenge_then_credentials(proxy.all_requests(), basic("user", "pass"));
}

TEST_CASE("Basic is found among several challenges") {
    std::string challenges;
    SUBCASE("in separate Proxy-Authenticate fields") {
        challenges = "Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\n"
                     "Proxy-Authenticate: Basic realm=\"scripted\"\r\n";
    }
    SUBCASE("in one Proxy-Authenticate field") {
        challenges = "Proxy-Authenticate: Negotiate, NTLM, Basic realm=\"scripted\"\r\n";
    }
    CAPTURE(challenges);
    scripted_proxy proxy(basic_auth_proxy(basic("user", "pass"),
                                          {{{"HTTP/1.1 407 Proxy Authentication Required\r\n" +
                                             challenges + "Content-Length: 0\r\n\r\n"}}}));
    const auto r = run_until_delivered(modern_form(proxy_url(proxy, "user:pass")), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    check_challenge_then_credentials(proxy.all_requests(), basic("user", "pass"));
}

TEST_CASE("kept-alive 407, then the proxy closes instead of answering: retry on a new "
          "connection") {
    bool read_retry = true;
    SUBCASE("the proxy reads the retry, then closes") {}
    SUBCASE("the proxy closes right after the 407") {
        read_retry = false;
    }
    CAPTURE(read_retry);
    const std::string accepted = basic("user", "pass");
    scripted_proxy proxy([&](proxy_connection& c) {
        const auto head = c.read_request();
        if (!head) {
            return;
        }
        if (c.index() == 0) {
            // HTTP/1.1 without Connection: close, an empty body: the connection looks reusable.
            c.send("HTTP/1.1 407 Proxy Authentication Required\r\n"
                   "Proxy-Authenticate: Basic realm=\"scripted\"\r\nContent-Length: 0\r\n\r\n");
            if (read_retry) {
                c.read_request();
            }
            return;
        }
        if (parse_request_head(*head).value("Proxy-Authorization") == accepted) {
            c.play(success);
        }
    });
    const auto r = run_until_delivered(modern_form(proxy_url(proxy, "user:pass")), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto records = proxy.records();
    REQUIRE(records.size() == 2);
    REQUIRE_FALSE(records[0].requests.empty());
    CHECK(parse_request_head(records[0].requests[0]).values("Proxy-Authorization").empty());
    REQUIRE(records[1].requests.size() == 1);
    CHECK(parse_request_head(records[1].requests[0]).value("Proxy-Authorization") == accepted);
}

TEST_CASE("-vv with Proxy-Authorization given by -H: its value never shown, still sent") {
    const std::string token = "YWxpY2U6czNjcmV0"; // alice:s3cret
    std::string name;
    SUBCASE("Proxy-Authorization") {
        name = "Proxy-Authorization";
    }
    SUBCASE("proxy-authorization (lower case)") {
        name = "proxy-authorization";
    }
    CAPTURE(name);
    scripted_proxy proxy(success);
    const auto r = run_until_delivered(
        modern_form(proxy_url(proxy), {"-vv", "-H", name + ": Basic " + token}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK_FALSE(r.err.empty());
    CHECK(r.err.find(token) == std::string::npos);
    CHECK(r.err.find("s3cret") == std::string::npos);
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 1);
    CHECK(parse_request_head(requests[0]).value("Proxy-Authorization") == "Basic " + token);
}

TEST_CASE("the proxy URL's password is gone from the process list once the request is out") {
    const std::string password = "s3cret";
    scripted_proxy proxy(success);
    std::string url;
    SUBCASE("http:// URL") {
        url = proxy_url(proxy, "alice:" + password);
    }
    SUBCASE("URL without a scheme") {
        url = "alice:" + password + "@" + proxy.host_port();
    }
    CAPTURE(url);
    child_process child(modern_form(url));
    REQUIRE(child.pump_until([&] { return !proxy.all_requests().empty(); }, 10s));
    const std::string shown = command_line_of(child.pid());
    CAPTURE(shown);
    CHECK_FALSE(shown.empty());
    CHECK(shown.find(password) == std::string::npos);
    child.close_stdin();
    const auto& status = child.wait(run_limit);
    INFO(context(child));
    CHECK(status.code == exit_code::ok);
    CHECK(child.err().find(password) == std::string::npos);
}

TEST_CASE("a password holding an unencoded '/' is read up to the last '@', and never shows") {
    const std::string password = "s3cr/et";
    scripted_proxy proxy(basic_auth_proxy(basic("alice", password), {chunked_keep_alive_407()}));
    child_process child(modern_form(proxy_url(proxy, "alice:" + password)));
    REQUIRE(child.pump_until([&] { return !child.running() || proxy.all_requests().size() >= 2; },
                             10s));
    REQUIRE(child.running());
    const std::string shown = command_line_of(child.pid());
    CAPTURE(shown);
    CHECK(shown.find("s3cr") == std::string::npos);
    child.close_stdin();
    child.wait(run_limit);
    INFO(context(child));
    CHECK(child.status()->code == exit_code::ok);
    CHECK(child.err().find("s3cr") == std::string::npos);
    check_challenge_then_credentials(proxy.all_requests(), basic("alice", password));
}

TEST_CASE("-q: no warning on stderr, even with a password in the URL") {
    scripted_proxy proxy(basic_auth_proxy(basic("user", "pass"), {chunked_keep_alive_407()}));
    const auto r =
        run_until_delivered(modern_form(proxy_url(proxy, "user:pass"), {"-q"}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(r.err.empty());
}

TEST_CASE("credentials from --auth-file and CORKSCREW_AUTH are sent after a 407") {
    // The password holds ':' and a space; only the first ':' separates the user.
    const std::string password = "pa ss:word";
    scripted_proxy proxy(basic_auth_proxy(basic("user", password), {chunked_keep_alive_407()}));
    const temp_file auth_file("user:" + password + "\n");
    spawn_options options;
    SUBCASE("--auth-file") {
        options = modern_form(proxy_url(proxy), {"--auth-file", auth_file.path()});
    }
    SUBCASE("CORKSCREW_AUTH") {
        options = modern_form(proxy_url(proxy));
        options.env.emplace_back("CORKSCREW_AUTH", "user:" + password);
    }
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    check_challenge_then_credentials(proxy.all_requests(), basic("user", password));
}

TEST_CASE("corkscrew form with AUTHFILE: the first request already carries credentials") {
    const std::string password = "pa ss:word";
    scripted_proxy proxy(basic_auth_proxy(basic("user", password), {chunked_keep_alive_407()}));
    const temp_file auth_file("user:" + password + "\n");
    const auto r = run_until_delivered(corkscrew_form(proxy, {auth_file.path()}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 1);
    CHECK(parse_request_head(requests[0]).value("Proxy-Authorization") == basic("user", password));
}

TEST_CASE("wrong password: exit 5 after 3 requests with credentials, password never shown") {
    const std::string password = "s3cr3t-Pa55";
    scripted_proxy proxy(basic_auth_proxy("never accepted", {length_keep_alive_407()}));
    const auto r = run(modern_form(proxy_url(proxy, "user:" + password), {"-vv"}), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    const auto requests = proxy.all_requests();
    CHECK(count_with_credentials(requests) == 3);
    CHECK(requests.size() - count_with_credentials(requests) <= 1);
    for (const auto& request : requests) {
        const auto values = parse_request_head(request).values("Proxy-Authorization");
        CHECK((values.empty() || values == std::vector{basic("user", password)}));
    }
    CHECK(r.err.find(password) == std::string::npos);
    CHECK(r.err.find(base64_encode("user:" + password)) == std::string::npos);
    // The last line is the error, and it names the proxy.
    const std::string trimmed = r.err.substr(0, r.err.find_last_not_of('\n') + 1);
    const std::string last_line = trimmed.substr(trimmed.rfind('\n') + 1);
    CHECK(last_line.starts_with("corkscrew++: "));
    CHECK(mentions_all(last_line, {proxy.host_port()}));
}

TEST_CASE("-vv through a 407 and a 200: every line prefixed, credentials redacted") {
    const std::string password = "s3cr3t-Pa55";
    scripted_proxy proxy(basic_auth_proxy(basic("user", password), {chunked_keep_alive_407()}));
    const temp_file auth_file("user:" + password + "\n");
    const auto r = run_until_delivered(
        modern_form(proxy_url(proxy), {"-vv", "--auth-file", auth_file.path()}), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(proxy.all_requests().size() == 2);
    CHECK_FALSE(r.err.empty());
    CHECK(r.err.find(password) == std::string::npos);
    CHECK(r.err.find(base64_encode("user:" + password)) == std::string::npos);
    std::size_t start = 0;
    while (start < r.err.size()) {
        const auto end = r.err.find('\n', start);
        const std::string line = r.err.substr(start, end - start);
        CAPTURE(line);
        CHECK(line.starts_with("corkscrew++: "));
        start = end == std::string::npos ? r.err.size() : end + 1;
    }
}

TEST_CASE("407 without credentials: exit 5 after a single request") {
    scripted_proxy proxy(basic_auth_proxy("never accepted", {length_keep_alive_407()}));
    const auto r = run(modern_form(proxy_url(proxy)), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    CHECK(proxy.all_requests().size() == 1);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest)}));
}

TEST_SUITE_END();
