#include "credential_files.hpp"

#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace corkscrew;
using corkscrew_test::scratch_dir;

namespace {

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

endpoint_name proxy(std::string host, std::uint16_t port) {
    return {std::move(host), port};
}

} // namespace

TEST_CASE("auth file: one user:password line applies to any proxy") {
    auto f = parse_auth_file("alice:pa:ss word\r\n", "auth file /a");
    REQUIRE(f);
    CHECK(f->entries.empty());
    auto c = f->lookup(proxy("proxy.example", 3128));
    REQUIRE(c);
    CHECK(c->user == "alice");
    CHECK(c->password == "pa:ss word");
    CHECK(c->source == "auth file /a (line 1)");
    CHECK(f->lookup(proxy("::1", 8080))->user == "alice");

    // Without a newline at the end, with an empty password, with trailing blanks kept.
    CHECK(parse_auth_file("bob:", "t")->fallback->password.empty());
    CHECK(parse_auth_file("bob:pw  ", "t")->fallback->password == "pw  ");
    // A user name that merely starts with the keyword is a user name.
    CHECK(parse_auth_file("proxyuser:pw\n", "t")->fallback->user == "proxyuser");
    CHECK(parse_auth_file("proxy:pw\n", "t")->fallback->user == "proxy");
}

TEST_CASE("auth file: per-proxy entries, the most specific first, then the fallback") {
    const std::string text = "# proxies at work\n"
                             "\n"
                             "proxy proxy.example:3128 alice:first secret\n"
                             "proxy Proxy.Example    bob:any:port\n"
                             "   # indented comment\n"
                             "proxy\t[2001:db8::1]:8080\tcarol:v6\r\n"
                             "proxy [::1] dave:loop\n"
                             "proxy 10.0.0.1 erin:ip\n"
                             "frank:fallback\n";
    auto f = parse_auth_file(text, "auth file /w");
    REQUIRE(f);
    CHECK(f->entries.size() == 5);

    auto c = f->lookup(proxy("proxy.example", 3128));
    REQUIRE(c);
    CHECK(c->user == "alice");
    CHECK(c->password == "first secret");
    CHECK(c->source == "auth file /w (line 3)");

    // Host names compare case-insensitively; another port takes the host-only entry.
    CHECK(f->lookup(proxy("PROXY.example", 3128))->user == "alice");
    CHECK(f->lookup(proxy("proxy.example", 8080))->user == "bob");
    CHECK(f->lookup(proxy("proxy.example", 8080))->password == "any:port");
    CHECK(f->lookup(proxy("proxy.example", 8080))->source == "auth file /w (line 4)");

    // IPv6 literals are written in brackets and compared without them, as endpoint_name holds them.
    CHECK(f->lookup(proxy("2001:db8::1", 8080))->user == "carol");
    CHECK(f->lookup(proxy("2001:DB8::1", 8080))->password == "v6");
    CHECK(f->lookup(proxy("2001:db8::1", 3128))->user == "frank");
    CHECK(f->lookup(proxy("::1", 1))->user == "dave");
    CHECK(f->lookup(proxy("10.0.0.1", 3128))->user == "erin");

    auto other = f->lookup(proxy("elsewhere.example", 3128));
    REQUIRE(other);
    CHECK(other->user == "frank");
    CHECK(other->source == "auth file /w (line 9)");
}

TEST_CASE("auth file: the host-only entry wins over the fallback, whatever the order") {
    auto f = parse_auth_file("any:one\nproxy p.example:1 exact:x\nproxy p.example host:y\n", "t");
    REQUIRE(f);
    CHECK(f->lookup(proxy("p.example", 1))->user == "exact");
    CHECK(f->lookup(proxy("p.example", 2))->user == "host");
    CHECK(f->lookup(proxy("q.example", 1))->user == "any");
}

TEST_CASE("auth file: without a fallback, an unlisted proxy has no credentials") {
    auto f = parse_auth_file("proxy p.example:3128 alice:pw\n", "t");
    REQUIRE(f);
    CHECK_FALSE(f->fallback);
    CHECK_FALSE(f->lookup(proxy("q.example", 3128)));
    CHECK_FALSE(f->lookup(proxy("p.example", 8080)));
}

