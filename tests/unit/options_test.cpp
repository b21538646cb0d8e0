#include "options.hpp"

#include "compress.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace corkscrew;

namespace {

struct fake_env {
    std::map<std::string, std::string> vars;
    std::optional<std::string> operator()(const char* name) const {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    }
};

result<command_line> parse(std::vector<std::string> args, fake_env env = {}) {
    std::vector<const char*> argv{"corkscrew++"};
    for (auto& a : args)
        argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), env);
}

std::string temp_auth_file(const std::string& line, mode_t mode = 0600) {
    char path[] = "/tmp/corkscrew-opt-XXXXXX";
    int fd = ::mkstemp(path);
    ::close(fd);
    std::ofstream(path) << line << "\n";
    ::chmod(path, mode);
    return path;
}

// A folder to stand in for $HOME.
std::string temp_home() {
    char path[] = "/tmp/corkscrew-home-XXXXXX";
    return ::mkdtemp(path);
}

} // namespace

TEST_CASE("corkscrew form") {
    auto cl = parse({"proxy.example", "3128", "git.example", "22"});
    REQUIRE(cl);
    const auto& cfg = cl->settings;
    REQUIRE(cfg.path.hops.size() == 1);
    CHECK(cfg.path.hops[0].proxy.host == "proxy.example");
    CHECK(cfg.path.hops[0].proxy.port == 3128);
    CHECK_FALSE(cfg.path.hops[0].creds);
    CHECK(cfg.path.destination.host == "git.example");
    CHECK(cfg.path.destination.port == 22);
    CHECK(cfg.connect_timeout == default_connect_timeout);
    CHECK_FALSE(cfg.idle_timeout);
    CHECK(cfg.request.user_agent.rfind("corkscrew++/", 0) == 0);
}

TEST_CASE("corkscrew form with AUTHFILE sends Basic preemptively") {
    auto file = temp_auth_file("alice:pa ss:word");
    auto cl = parse({"proxy", "8080", "host", "22", file});
    std::remove(file.c_str());
    REQUIRE(cl);
    const auto& h = cl->settings.path.hops[0];
    REQUIRE(h.creds);
    CHECK(h.creds->user == "alice");
    CHECK(h.creds->password == "pa ss:word");
    CHECK(h.preemptive_basic);
}

TEST_CASE("modern form with credentials from each source, URL first") {
    auto file = temp_auth_file("fileuser:filepw");
    fake_env env{{{"CORKSCREW_AUTH", "envuser:envpw"}}};
    auto from_env = parse({"-x", "http://proxy:3128", "host", "22"}, env);
    REQUIRE(from_env);
    CHECK(from_env->settings.path.hops[0].creds->user == "envuser");
    CHECK_FALSE(from_env->settings.path.hops[0].preemptive_basic);
    auto from_file = parse({"-x", "http://proxy:3128", "--auth-file", file, "host", "22"}, env);
    REQUIRE(from_file);
    CHECK(from_file->settings.path.hops[0].creds->user == "fileuser");
    CHECK_FALSE(from_file->settings.path.hops[0].preemptive_basic);
    auto from_url =
        parse({"-x", "http://urluser:pw@proxy:3128", "--auth-file", file, "h", "1"}, env);
    REQUIRE(from_url);
    CHECK(from_url->settings.path.hops[0].creds->user == "urluser");
    std::remove(file.c_str());
}

TEST_CASE("a password on the command line warns, without showing it") {
    auto cl = parse({"-x", "http://u:topsecret@proxy", "host", "22"});
    REQUIRE(cl);
    REQUIRE(cl->warnings.size() == 1);
    CHECK(cl->warnings[0].find("process list") != std::string::npos);
    CHECK(cl->warnings[0].find("topsecret") == std::string::npos);
    CHECK(parse({"-x", "http://u@proxy", "host", "22"})->warnings.empty());
}

