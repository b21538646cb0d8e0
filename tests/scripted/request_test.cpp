// The CONNECT request the program sends, and the arguments it must refuse before connecting.
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace corkscrew_test;

namespace {

const script success{{{std::string(established) + std::string(banner)}}, then_do::sink};

// Run against a succeeding proxy and return the single request it received.
request_head request_from(scripted_proxy& proxy, const spawn_options& options) {
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto requests = proxy.all_requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].ends_with("\r\n\r\n"));
    return parse_request_head(requests[0]);
}

// Usage errors: exit 2, an error line, nothing on stdout, and no connection to the proxy.
run_result check_usage_error(scripted_proxy& proxy, const spawn_options& options) {
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::usage);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("corkscrew++: "));
    CHECK(proxy.connection_count() == 0);
    return r;
}

} // namespace

TEST_SUITE_BEGIN("request" * doctest::timeout(60));

TEST_CASE("request line, Host, User-Agent and CRLF line ends") {
    scripted_proxy proxy(success);
    const auto head = request_from(proxy, corkscrew_form(proxy));
    CHECK(head.request_line == "CONNECT target.example:22 HTTP/1.1");
    CHECK(head.value("Host") == "target.example:22");
    const auto agent = head.value("User-Agent");
    REQUIRE(agent.has_value());
    CHECK(agent->starts_with("corkscrew++/"));
    CHECK(head.crlf_only);
    CHECK(head.values("Proxy-Authorization").empty());
}

TEST_CASE("the modern form sends the same request") {
    scripted_proxy proxy(success);
    const auto head = request_from(proxy, modern_form(proxy_url(proxy), {}, "git.example", "443"));
    CHECK(head.request_line == "CONNECT git.example:443 HTTP/1.1");
    CHECK(head.value("Host") == "git.example:443");
    CHECK(head.crlf_only);
}

TEST_CASE("an IPv6 destination is bracketed") {
    scripted_proxy proxy(success);
    const auto head = request_from(proxy, modern_form(proxy_url(proxy), {}, "::1", "22"));
    CHECK(head.request_line == "CONNECT [::1]:22 HTTP/1.1");
    CHECK(head.value("Host") == "[::1]:22");
}

TEST_CASE("-H adds headers, in order") {
    scripted_proxy proxy(success);
    const auto head = request_from(
        proxy, modern_form(proxy_url(proxy), {"-H", "X-Extra: yes", "-H", "X-Second: two"}));
    CHECK(head.value("X-Extra") == "yes");
    CHECK(head.value("X-Second") == "two");
    CHECK(head.crlf_only);
}

TEST_CASE("-A sets the User-Agent") {
    scripted_proxy proxy(success);
    const auto head =
        request_from(proxy, modern_form(proxy_url(proxy), {"-A", "scripted-agent/1.0"}));
    CHECK(head.value("User-Agent") == "scripted-agent/1.0");
}

TEST_CASE("bad destinations and headers: exit 2 and no connection to the proxy") {
    scripted_proxy proxy(success);
    const std::string url = proxy_url(proxy);
    spawn_options options;
    SUBCASE("CR LF in the host (modern form)") {
        options = modern_form(url, {}, "evil\r\nX: 1", "22");
    }
    SUBCASE("bare LF in the host (modern form)") {
        options = modern_form(url, {}, "evil\nX: 1", "22");
    }
    SUBCASE("CR LF in the host (corkscrew form)") {
        options = corkscrew_form(proxy);
        options.args[2] = "evil\r\nX: 1";
    }
    SUBCASE("port 0") {
        options = modern_form(url, {}, "target.example", "0");
    }
    SUBCASE("port 70000") {
        options = modern_form(url, {}, "target.example", "70000");
    }
    SUBCASE("port 0 (corkscrew form)") {
        options = corkscrew_form(proxy);
        options.args[3] = "0";
    }
    SUBCASE("CR LF in an -H header") {
        options = modern_form(url, {"-H", "X-A: a\r\nX-B: b"});
    }
    SUBCASE("a proxy URL with an unsupported scheme") {
        options = modern_form("ftp://" + proxy.host_port());
    }
    SUBCASE("a proxy port outside 1-65535") {
        options = modern_form("http://127.0.0.1:70000");
    }
    SUBCASE("an unknown option") {
        options = modern_form(url, {"--no-such-option"});
    }
    SUBCASE("an auth file that cannot be read") {
        options = modern_form(url, {"--auth-file", (std::filesystem::temp_directory_path() /
                                                    "corkscrew-test-missing/auth")});
    }
    CAPTURE(options.args);
    check_usage_error(proxy, options);
}

TEST_CASE("-H with a header the program writes itself or that would frame a body: exit 2") {
    scripted_proxy proxy(success);
    std::string header;
    SUBCASE("Host") {
        header = "Host: x";
    }
    SUBCASE("host (lower case)") {
        header = "host: x";
    }
    SUBCASE("Content-Length") {
        header = "Content-Length: 5";
    }
    SUBCASE("Transfer-Encoding") {
        header = "Transfer-Encoding: chunked";
    }
    CAPTURE(header);
    check_usage_error(proxy, modern_form(proxy_url(proxy), {"-H", header}));
}

TEST_CASE("proxy URL with an unbracketed IPv6 address or an empty port: exit 2") {
    SUBCASE("http://::1:PORT") {
        // Listening there, so that a misreading that connects is seen.
        scripted_proxy proxy(success, loopback::v6);
        check_usage_error(proxy, modern_form("http://::1:" + std::to_string(proxy.port())));
    }
    SUBCASE("http://127.0.0.1: (empty port)") {
        scripted_proxy proxy(success);
        check_usage_error(proxy, modern_form("http://127.0.0.1:"));
    }
}

TEST_CASE("a bad proxy URL whose password holds '/': exit 2, the password never shown") {
    scripted_proxy proxy(success);
    const std::string port = std::to_string(proxy.port());
    std::string url;
    SUBCASE("unclosed '[' after the userinfo") {
        url = "http://alice:s3cr/et@[::1:" + port;
    }
    SUBCASE("unbracketed IPv6 after the userinfo") {
        url = "http://alice:s3cr/et@::1:" + port;
    }
    SUBCASE("empty port") {
        url = "http://alice:s3cr/et@127.0.0.1:";
    }
    SUBCASE("port outside 1-65535") {
        url = "http://alice:s3cr/et@127.0.0.1:70000";
    }
    SUBCASE("a path after the port") {
        url = "http://alice:s3cr/et@127.0.0.1:" + port + "/path";
    }
    CAPTURE(url);
    const auto r = check_usage_error(proxy, modern_form(url));
    INFO(context(r));
    CHECK(r.err.find("s3cr/et") == std::string::npos);
    // Not even the part before the '/'.
    CHECK(r.err.find("s3cr") == std::string::npos);
}

TEST_SUITE_END();
