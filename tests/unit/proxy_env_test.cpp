#include "proxy_env.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

using namespace corkscrew;

namespace {

using variables = std::map<std::string, std::string>;

env_lookup fake_env(variables vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end())
            return it->second;
        return std::nullopt;
    };
}

struct env_case {
    variables vars;
    const char* variable; // nullptr: none chosen
    const char* value;
};

void check_choice(const std::optional<env_setting>& got, const env_case& c) {
    if (!c.variable) {
        CHECK_FALSE(got);
        return;
    }
    REQUIRE(got);
    CHECK(got->variable == c.variable);
    CHECK(got->value == c.value);
}

// The variables proxy_from_env() reads, all set, each to a value naming it.
variables every_proxy_variable() {
    return {{"CORKSCREW_PROXY", "ours:1"},    {"https_proxy", "https-lower:2"},
            {"HTTPS_PROXY", "https-upper:3"}, {"all_proxy", "all-lower:4"},
            {"ALL_PROXY", "all-upper:5"},     {"http_proxy", "http-lower:6"},
            {"HTTP_PROXY", "http-upper:7"}};
}

// every_proxy_variable() without the first `n` of proxy_variables.
variables without_first(std::size_t n) {
    auto vars = every_proxy_variable();
    for (std::size_t i = 0; i < n; ++i)
        vars.erase(proxy_variables[i]);
    return vars;
}

struct match_case {
    const char* list;
    const char* host;
    std::uint16_t port;
    const char* entry; // nullptr: no entry matches, the proxy is used
};

void check_matches(const std::vector<match_case>& cases) {
    for (const auto& c : cases) {
        CAPTURE(c.list);
        CAPTURE(c.host);
        CAPTURE(c.port);
        auto got = no_proxy_match(c.list, c.host, c.port);
        if (!c.entry) {
            CHECK_FALSE(got);
            continue;
        }
        REQUIRE(got);
        CHECK(*got == c.entry);
    }
}

} // namespace