TEST_CASE("options") {
    auto cl = parse({"-x", "proxy:1", "-H", "X-A: 1", "--header", "X-B: 2", "-A", "agent/1",
                     "--connect-timeout", "2.5", "-w", "60", "-6", "-vv", "host", "22"});
    REQUIRE(cl);
    const auto& cfg = cl->settings;
    REQUIRE(cfg.request.extra_headers.size() == 2);
    CHECK(cfg.request.extra_headers[1].name == "X-B");
    CHECK(cfg.request.user_agent == "agent/1");
    CHECK(cfg.connect_timeout == std::chrono::milliseconds(2500));
    CHECK(cfg.idle_timeout == std::chrono::milliseconds(60000));
    CHECK(cfg.family == ip_family::v6);
    CHECK(cfg.verbosity == 2);
    CHECK(parse({"-q", "-x", "p:1", "h", "2"})->settings.verbosity == -1);
}

TEST_CASE("usage errors") {
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {},
             {"--require-proxy", "host", "22"},
             {"--fdpass", "-x", "https://p", "host", "22"},
             {"-x", "p:1", "-x", "socks5://q:1080", "host", "22"},
             {"a", "b", "c"},
             {"proxy", "0", "host", "22"},
             {"proxy", "8080", "host", "65536"},
             {"proxy", "8080", "ho\r\nst", "22"},
             {"-x", "http://proxy:3128", "host"},
             {"-x", "ftp://proxy", "host", "22"},
             {"-x", "p:1", "-H", "Bad", "host", "22"},
             {"-x", "p:1", "-H", "X: a\r\nY: b", "host", "22"},
             {"-x", "p:1", "-A", "a\nb", "host", "22"},
             {"-x", "p:1", "--connect-timeout", "0", "host", "22"},
             {"-x", "p:1", "--connect-timeout", "soon", "host", "22"},
             {"-x", "p:1", "-w", "-1", "host", "22"},
             {"-x", "p:1", "-4", "-6", "host", "22"},
             {"-x", "p:1", "--auth-file", "/nonexistent/x", "host", "22"},
             {"--no-such-option"},
         }) {
        auto cl = parse(args);
        CHECK_MESSAGE(!cl, args.size());
        if (!cl)
            CHECK(cl.err().kind == failure::usage);
    }
    fake_env bad_env{{{"CORKSCREW_AUTH", "nocolon"}}};
    CHECK_FALSE(parse({"-x", "p:1", "h", "1"}, bad_env));
}

TEST_CASE("help and version") {
    auto help = parse({"--help"});
    REQUIRE(help);
    CHECK(help->what == command_line::action::help);
    CHECK(help->text.find("--connect-timeout") != std::string::npos);
    CHECK(help->text.find("ProxyUseFdpass yes") != std::string::npos);
    CHECK(help->text.find("Exit status") != std::string::npos);
    auto version = parse({"-V"});
    REQUIRE(version);
    CHECK(version->what == command_line::action::version);
    CHECK(version->text.rfind("corkscrew++ ", 0) == 0);
}

TEST_CASE("passwords in proxy URLs are hidden from the process list") {
    std::string joined = "--proxy=http://alice:s3:cr@t@proxy:3128/";
    std::string separate = "carol:pw@proxy:1";
    std::string plain = "http://bob@proxy:3128";
    std::string other = "dave:x@y";
    std::vector<char*> argv{const_cast<char*>("corkscrew++"), joined.data(), separate.data(),
                            plain.data(), other.data()};
    hide_url_passwords(
        static_cast<int>(argv.size()), argv.data(),
        {"http://alice:s3:cr@t@proxy:3128/", "carol:pw@proxy:1", "http://bob@proxy:3128"});
    CHECK(joined == "--proxy=http://alice:*******@proxy:3128/");
    CHECK(separate == "carol:**@proxy:1");
    CHECK(plain == "http://bob@proxy:3128");
    CHECK(other == "dave:x@y");
}

