// The test tools themselves, checked without the program: golden base64 vectors, request-head
// parsing, and the scripted proxy driven by a plain socket.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace corkscrew_test;

namespace {

int connect_to(const scripted_proxy& proxy) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(proxy.port());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

std::string read_to_eof(int fd) {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

} // namespace

TEST_SUITE_BEGIN("support");

TEST_CASE("base64 matches RFC 4648 test vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode("user:pass") == "dXNlcjpwYXNz");
    CHECK(base64_encode(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("random_bytes is reproducible and holds zero bytes") {
    const auto a = random_bytes(1000, 42);
    CHECK(a == random_bytes(1000, 42));
    CHECK(a != random_bytes(1000, 43));
    CHECK(a[0] == '\0');
    CHECK(byte_diff(a, a) == "");
    CHECK(byte_diff("abc", "abd") == "got 3 bytes, want 3; first difference at offset 2");
}

TEST_CASE("request heads are parsed and their line ends checked") {
    const auto head = parse_request_head("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nX-A:  v \r\n"
                                         "x-a: w\r\n\r\n");
    CHECK(head.request_line == "CONNECT h:1 HTTP/1.1");
    CHECK(head.value("host") == "h:1");
    CHECK(head.values("X-A") == std::vector<std::string>{"v", "w"});
    CHECK_FALSE(head.value("X-A").has_value());
    CHECK(head.crlf_only);
    CHECK_FALSE(parse_request_head("CONNECT h:1 HTTP/1.1\nHost: h:1\r\n\r\n").crlf_only);
}

TEST_CASE("the scripted proxy records the request and plays its script") {
    scripted_proxy proxy(
        script{{{"HTTP/1.1 200 OK\r\n\r\n"}, {"data", segment_gap}}, then_do::half_close});
    CHECK(proxy.connection_count() == 0);
    const int fd = connect_to(proxy);
    const std::string request = "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n";
    REQUIRE(::write(fd, request.data(), request.size()) == ssize_t(request.size()));
    REQUIRE(::write(fd, "up", 2) == 2);
    CHECK(read_to_eof(fd) == "HTTP/1.1 200 OK\r\n\r\ndata");
    ::shutdown(fd, SHUT_WR);
    CHECK(proxy.wait_handlers());
    ::close(fd);
    CHECK(proxy.connection_count() == 1);
    const auto records = proxy.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].requests == std::vector<std::string>{request});
    CHECK(records[0].received == "up");
    CHECK(records[0].saw_eof);
    CHECK(records[0].error.empty());
}

TEST_CASE("the scripted proxy reads up to a delimiter and records those bytes") {
    scripted_proxy proxy([](proxy_connection& c) {
        if (c.read_request()) {
            c.send(c.read_until("\n"));
        }
    });
    const int fd = connect_to(proxy);
    const std::string sent = "CONNECT a:1 HTTP/1.1\r\n\r\nline one\nrest";
    REQUIRE(::write(fd, sent.data(), sent.size()) == ssize_t(sent.size()));
    CHECK(read_to_eof(fd) == "line one\n");
    CHECK(proxy.wait_handlers());
    ::close(fd);
    const auto records = proxy.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].received == "line one\n");
    CHECK(records[0].error.empty());
}

TEST_CASE("a connection still in the backlog is counted") {
    scripted_proxy proxy(script{{}, then_do::close});
    const int fd = connect_to(proxy);
    ::close(fd);
    CHECK(proxy.connection_count() == 1);
    CHECK(proxy.wait_handlers());
}

TEST_SUITE_END();