TEST_CASE("auth file: malformed lines are named by number, their text never shown") {
    struct bad_case {
        const char* text;
        const char* where;
        const char* says;
    };
    const bad_case cases[] = {
        {"topsecret\n", "auth file /b, line 1: ", "expected user:password"},
        {"# c\n\n:topsecret\n", "auth file /b, line 3: ", "expected user:password"},
        {"alice:topsecret\nbob:topsecret\n", "auth file /b, line 2: ", "line 1 already"},
        {"proxy p.example topsecret\n", "auth file /b, line 1: ", "user:password after proxy"},
        {"proxy p.example :topsecret\n", "auth file /b, line 1: ", "user:password after proxy"},
        {"proxy p.example\n", "auth file /b, line 1: ", "proxy HOST[:PORT] user:password"},
        {"proxy \n", "auth file /b, line 1: ", "proxy HOST[:PORT] user:password"},
        {"proxy p.example:0 a:topsecret\n", "auth file /b, line 1: ", "invalid port '0'"},
        {"proxy p.example:99999 a:topsecret\n", "auth file /b, line 1: ", "invalid port"},
        {"proxy ::1 a:topsecret\n", "auth file /b, line 1: ", "in brackets"},
        {"proxy [::1 a:topsecret\n", "auth file /b, line 1: ", "unclosed '['"},
        {"proxy [nothost] a:topsecret\n", "auth file /b, line 1: ", "invalid IPv6"},
        {"proxy [::1]x a:topsecret\n", "auth file /b, line 1: ", "bad proxy"},
        {"proxy p\x01q a:topsecret\n", "auth file /b, line 1: ", "invalid host name 'p?q'"},
        {"proxy p:1 a:topsecret\nproxy P:1 b:topsecret\n",
         "auth file /b, line 2: ", "second entry for proxy P:1 (the first is on line 1)"},
        {"", "auth file /b holds no credentials", ""},
        {"# only a comment\n\n", "auth file /b holds no credentials", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto f = parse_auth_file(c.text, "auth file /b");
        REQUIRE_FALSE(f);
        CHECK(f.err().kind == failure::usage);
        CHECK(f.err().message.starts_with(c.where));
        CHECK(contains(f.err().message, c.says));
        CHECK_FALSE(contains(f.err().message, "topsecret"));
        CHECK_FALSE(contains(f.err().message, "\n"));
    }
}

TEST_CASE("netrc: the first machine matching the host wins, else default") {
    const std::string text = "machine other.example login o password op\n"
                             "machine Proxy.Example login alice password first\n"
                             "machine proxy.example login bob password second\n"
                             "default login anon password guest\n";
    auto c = netrc_lookup(text, "proxy.example", "netrc file /n");
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->user == "alice");
    CHECK((*c)->password == "first");
    CHECK((*c)->source == "netrc file /n (line 2)");

    CHECK((*netrc_lookup(text, "PROXY.EXAMPLE", "n"))->user == "alice");
    auto d = netrc_lookup(text, "unknown.example", "n");
    REQUIRE(d);
    REQUIRE(*d);
    CHECK((*d)->user == "anon");
    CHECK((*d)->password == "guest");
    CHECK((*d)->source == "n (line 4)");

    // A default written first still loses to a machine that matches.
    CHECK((*netrc_lookup("default login d password dp machine m login u password up", "m", "n"))
              ->user == "u");
}

TEST_CASE("netrc: tokens on one line or many, in any order, account ignored") {
    auto c = netrc_lookup("machine\tp.example\n  password pw\n account acct\n\tlogin alice\n",
                          "p.example", "n");
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->user == "alice");
    CHECK((*c)->password == "pw");
    CHECK((*c)->source == "n (line 1)");

    // CRLF line ends, keywords in capitals, and words other tools write are all tolerated.
    auto w = netrc_lookup("MACHINE p.example\r\nLOGIN bob\r\nport 8080\r\nPASSWORD pw\r\n",
                          "p.example", "n");
    REQUIRE(w);
    REQUIRE(*w);
    CHECK((*w)->user == "bob");
    CHECK((*w)->password == "pw");
}

TEST_CASE("netrc: nothing when no entry applies or the entry has no password") {
    CHECK_FALSE(*netrc_lookup("machine a.example login x password y\n", "b.example", "n"));
    CHECK_FALSE(*netrc_lookup("", "b.example", "n"));
    // The matching machine has no password: its entry wins, and it holds nothing for us.
    CHECK_FALSE(*netrc_lookup("machine p login alice\ndefault login d password dp\n", "p", "n"));
    // A password without a login, and no user name to go with it.
    CHECK_FALSE(*netrc_lookup("machine p password pw\n", "p", "n"));
    // A default with nothing in it.
    CHECK_FALSE(*netrc_lookup("default\n", "p", "n"));
    // login and password before any machine belong to no entry.
    CHECK_FALSE(*netrc_lookup("login x password y\n", "p", "n"));
}