TEST_CASE("a URL with a user name only gives way to a file or the environment") {
    fake_env env{{{"CORKSCREW_AUTH", "envuser:envpw"}}};
    auto cl = parse({"-x", "http://urluser@proxy:3128", "host", "22"}, env);
    REQUIRE(cl);
    CHECK(cl->settings.path.hops[0].creds->user == "envuser");
    auto alone = parse({"-x", "http://urluser@proxy:3128", "host", "22"});
    REQUIRE(alone);
    CHECK(alone->settings.path.hops[0].creds->user == "urluser");
    CHECK(alone->settings.path.hops[0].creds->password.empty());
}

TEST_CASE("credential sources in their documented order") {
    const std::string proxy = "http://proxy.test:3128";
    auto file = temp_auth_file("proxy proxy.test:3128 fileuser:filepw\nproxy other:1 x:y");
    auto netrc = temp_auth_file("machine proxy.test login netrcuser password netrcpw");
    fake_env env{{{"CORKSCREW_AUTH", "envuser:envpw"}}};
    auto user_of = [](const result<command_line>& cl) {
        REQUIRE(cl);
        REQUIRE(cl->settings.path.hops[0].creds);
        return cl->settings.path.hops[0].creds->user;
    };
    CHECK(user_of(parse({"-x", "http://urluser:pw@proxy.test:3128", "--auth-file", file,
                         "--netrc-file", netrc, "h", "1"},
                        env)) == "urluser");
    CHECK(user_of(parse({"-x", proxy, "--auth-file", file, "--netrc-file", netrc, "h", "1"},
                        env)) == "fileuser");
    CHECK(user_of(parse({"-x", proxy, "--netrc-file", netrc, "h", "1"}, env)) == "envuser");
    CHECK(user_of(parse({"-x", proxy, "--netrc-file", netrc, "h", "1"})) == "netrcuser");
    // An auth file without an entry for this proxy gives way to the next source.
    auto elsewhere = temp_auth_file("proxy other.test fileuser:filepw");
    CHECK(user_of(parse({"-x", proxy, "--auth-file", elsewhere, "h", "1"}, env)) == "envuser");
    for (const auto& f : {file, netrc, elsewhere})
        std::remove(f.c_str());
}

TEST_CASE("credential files others can read are refused, saying how to fix it") {
    auto file = temp_auth_file("u:p", 0644);
    auto cl = parse({"-x", "http://proxy:1", "--auth-file", file, "h", "1"});
    REQUIRE_FALSE(cl);
    CHECK(cl.err().kind == failure::usage);
    CHECK(cl.err().message.find("chmod 600") != std::string::npos);
    auto netrc = parse({"-x", "http://proxy:1", "--netrc-file", file, "h", "1"});
    REQUIRE_FALSE(netrc);
    CHECK(netrc.err().message.find("chmod 600") != std::string::npos);
    std::remove(file.c_str());
    CHECK_FALSE(parse({"-x", "http://proxy:1", "--netrc-file", "/nonexistent/netrc", "h", "1"}));
}

TEST_CASE("~/.netrc is read only when the proxy asks, and a bad one does not stop the run") {
    auto home = temp_home();
    fake_env env{{{"HOME", home}}};
    std::ofstream(home + "/.netrc") << "machine proxy.test login alice password fromnetrc\n";
    ::chmod((home + "/.netrc").c_str(), 0600);
    auto cl = parse({"-x", "http://proxy.test:3128", "h", "1"}, env);
    REQUIRE(cl);
    CHECK_FALSE(cl->settings.path.hops[0].creds);
    std::string why;
    auto late = cl->settings.path.hops[0].ask("proxy.test:3128", std::nullopt, why);
    REQUIRE(late);
    CHECK(late->user == "alice");
    CHECK(late->password == "fromnetrc");

    ::chmod((home + "/.netrc").c_str(), 0644);
    auto loose = parse({"-q", "-x", "http://proxy.test:3128", "h", "1"}, env);
    REQUIRE(loose);
    CHECK_FALSE(loose->settings.path.hops[0].ask("proxy.test:3128", std::nullopt, why));
    std::remove((home + "/.netrc").c_str());
    ::rmdir(home.c_str());
}