TEST_CASE("proxy variables: ours, https, all, then lowercase http; HTTP_PROXY never") {
    const std::vector<env_case> cases = {
        {{}, nullptr, nullptr},
        {without_first(0), "CORKSCREW_PROXY", "ours:1"},
        {without_first(1), "https_proxy", "https-lower:2"},
        {without_first(2), "HTTPS_PROXY", "https-upper:3"},
        {without_first(3), "all_proxy", "all-lower:4"},
        {without_first(4), "ALL_PROXY", "all-upper:5"},
        {without_first(5), "http_proxy", "http-lower:6"},
        // Only the uppercase HTTP_PROXY is left: a CGI request header could have set it.
        {without_first(6), nullptr, nullptr},
        {{{"HTTP_PROXY", "http-upper:7"}}, nullptr, nullptr},
        {{{"HTTPS_PROXY", "upper:3"}, {"https_proxy", "lower:2"}}, "https_proxy", "lower:2"},
        {{{"ALL_PROXY", "upper:5"}, {"http_proxy", "lower:6"}}, "ALL_PROXY", "upper:5"},
        // Set but empty, or only whitespace, counts as unset: the next one is looked at.
        {{{"CORKSCREW_PROXY", ""}, {"https_proxy", "p:2"}}, "https_proxy", "p:2"},
        {{{"CORKSCREW_PROXY", " \t"}, {"https_proxy", ""}, {"HTTPS_PROXY", "p:3"}},
         "HTTPS_PROXY",
         "p:3"},
        {{{"https_proxy", "\n"}, {"http_proxy", "p:6"}}, "http_proxy", "p:6"},
        {{{"CORKSCREW_PROXY", ""}, {"https_proxy", " "}, {"http_proxy", ""}}, nullptr, nullptr},
        // The value is trimmed but not parsed: userinfo and scheme reach parse_proxy_url() as is.
        {{{"https_proxy", "  http://proxy.example:3128 \n"}},
         "https_proxy",
         "http://proxy.example:3128"},
        {{{"all_proxy", "http://al%40ice:p w@[::1]:3128/"}},
         "all_proxy",
         "http://al%40ice:p w@[::1]:3128/"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(i);
        check_choice(proxy_from_env(fake_env(cases[i].vars)), cases[i]);
    }
}

TEST_CASE("no_proxy variables: lowercase first; set but empty counts as unset") {
    const std::vector<env_case> cases = {
        {{}, nullptr, nullptr},
        {{{"no_proxy", ".lower"}, {"NO_PROXY", ".upper"}}, "no_proxy", ".lower"},
        {{{"NO_PROXY", ".upper"}}, "NO_PROXY", ".upper"},
        {{{"no_proxy", ""}, {"NO_PROXY", ".upper"}}, "NO_PROXY", ".upper"},
        {{{"no_proxy", " \t "}}, nullptr, nullptr},
        {{{"no_proxy", " .corp.example, 10.0.0.0/8 "}}, "no_proxy", ".corp.example, 10.0.0.0/8"},
        // The proxy variables do not leak into the list, nor the list into the proxy.
        {{{"https_proxy", "p:2"}}, nullptr, nullptr},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(i);
        check_choice(no_proxy_from_env(fake_env(cases[i].vars)), cases[i]);
    }
    CHECK_FALSE(proxy_from_env(fake_env({{"no_proxy", "*"}, {"NO_PROXY", "*"}})));
}

TEST_CASE("no_proxy: '*' alone or as an entry matches every host") {
    check_matches({
        {"*", "anything.example", 22, "*"},
        {" * ", "10.1.2.3", 22, "*"},
        {"*", "::1", 443, "*"},
        {"a.example, *", "b.example", 22, "*"},
        {"*:22", "git.example", 22, "*:22"},
        {"*:22", "git.example", 443, nullptr},
        // Any other '*' is a literal character, which no host name holds.
        {"*example.com", "www.example.com", 22, nullptr},
        {"www.*.com", "www.example.com", 22, nullptr},
        {"", "example.com", 22, nullptr},
        {" , ,, \t", "example.com", 22, nullptr},
        {"*", "", 22, nullptr},
    });
}

TEST_CASE("no_proxy: a name matches itself and its subdomains, at a label boundary") {
    check_matches({
        {"example.com", "example.com", 22, "example.com"},
        {"example.com", "www.example.com", 22, "example.com"},
        {"example.com", "a.b.example.com", 22, "example.com"},
        {".example.com", "example.com", 22, ".example.com"},
        {".example.com", "www.example.com", 22, ".example.com"},
        {"*.example.com", "example.com", 22, "*.example.com"},
        {"*.example.com", "www.example.com", 22, "*.example.com"},
        {"example.com", "notexample.com", 22, nullptr},
        {".example.com", "notexample.com", 22, nullptr},
        {"*.example.com", "notexample.com", 22, nullptr},
        {"example.com", "example.com.evil", 22, nullptr},
        {"example.com", "xample.com", 22, nullptr},
        {"www.example.com", "example.com", 22, nullptr},
        {".", "example.com", 22, nullptr},
        {"EXAMPLE.com", "www.Example.COM", 22, "EXAMPLE.com"},
        // A trailing dot (the root) on either side is the same name.
        {"example.com.", "www.example.com", 22, "example.com."},
        {"example.com", "example.com.", 22, "example.com"},
        {".example.com.", "a.example.com.", 22, ".example.com."},
        // Several entries, separated by commas and/or whitespace; the first that matches is named.
        {"a.example, b.example", "b.example", 22, "b.example"},
        {"a.example b.example\tc.example", "x.c.example", 22, "c.example"},
        {"a.example,,  ,b.example,", "b.example", 22, "b.example"},
        {"corp.example, db.corp.example", "db.corp.example", 22, "corp.example"},
        {"a.example, b.example", "c.example", 22, nullptr},
        // No DNS: a name never matches an address, nor an address a name.
        {"localhost", "127.0.0.1", 22, nullptr},
        {"10.0.0.1", "x.10.0.0.1", 22, nullptr},
        {"10.0.0.0/8", "10.example", 22, nullptr},
    });
}

TEST_CASE("no_proxy: IPv4 addresses and blocks") {
    check_matches({
        {"10.0.0.1", "10.0.0.1", 22, "10.0.0.1"},
        {"10.0.0.1", "10.0.0.2", 22, nullptr},
        {"10.0.0.0/8", "10.200.3.4", 22, "10.0.0.0/8"},
        {"10.0.0.0/8", "11.0.0.1", 22, nullptr},
        {"192.168.1.0/24", "192.168.1.255", 22, "192.168.1.0/24"},
        {"192.168.1.0/24", "192.168.2.1", 22, nullptr},
        // Prefixes that end inside a byte.
        {"192.168.0.0/23", "192.168.1.7", 22, "192.168.0.0/23"},
        {"192.168.0.0/23", "192.168.2.7", 22, nullptr},
        {"172.16.0.0/12", "172.31.255.255", 22, "172.16.0.0/12"},
        {"172.16.0.0/12", "172.32.0.1", 22, nullptr},
        {"0.0.0.0/0", "203.0.113.9", 22, "0.0.0.0/0"},
        {"10.0.0.1/32", "10.0.0.1", 22, "10.0.0.1/32"},
        {"10.0.0.1/32", "10.0.0.2", 22, nullptr},
        // The network's bits past the prefix do not matter.
        {"10.1.2.3/8", "10.9.9.9", 22, "10.1.2.3/8"},
        // The families stay apart, IPv4-mapped addresses included.
        {"0.0.0.0/0", "::1", 22, nullptr},
        {"10.0.0.0/8", "::ffff:10.1.2.3", 22, nullptr},
        {"10.1.2.3", "::ffff:10.1.2.3", 22, nullptr},
    });
}

TEST_CASE("no_proxy: IPv6 addresses and blocks, compared by value, brackets or not") {
    check_matches({
        {"::1", "::1", 22, "::1"},
        {"::1", "0:0:0:0:0:0:0:1", 22, "::1"},
        {"0:0:0:0:0:0:0:1", "::1", 22, "0:0:0:0:0:0:0:1"},
        {"[::1]", "::1", 22, "[::1]"},
        {"::1", "[::1]", 22, "::1"},
        {"[::1]", "[0::1]", 22, "[::1]"},
        {"2001:DB8::1", "2001:db8:0::1", 22, "2001:DB8::1"},
        {"::1", "::2", 22, nullptr},
        {"::1", "127.0.0.1", 22, nullptr},
        {"fd00::/8", "fd12:3456::1", 22, "fd00::/8"},
        {"fd00::/8", "fe80::1", 22, nullptr},
        {"[fd00::/8]", "fd00::1", 22, "[fd00::/8]"},
        {"::1/128", "::1", 22, "::1/128"},
        {"::1/128", "::2", 22, nullptr},
        {"2001:db8::/32", "2001:db8:ffff::1", 22, "2001:db8::/32"},
        {"2001:db8::/32", "2001:db9::1", 22, nullptr},
        {"::/0", "2001:db8::1", 22, "::/0"},
        {"::/0", "10.0.0.1", 22, nullptr},
        {"fd00::/8", "10.0.0.1", 22, nullptr},
        // An IPv4-mapped host matches what is written as IPv6.
        {"::ffff:0:0/96", "::ffff:10.1.2.3", 22, "::ffff:0:0/96"},
        // The zone names a link, not a host.
        {"fe80::1", "fe80::1%eth0", 22, "fe80::1"},
        // In brackets is an address or nothing.
        {"[example.com]", "example.com", 22, nullptr},
    });
}

TEST_CASE("no_proxy: an entry with a port matches that port only") {
    check_matches({
        {"git.example:22", "git.example", 22, "git.example:22"},
        {"git.example:22", "git.example", 443, nullptr},
        {".corp.example:22", "db.corp.example", 22, ".corp.example:22"},
        {".corp.example:22", "db.corp.example", 2222, nullptr},
        {"git.example", "git.example", 65535, "git.example"},
        {"10.0.0.1:22", "10.0.0.1", 22, "10.0.0.1:22"},
        {"10.0.0.1:22", "10.0.0.1", 80, nullptr},
        {"10.0.0.0/8:22", "10.2.3.4", 22, "10.0.0.0/8:22"},
        {"[::1]:22", "::1", 22, "[::1]:22"},
        {"[::1]:22", "::1", 23, nullptr},
        {"[2001:db8::1]:443", "2001:db8:0:0::1", 443, "[2001:db8::1]:443"},
        {"git.example:22, git.example:443", "git.example", 443, "git.example:443"},
        // Unbracketed, the last group is part of the address: "::1:22" is 0:0:0:0:0:0:1:22.
        {"::1:22", "::1", 22, nullptr},
        {"::1:22", "0:0:0:0:0:0:1:22", 443, "::1:22"},
    });
}

TEST_CASE("no_proxy: a malformed entry matches nothing, and the next ones still count") {
    check_matches({
        {"10.0.0.0/33", "10.0.0.1", 22, nullptr},
        {"0.0.0.0/33", "1.2.3.4", 22, nullptr},
        {"10.0.0.0/x", "10.0.0.1", 22, nullptr},
        {"10.0.0.0/", "10.0.0.1", 22, nullptr},
        {"10.0.0.0/-1", "10.0.0.1", 22, nullptr},
        {"10.0.0.0/8/8", "10.0.0.1", 22, nullptr},
        {"fd00::/129", "fd00::1", 22, nullptr},
        {"[::1", "::1", 22, nullptr},
        {"[::1]x", "::1", 22, nullptr},
        {"git.example:0", "git.example", 22, nullptr},
        {"git.example:", "git.example", 22, nullptr},
        {"git.example:ssh", "git.example", 22, nullptr},
        {"git.example:65536", "git.example", 22, nullptr},
        {"10.0.0.0/33, 127.0.0.1", "127.0.0.1", 22, "127.0.0.1"},
        {"[::1, .example.com", "www.example.com", 22, ".example.com"},
    });
}