TEST_CASE("netrc: with a user name known, only entries for that login count") {
    const std::string text = "machine p login bob password bobs\n"
                             "machine p login alice password alices\n"
                             "machine p password nologin\n";
    CHECK((*netrc_lookup(text, "p", "n", "alice"))->password == "alices");
    CHECK((*netrc_lookup(text, "p", "n", "bob"))->password == "bobs");
    auto c = netrc_lookup(text, "p", "n", "carol");
    REQUIRE(*c);
    CHECK((*c)->user == "carol");
    CHECK((*c)->password == "nologin");
    CHECK_FALSE(*netrc_lookup("machine p login bob password b\n", "p", "n", "carol"));
}

TEST_CASE("netrc: macdef bodies, comments and quoted tokens") {
    const std::string text = "# a comment: machine p login no password no\n"
                             "macdef init\n"
                             "machine p login fake password fake\n"
                             "cd /pub\n"
                             "   \n"
                             "  # indented comment machine p\n"
                             "machine p login \"al ice\" password \"p\\\"w\\\\x\\ty #z\"\n";
    auto c = netrc_lookup(text, "p", "n");
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->user == "al ice");
    CHECK((*c)->password == "p\"w\\x\ty #z");
    CHECK((*c)->source == "n (line 7)");

    // A '#' inside a line is part of a token, not a comment.
    CHECK((*netrc_lookup("machine p login a password pa#ss\n", "p", "n"))->password == "pa#ss");
    // A macdef running to the end of the file hides what follows it.
    CHECK_FALSE(*netrc_lookup("macdef m\nmachine p login a password b\n", "p", "n"));
    // An empty quoted password is a password.
    auto e = netrc_lookup("machine p login a password \"\"\n", "p", "n");
    REQUIRE(*e);
    CHECK((*e)->password.empty());
}

TEST_CASE("netrc: IPv6 machines, with or without brackets") {
    CHECK((*netrc_lookup("machine [::1] login a password b\n", "::1", "n"))->user == "a");
    CHECK((*netrc_lookup("machine ::1 login a password b\n", "::1", "n"))->user == "a");
}

TEST_CASE("netrc: syntax errors name the line, never the password") {
    auto open_quote =
        netrc_lookup("machine p\nlogin a password \"topsecret\n", "p", "netrc file /n");
    REQUIRE_FALSE(open_quote);
    CHECK(open_quote.err().kind == failure::usage);
    CHECK(open_quote.err().message.starts_with("netrc file /n, line 2: "));
    CHECK_FALSE(contains(open_quote.err().message, "topsecret"));

    auto trailing = netrc_lookup("machine p login a password", "p", "netrc file /n");
    REQUIRE_FALSE(trailing);
    CHECK(contains(trailing.err().message, "line 1: 'password' without a value"));
}

TEST_CASE("private files: owner and mode") {
    CHECK_FALSE(check_private(S_IFREG | 0600, 1000, 1000, "/f", "auth file"));
    CHECK_FALSE(check_private(S_IFREG | 0400, 1000, 1000, "/f", "auth file"));
    CHECK_FALSE(check_private(S_IFREG | 0711, 1000, 1000, "/f", "auth file"));
    // Root's files are trusted, as ssh trusts them.
    CHECK_FALSE(check_private(S_IFREG | 0600, 0, 1000, "/f", "auth file"));

    auto readable = check_private(S_IFREG | 0644, 1000, 1000, "/f", "auth file");
    REQUIRE(readable);
    CHECK(readable->kind == failure::usage);
    CHECK(readable->message == "auth file /f is readable by other users; run: chmod 600 /f");

    auto group_write = check_private(S_IFREG | 0620, 1000, 1000, "/f", "netrc file");
    REQUIRE(group_write);
    CHECK(group_write->message == "netrc file /f is writable by other users; run: chmod 600 /f");

    auto both = check_private(S_IFREG | 0606, 1000, 1000, "/f", "auth file");
    REQUIRE(both);
    CHECK(contains(both->message, "readable and writable by other users"));

    auto foreign = check_private(S_IFREG | 0600, 1001, 1000, "/f", "auth file");
    REQUIRE(foreign);
    CHECK(contains(foreign->message, "auth file /f belongs to another user (uid 1001)"));

    // The suggested command can be pasted into a shell as it is.
    auto spaced = check_private(S_IFREG | 0640, 1000, 1000, "/my files/it's", "auth file");
    REQUIRE(spaced);
    CHECK(contains(spaced->message, "run: chmod 600 '/my files/it'\\''s'"));
}