TEST_CASE("--auth") {
    CHECK(parse({"--auth", "digest", "-x", "p:1", "h", "1"})->settings.request.auth ==
          auth_choice::digest);
    CHECK(parse({"--auth", "basic", "-x", "p:1", "h", "1"})->settings.request.auth ==
          auth_choice::basic);
    CHECK(parse({"-x", "p:1", "h", "1"})->settings.request.auth == auth_choice::any);
    auto bad = parse({"--auth", "ntlm", "-x", "p:1", "h", "1"});
    REQUIRE_FALSE(bad);
    CHECK(bad.err().kind == failure::usage);
}

TEST_CASE("--fdpass reads the answer exactly; it excludes --idle-timeout") {
    auto plain = parse({"proxy", "8080", "host", "22"});
    REQUIRE(plain);
    CHECK_FALSE(plain->settings.fdpass);
    CHECK_FALSE(plain->settings.request.exact);

    for (auto args :
         {std::vector<std::string>{"--fdpass", "proxy", "8080", "host", "22"},
          std::vector<std::string>{"-x", "http://proxy:8080", "host", "22", "--fdpass"}}) {
        auto cl = parse(args);
        REQUIRE(cl);
        CHECK(cl->settings.fdpass);
        CHECK(cl->settings.request.exact);
    }

    auto idle = parse({"--fdpass", "-w", "5", "proxy", "8080", "host", "22"});
    REQUIRE_FALSE(idle);
    CHECK(idle.err().kind == failure::usage);
    CHECK(idle.err().message.find("--fdpass") != std::string::npos);
}

TEST_CASE("a chain: -x in order, each hop's own credentials") {
    auto file = temp_auth_file("anyone:fallback-pw\nproxy far.test:8080 carol:carol-pw");
    fake_env env{{{"CORKSCREW_AUTH", "envuser:envpw"}}};
    auto cl = parse({"-x", "near.test:3128", "-x", "https://bob:bob-pw@mid.test", "-x", "far.test",
                     "--auth-file", file, "-H", "X-Token: t", "host", "22"},
                    env);
    ::unlink(file.c_str());
    REQUIRE(cl);
    const auto& hops = cl->settings.path.hops;
    REQUIRE(hops.size() == 3);
    CHECK(hops[0].proxy.host == "near.test");
    CHECK(hops[0].proxy.port == 3128);
    CHECK_FALSE(hops[0].tls);
    CHECK(hops[1].proxy.host == "mid.test");
    CHECK(hops[1].proxy.port == 443);
    CHECK(hops[1].tls);
    CHECK(hops[2].proxy.port == 8080);
    // The auth file's line for any proxy and CORKSCREW_AUTH name no proxy: the nearest only.
    REQUIRE(hops[0].creds);
    CHECK(hops[0].creds->user == "anyone");
    REQUIRE(hops[1].creds);
    CHECK(hops[1].creds->user == "bob");
    REQUIRE(hops[2].creds);
    CHECK(hops[2].creds->user == "carol");
    auto env_only = parse({"-x", "near.test", "-x", "far.test", "host", "22"}, env);
    REQUIRE(env_only);
    REQUIRE(env_only->settings.path.hops[0].creds);
    CHECK(env_only->settings.path.hops[0].creds->user == "envuser");
    CHECK_FALSE(env_only->settings.path.hops[1].creds);
    // Every hop may prompt for its own password.
    CHECK(env_only->settings.path.hops[1].ask);
}

