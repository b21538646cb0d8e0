#include "jump.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace corkscrew;

TEST_CASE("gateways as ssh takes them") {
    auto full = parse_gateway("bob@gw.example:2222");
    REQUIRE(full);
    CHECK(full->user == "bob");
    CHECK(full->at.host == "gw.example");
    CHECK(full->at.port == 2222);
    auto bare = parse_gateway("gw.example");
    REQUIRE(bare);
    CHECK(bare->user.empty());
    CHECK(bare->at.port == 0); // ssh's own default and config decide
    auto v6 = parse_gateway("[::1]:22");
    REQUIRE(v6);
    CHECK(v6->at.host == "::1");
    CHECK(v6->at.port == 22);
    for (const char* bad : {"", "@gw", "gw:0", "gw:x", "::1", "[::1", "a b", "gw\r\n"})
        CHECK_MESSAGE(!parse_gateway(bad), bad);
}

TEST_CASE("the ssh command: ProxyCommand with the route, -W to the destination, -x by the "
          "environment") {
    jump_settings s;
    s.gateways = {*parse_gateway("first.example"), *parse_gateway("bob@last.example:2222")};
    s.ssh_options = {"IdentityFile=/k 1"};
    s.route_args = {"--auth-file", "/a%b", "-v"};
    s.proxy_urls = {"http://u:p,w@proxy:3128", "https://far"};
    auto plan = plan_jump(s, {"inner.example", 22}, "/usr/bin/corkscrew++");
    const std::vector<std::string> expected = {
        "ssh",
        "-o",
        "ProxyCommand=/usr/bin/corkscrew++ --auth-file /a%%b -v --jump first.example "
        "--ssh-option 'IdentityFile=/k 1' %h %p",
        "-o",
        "IdentityFile=/k 1",
        "-l",
        "bob",
        "-p",
        "2222",
        "-W",
        "inner.example:22",
        "last.example"};
    CHECK(plan.argv == expected);
    // The URLs, passwords included, go by the environment; the comma in one is encoded so the
    // list splits right; no_proxy must not turn -x proxies off.
    REQUIRE(plan.env.size() == 3);
    CHECK(plan.env[0].first == "CORKSCREW_PROXY");
    CHECK(plan.env[0].second == "http://u:p%2Cw@proxy:3128, https://far");
    CHECK(plan.env[1].first == "no_proxy");
    CHECK_FALSE(plan.env[1].second);
    CHECK(plan.env[2].first == "NO_PROXY");
    for (const auto& word : plan.argv)
        CHECK(word.find("p,w") == std::string::npos);
}

TEST_CASE("an IPv6 destination is bracketed for -W; no -x leaves the environment alone") {
    jump_settings s;
    s.gateways = {*parse_gateway("gw")};
    auto plan = plan_jump(s, {"::1", 22}, "/bin/c");
    CHECK(std::find(plan.argv.begin(), plan.argv.end(), "[::1]:22") != plan.argv.end());
    CHECK(plan.env.empty());
    CHECK(shell_line({"ssh", "-o", "ProxyCommand=a b"}) == "ssh -o 'ProxyCommand=a b'");
}

TEST_CASE("--compress: the last gateway runs the far end of the compression instead of -W") {
    jump_settings s;
    s.gateways = {*parse_gateway("first.example"), *parse_gateway("bob@last.example")};
    s.compress = true;
    s.gateway_program = "/opt/my tools/corkscrew++";
    auto plan = plan_jump(s, {"inner.example", 2222}, "/usr/bin/corkscrew++");
    const std::vector<std::string> expected = {
        "ssh", "-o",
        // The nested corkscrew++ to the first gateway does not compress: its far end is sshd.
        "ProxyCommand=/usr/bin/corkscrew++ --jump first.example %h %p", "-l", "bob", "-T", "-e",
        "none", "last.example",
        "'/opt/my tools/corkscrew++' --relay --compress inner.example 2222"};
    CHECK(plan.argv == expected);
    CHECK(std::find(plan.argv.begin(), plan.argv.end(), "-W") == plan.argv.end());
}

TEST_CASE("--gateway-program under ~/ is found in the gateway's home directory") {
    jump_settings s;
    s.gateways = {*parse_gateway("gw")};
    s.compress = true;
    s.gateway_program = "~/bin/corkscrew ++";
    auto plan = plan_jump(s, {"db", 5432}, "/usr/bin/corkscrew++");
    CHECK(plan.argv.back() == "~/'bin/corkscrew ++' --relay --compress db 5432");
}

TEST_CASE("the ssh child gets stdin, stdout and stderr only") {
    // A descriptor of this process without close-on-exec, as Asio opens a listener's sockets.
    // (Numbered far from ls's own directory descriptor, which takes the lowest free one.)
    const int opened = ::open("/dev/null", O_RDONLY);
    REQUIRE(opened > 2);
    const int inherited = ::dup2(opened, 100);
    ::close(opened);
    REQUIRE(inherited == 100);
    jump_plan plan;
    plan.argv = {"/bin/sh", "-c", "ls /proc/self/fd"};
    auto child = spawn_jump(plan);
    ::close(inherited);
    REQUIRE(child);
    std::string listing;
    char buffer[256];
    for (ssize_t n; (n = ::read(child->socket, buffer, sizeof buffer)) > 0;)
        listing.append(buffer, static_cast<std::size_t>(n));
    ::close(child->socket);
    int status = 0;
    ::waitpid(child->pid, &status, 0);
    CHECK(WIFEXITED(status));
    // ls's own directory descriptor is the only other one.
    std::vector<int> open;
    for (std::size_t at = 0; at < listing.size();) {
        auto end = listing.find('\n', at);
        open.push_back(std::stoi(listing.substr(at, end - at)));
        at = end == std::string::npos ? listing.size() : end + 1;
    }
    CAPTURE(listing);
    CHECK(std::find(open.begin(), open.end(), inherited) == open.end());
    CHECK(open.size() <= 4);
}