TEST_CASE(
    "private files on disk: 0600 passes, 0644 and 0620 are refused, missing is the reader's") {
    scratch_dir dir;
    const auto ok = dir.file("ok", "alice:pw\n", 0600);
    CHECK_FALSE(check_private_file(ok, "auth file"));

    const auto world = dir.file("world", "alice:pw\n", 0644);
    auto refused = check_private_file(world, "auth file");
    REQUIRE(refused);
    CHECK(refused->kind == failure::usage);
    CHECK(contains(refused->message, "auth file " + world + " is readable by other users"));
    CHECK(contains(refused->message, "chmod 600 " + world));

    const auto group = dir.file("group", "alice:pw\n", 0620);
    auto group_refused = check_private_file(group, "auth file");
    REQUIRE(group_refused);
    CHECK(contains(group_refused->message, "writable by other users"));

    CHECK_FALSE(check_private_file(dir.path() + "/missing", "auth file"));

    if (::geteuid() == 0) {
        // Only root can give a file away; a file of another user is refused even with 0600.
        const auto theirs = dir.file("theirs", "alice:pw\n", 0600);
        REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
        auto foreign = check_private_file(theirs, "auth file");
        REQUIRE(foreign);
        CHECK(contains(foreign->message, "belongs to another user"));
    }
}

TEST_CASE("load_auth_file: checks, reads and parses") {
    scratch_dir dir;
    const auto path =
        dir.file("auth", "proxy p.example:3128 alice:s3cret\ncarol:s3cret with:colon\n", 0600);
    auto f = load_auth_file(path);
    REQUIRE(f);
    CHECK(f->lookup(proxy("p.example", 3128))->user == "alice");
    CHECK(f->lookup(proxy("p.example", 3128))->source == "auth file " + path + " (line 1)");
    CHECK(f->lookup(proxy("q.example", 3128))->password == "s3cret with:colon");

    ::chmod(path.c_str(), 0644);
    auto refused = load_auth_file(path);
    REQUIRE_FALSE(refused);
    CHECK(refused.err().kind == failure::usage);
    CHECK(contains(refused.err().message, "chmod 600"));
    CHECK_FALSE(contains(refused.err().message, "s3cret"));

    auto missing = load_auth_file(dir.path() + "/missing");
    REQUIRE_FALSE(missing);
    CHECK(missing.err().kind == failure::usage);
    CHECK(contains(missing.err().message, "cannot read auth file " + dir.path() + "/missing"));

    const auto bad = dir.file("bad", "# comment\nnot-a-login-s3cret\n", 0600);
    auto malformed = load_auth_file(bad);
    REQUIRE_FALSE(malformed);
    CHECK(malformed.err().message.starts_with("auth file " + bad + ", line 2: "));
    CHECK_FALSE(contains(malformed.err().message, "s3cret"));

    const auto big = dir.file("big", std::string(max_credential_file_bytes + 1, '#'), 0600);
    auto too_big = load_auth_file(big);
    REQUIRE_FALSE(too_big);
    CHECK(contains(too_big.err().message, "is larger than"));
}

TEST_CASE("load_netrc: ~/.netrc may be missing, --netrc-file may not") {
    scratch_dir dir;
    const auto missing = dir.path() + "/netrc";
    auto optional = load_netrc(missing, "p", false);
    REQUIRE(optional);
    CHECK_FALSE(*optional);

    auto required = load_netrc(missing, "p", true);
    REQUIRE_FALSE(required);
    CHECK(required.err().kind == failure::usage);
    CHECK(contains(required.err().message, "cannot read netrc file " + missing));

    const auto path = dir.file("netrc", "machine p login alice password s3cret\n", 0600);
    auto c = load_netrc(path, "p", true);
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->user == "alice");
    CHECK((*c)->password == "s3cret");
    CHECK((*c)->source == "netrc file " + path + " (line 1)");
    CHECK_FALSE(*load_netrc(path, "q", false));

    // An existing file that others can read is refused even when it is optional.
    ::chmod(path.c_str(), 0640);
    auto refused = load_netrc(path, "p", false);
    REQUIRE_FALSE(refused);
    CHECK(contains(refused.err().message, "netrc file " + path + " is readable by other users"));
    CHECK_FALSE(contains(refused.err().message, "s3cret"));
}