TEST_CASE("the proxy from the environment, no_proxy, --no-env and --require-proxy") {
    SUBCASE("https_proxy gives the one hop, with its credentials") {
        fake_env env{{{"https_proxy", "http://u:pw@envproxy.test:3128"}, {"http_proxy", "x:1"}}};
        auto cl = parse({"host", "22"}, env);
        REQUIRE(cl);
        REQUIRE(cl->settings.path.hops.size() == 1);
        CHECK(cl->settings.path.hops[0].proxy.host == "envproxy.test");
        CHECK(cl->settings.path.hops[0].proxy.port == 3128);
        REQUIRE(cl->settings.path.hops[0].creds);
        CHECK(cl->settings.path.hops[0].creds->user == "u");
        CHECK(cl->settings.route_reason.find("https_proxy") != std::string::npos);
        // The password is in argv of no one, but hide_url_passwords is told the URL anyway.
        CHECK(cl->proxy_args.size() == 1);
    }
    SUBCASE("CORKSCREW_PROXY first; an https:// proxy is TLS on port 443") {
        fake_env env{{{"CORKSCREW_PROXY", "https://secure.test"}, {"https_proxy", "p:1"}}};
        auto cl = parse({"host", "22"}, env);
        REQUIRE(cl);
        REQUIRE(cl->settings.path.hops.size() == 1);
        CHECK(cl->settings.path.hops[0].tls);
        CHECK(cl->settings.path.hops[0].proxy.port == 443);
    }
    SUBCASE("no_proxy matching the destination: direct, saying which entry") {
        fake_env env{{{"https_proxy", "p.test:3128"}, {"no_proxy", "localhost, .corp.example"}}};
        auto cl = parse({"db.corp.example", "22"}, env);
        REQUIRE(cl);
        CHECK(cl->settings.path.hops.empty());
        CHECK(cl->settings.route_reason.find(".corp.example") != std::string::npos);
        auto other = parse({"github.com", "22"}, env);
        REQUIRE(other);
        CHECK(other->settings.path.hops.size() == 1);
        auto required = parse({"--require-proxy", "db.corp.example", "22"}, env);
        REQUIRE_FALSE(required);
        CHECK(required.err().kind == failure::usage);
        CHECK(required.err().message.find(".corp.example") != std::string::npos);
    }
    SUBCASE("no_proxy does not override -x") {
        fake_env env{{{"no_proxy", "*"}}};
        auto cl = parse({"-x", "p.test:3128", "host", "22"}, env);
        REQUIRE(cl);
        CHECK(cl->settings.path.hops.size() == 1);
    }
    SUBCASE("nothing set: direct; --no-env ignores what is set") {
        auto none = parse({"host", "22"});
        REQUIRE(none);
        CHECK(none->settings.path.hops.empty());
        fake_env env{{{"https_proxy", "p.test:3128"}}};
        auto ignored = parse({"--no-env", "host", "22"}, env);
        REQUIRE(ignored);
        CHECK(ignored->settings.path.hops.empty());
        CHECK(ignored->settings.route_reason.find("--no-env") != std::string::npos);
        CHECK_FALSE(parse({"--no-env", "--require-proxy", "host", "22"}, env));
    }
    SUBCASE("a bad proxy variable is a usage error naming it") {
        fake_env env{{{"all_proxy", "socks5://s.test:1080"}}};
        auto cl = parse({"host", "22"}, env);
        REQUIRE_FALSE(cl);
        CHECK(cl.err().kind == failure::usage);
        CHECK(cl.err().message.find("all_proxy") != std::string::npos);
    }
}

TEST_CASE("TLS options: files, --proxy-insecure warns, and they need an https:// proxy") {
    auto cl = parse({"-x", "https://p.test", "--proxy-cacert", "/ca.pem", "--proxy-cert", "/c.pem",
                     "--proxy-key", "/c.key", "host", "22"});
    REQUIRE(cl);
    CHECK(cl->settings.tls.ca_file == "/ca.pem");
    CHECK(cl->settings.tls.cert_file == "/c.pem");
    CHECK(cl->settings.tls.key_file == "/c.key");
    CHECK_FALSE(cl->settings.tls.insecure);
    CHECK(cl->warnings.empty());

    auto insecure = parse({"-x", "https://p.test", "--proxy-insecure", "host", "22"});
    REQUIRE(insecure);
    CHECK(insecure->settings.tls.insecure);
    REQUIRE(insecure->warnings.size() == 1);
    CHECK(insecure->warnings[0].find("--proxy-insecure") != std::string::npos);

    auto plain = parse({"-x", "http://p.test", "--proxy-cacert", "/ca.pem", "host", "22"});
    REQUIRE(plain);
    REQUIRE(plain->warnings.size() == 1);
    CHECK(plain->warnings[0].find("https://") != std::string::npos);

    auto key_alone = parse({"-x", "https://p.test", "--proxy-key", "/c.key", "host", "22"});
    REQUIRE_FALSE(key_alone);
    CHECK(key_alone.err().kind == failure::usage);
}

TEST_CASE("--jump: the gateways, ssh's options, and the route's options for its ProxyCommand") {
    auto cl = parse({"-x", "http://u:pw@p.test:1", "-J", "gw1", "--jump=bob@gw2:2222", "-H",
                     "X-A: b", "--ssh", "/opt/ssh", "--ssh-option", "Port=22", "-4", "host", "22"});
    REQUIRE(cl);
    REQUIRE(cl->settings.jump);
    const auto& j = *cl->settings.jump;
    REQUIRE(j.gateways.size() == 2);
    CHECK(j.gateways[1].user == "bob");
    CHECK(j.ssh == "/opt/ssh");
    CHECK(j.ssh_options == std::vector<std::string>{"Port=22"});
    CHECK(j.proxy_urls == std::vector<std::string>{"http://u:pw@p.test:1"});
    // Sorted by option name; -x is not among them (it goes by the environment).
    CHECK(j.route_args == std::vector<std::string>{"-4", "--header", "X-A: b"});

    CHECK_FALSE(parse({"-J", "gw", "proxy", "3128", "host", "22"}));
    CHECK_FALSE(parse({"--ssh-option", "Port=2", "-x", "p:1", "host", "22"}));
    CHECK_FALSE(parse({"-J", "gw", "--relay", "host", "22"}));
    CHECK_FALSE(parse({"-J", "a b", "host", "22"}));
}

TEST_CASE("--compress: alone, with --relay and with --jump; what it excludes") {
    if (!compression_built()) {
        auto r = parse({"-x", "http://p.test:1", "-z", "host", "22"});
        REQUIRE_FALSE(r);
        CHECK(r.err().kind == failure::usage);
        return;
    }
    auto plain = parse({"-x", "http://p.test:1", "-z", "host", "22"});
    REQUIRE(plain);
    CHECK(plain->settings.compress);
    CHECK_FALSE(plain->settings.jump);

    auto relay = parse({"--relay", "--compress", "host", "22"});
    REQUIRE(relay);
    CHECK(relay->settings.compress);
    CHECK(relay->settings.gateway_relay);

    auto jump = parse({"-x", "http://p.test:1", "-J", "gw", "-z", "--gateway-program", "/opt/c++",
                       "-w", "5", "host", "22"});
    REQUIRE(jump);
    REQUIRE(jump->settings.jump);
    CHECK(jump->settings.jump->compress);
    CHECK(jump->settings.jump->gateway_program == "/opt/c++");
    // The way to the first gateway is not compressed: neither option goes to its corkscrew++.
    CHECK(jump->settings.jump->route_args == std::vector<std::string>{"--idle-timeout", "5"});
    auto default_program = parse({"-J", "gw", "-z", "host", "22"});
    REQUIRE(default_program);
    CHECK(default_program->settings.jump->gateway_program == "corkscrew++");

    for (auto args : std::vector<std::vector<std::string>>{
             {"--compress", "--fdpass", "-x", "http://p.test:1", "host", "22"},
             {"--gateway-program", "/x", "-x", "http://p.test:1", "host", "22"},
             {"-J", "gw", "--gateway-program", "/x", "host", "22"}}) {
        auto r = parse(args);
        REQUIRE_FALSE(r);
        CHECK(r.err().kind == failure::usage);
    }
}

TEST_CASE("-L: each listener's tunnel is what a run to its destination would be") {
    auto cl =
        parse({"-x", "http://u:pw@p.test:3128", "-L", "5432:db:5432", "-L", "[::1]:6379:cache:6379",
               "--max-connections", "7", "--shutdown-grace", "2.5", "-v"});
    REQUIRE(cl);
    REQUIRE(cl->settings.listen);
    const auto& l = *cl->settings.listen;
    CHECK(l.max_connections == 7);
    CHECK(l.shutdown_grace == std::chrono::milliseconds(2500));
    CHECK_FALSE(l.ready_fd);
    REQUIRE(l.listeners.size() == 2);
    const auto& db = *l.listeners[0].tunnel;
    CHECK(l.listeners[0].at.port == 5432);
    CHECK(db.path.destination.host == "db");
    REQUIRE(db.path.hops.size() == 1);
    CHECK(db.path.hops[0].proxy.host == "p.test");
    REQUIRE(db.path.hops[0].creds);
    CHECK(db.path.hops[0].creds->user == "u");
    CHECK(db.verbosity == 1);
    // Many tunnels on one event loop: the portable path, small buffers.
    CHECK(db.relay == relay_path::copy);
    CHECK(db.relay_buffer == listen_buffer_bytes);
    CHECK(l.listeners[1].at.host == "::1");
    CHECK(l.listeners[1].tunnel->path.destination.host == "cache");
    // The password of the URL is still found in argv to be hidden.
    CHECK(cl->proxy_args == std::vector<std::string>{"http://u:pw@p.test:3128"});

    auto shared = parse({"-L", "0", "-L", "unix:/tmp/t.sock", "--no-env", "host", "22"});
    REQUIRE(shared);
    REQUIRE(shared->settings.listen->listeners.size() == 2);
    for (const auto& each : shared->settings.listen->listeners)
        CHECK(authority(each.tunnel->path.destination) == "host:22");
    CHECK(shared->warnings.empty());

    auto open = parse({"-L", "0.0.0.0:0", "--no-env", "host", "22"});
    REQUIRE(open);
    REQUIRE(open->warnings.size() == 1);
    CHECK(open->warnings[0].find("other machines") != std::string::npos);
}

TEST_CASE("-L: usage errors") {
    for (auto args : std::vector<std::vector<std::string>>{
             {"-L", "0"},                           // no destination at all
             {"-L", "0:db:5432", "host", "22"},     // two destinations for one listener
             {"-L", "0", "--relay", "host", "22"},  // excludes --relay
             {"-L", "0", "--fdpass", "host", "22"}, // and --fdpass
             {"-L", "0", "--max-connections", "0", "host", "22"},
             {"-L", "0", "--max-connections", "-3", "host", "22"},
             {"-L", "0", "--ready-fd", "1", "host", "22"}, // stdout is not a ready-fd
             {"-L", "0", "--shutdown-grace", "x", "host", "22"},
             {"--max-connections", "4", "--no-env", "host", "22"}, // only with -L
             {"-L", "0", "-x", "ftp://p", "host", "22"}, // the route is checked per listener
         }) {
        auto r = parse(args);
        CHECK_MESSAGE(!r, std::string(args.front() + " " + args[1]));
        if (!r)
            CHECK(r.err().kind == failure::usage);
    }
}

TEST_CASE("-L: a listener never prompts for a password") {
    fake_env env{{{"HOME", "/nonexistent"}, {"USER", "me"}}};
    auto cl = parse({"-x", "http://bob@p.test:3128", "-L", "0", "host", "22"}, env);
    REQUIRE(cl);
    const auto& h = cl->settings.listen->listeners.at(0).tunnel->path.hops.at(0);
    REQUIRE(h.ask);
    std::string why;
    CHECK_FALSE(h.ask("p.test:3128", h.creds, why));
    CHECK(why.find("no prompt with -L") != std::string::npos);
}
