#include "options.hpp"

#include "log.hpp"
#include "negotiate.hpp"
#include "text.hpp"

#include "auth.hpp"
#include "credential_files.hpp"
#include "prompt.hpp"

#include "argv.hpp"
#include "compress.hpp"
#include "listen.hpp"
#include "platform.hpp"
#include "proxy_env.hpp"
#include "version.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>

namespace corkscrew {

namespace {

constexpr const char* program = "corkscrew++";

// The longest timeout accepted: a day, far past any sensible value, far from overflow.
constexpr double max_timeout_seconds = 86400;

std::string help_epilog() {
    return R"(
Opens a tunnel to DESTHOST:DESTPORT through an HTTP proxy with CONNECT, then copies stdin to the
tunnel and the tunnel to stdout, for use as an OpenSSH ProxyCommand:
    ProxyCommand corkscrew++ -x http://proxy.example:3128 %h %p
    ProxyCommand corkscrew++ proxy.example 3128 %h %p ~/.ssh/proxyauth
With --fdpass and ssh's ProxyUseFdpass, ssh gets the proxy's socket once the tunnel is up and
talks through it itself; corkscrew++ exits and costs nothing per byte:
    ProxyCommand corkscrew++ --fdpass -x http://proxy.example:3128 %h %p
    ProxyUseFdpass yes

Routes: repeat -x for a chain of proxies, the nearest first; each gets only its own
credentials. Without -x (and not in the corkscrew form), the proxy comes from CORKSCREW_PROXY
(a URL or a chain of them, comma-separated), else the first set of https_proxy, HTTPS_PROXY,
all_proxy, ALL_PROXY, http_proxy; when no_proxy/NO_PROXY matches the destination, or none is
set, corkscrew++ connects directly (unless --require-proxy), so one line serves on and off the
proxy's network:
    ProxyCommand corkscrew++ %h %p

Authentication: the strongest scheme both sides speak (Negotiate, Digest, Basic; see --auth).
Negotiate uses your Kerberos ticket (kinit). For the others, the first source with a password
for the proxy wins: the proxy URL's user information, --auth-file or the corkscrew-style
AUTHFILE, CORKSCREW_AUTH (user:password, nearest proxy only), ~/.netrc (or --netrc-file),
and last, when the proxy asks, a prompt on the terminal (or SSH_ASKPASS). Credential files must
be private (chmod 600). A password on the command line can be read by other users in the process
list. With AUTHFILE, Basic credentials are sent with the first request, as corkscrew does;
otherwise only when the proxy asks for them (407). NTLM is not supported: use Negotiate.

Exit status:
    0  the relay ended normally (both directions, the idle timeout, or stdout's reader left),
       or with --fdpass, the tunnel's socket was handed to ssh, or with -L, a signal stopped it
    1  internal error
    2  usage error (bad option, URL, header, host, port or auth file; --fdpass without a
       Unix socket as stdout; no proxy applies with --require-proxy)
    3  cannot resolve or connect to the proxy (or, going directly, the destination)
    4  the proxy refused the CONNECT request (non-2xx answer)
    5  proxy authentication failed
    6  malformed proxy answer (not HTTP, cut short, or headers over 256 KiB)
    7  timed out before the tunnel was up (--connect-timeout)
    8  I/O error after the tunnel was up
    9  --compress: the far end does not compress or speaks another version, or its compressed
       stream is corrupt or cut off
  128+N ended by signal N (129 for SIGHUP, 143 for SIGTERM)
)";
}

result<std::chrono::milliseconds> parse_seconds(const std::string& text, const char* option) {
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value <= 0 ||
        value > max_timeout_seconds)
        return fail(failure::usage, std::string("invalid ") + option + " '" + text +
                                        "' (want seconds, more than 0)");
    // Rounded up to whole milliseconds, so a tiny timeout stays more than 0.
    auto ms = value * 1000;
    auto whole = static_cast<long long>(ms);
    return std::chrono::milliseconds(whole < ms ? whole + 1 : whole);
}

// Every option, in the order --help lists them.
constexpr option_spec option_table[] = {
    {'x', "proxy", "URL",
     "proxy URL: http[s]://[user[:password]@]host[:port] (port 8080 for http, 443 for https); "
     "repeat for a chain of proxies, the nearest first"},
    {0, "auth-file", "FILE",
     "read proxy credentials from FILE (user:password, or lines 'proxy HOST[:PORT] "
     "user:password')"},
    {0, "netrc-file", "FILE", "read proxy credentials from FILE instead of ~/.netrc"},
    {0, "auth", "SCHEME",
     "authentication scheme: basic, digest, negotiate or any (default: any, the strongest "
     "offered)"},
    {'H', "header", "'NAME: VALUE'",
     "add a header to the CONNECT request to the nearest proxy (repeatable)"},
    {'A', "user-agent", "STRING", "User-Agent of the CONNECT request"},
    {0, "connect-timeout", "SEC",
     "give up if the tunnel is not up within SEC seconds (resolve, connect and CONNECT "
     "exchange; default 30)"},
    {'w', "idle-timeout", "SEC",
     "end the relay after SEC seconds without traffic either way (default: never)"},
    {'J', "jump", "[USER@]HOST[:PORT]",
     "reach DESTHOST DESTPORT through this SSH gateway: ssh to it (its ProxyCommand being "
     "corkscrew++ with the other options, so the proxies are crossed) and ssh -W from there; "
     "repeat for several gateways, the nearest first"},
    {0, "ssh", "PROGRAM", "the ssh client that --jump runs (default: ssh)"},
    {0, "ssh-option", "OPTION",
     "an option for that ssh, as its -o takes it (repeatable): --ssh-option "
     "IdentityFile=~/.ssh/gw"},
    {0, "relay", "",
     "on an SSH gateway, in place of nc: connect to DESTHOST DESTPORT directly (or through -x "
     "proxies; the environment's are not used) and relay stdio; exit as soon as the ssh session "
     "that started it goes away"},
    {'z', "compress", "",
     "compress the stream (zstd) between this corkscrew++ and one at the far end: with --jump, "
     "the one it runs on the last gateway; with --relay, stdin/stdout are the compressed side; "
     "otherwise the tunnel is. Pays off for plaintext protocols on slow links, not for ssh "
     "(encrypted data does not compress)"},
    {0, "gateway-program", "PROGRAM",
     "the corkscrew++ that --jump --compress runs on the last gateway (default: corkscrew++)"},
    {'L', "listen", "[ADDR:]PORT",
     "listen on ADDR:PORT (default address 127.0.0.1; port 0: any free one) or on unix:PATH, "
     "and tunnel each connection to DESTHOST DESTPORT through the route; append "
     ":DESTHOST:DESTPORT for a destination of its own (as ssh -L); repeatable; prints "
     "'listening on ...' lines when ready"},
    {0, "max-connections", "N",
     "with -L: at most N open tunnels; past it new connections wait (default 512)"},
    {0, "ready-fd", "N",
     "with -L: also write the 'listening on' lines to descriptor N, then close it"},
    {0, "shutdown-grace", "SEC",
     "with -L: after SIGTERM, SIGINT or SIGHUP, let open tunnels finish for SEC seconds "
     "(default 10)"},
    {0, "probe", "",
     "diagnose instead of relaying: walk the route to DESTHOST DESTPORT, print each step (each "
     "address tried, each proxy's answer, the authentication, the destination's first bytes) "
     "with times, and a verdict with a hint; the exit status is the run's"},
    {0, "json", "", "with --probe: print the report as one JSON document"},
    {0, "fdpass", "",
     "once the tunnel is up, hand its socket to ssh over stdout and exit, for ssh's "
     "ProxyUseFdpass yes (stdout must be a Unix socket)"},
    {0, "proxy-cacert", "FILE",
     "verify https:// proxies with the CA certificates in FILE (PEM) instead of the system's"},
    {0, "proxy-insecure", "",
     "do not verify the certificate of https:// proxies (anyone on the path can read the "
     "tunnel)"},
    {0, "proxy-cert", "FILE", "client certificate (PEM) for https:// proxies that ask for one"},
    {0, "proxy-key", "FILE", "private key (PEM, no passphrase) of --proxy-cert, if not in it"},
    {0, "no-env", "",
     "take no proxy from the environment (CORKSCREW_PROXY, https_proxy, all_proxy, "
     "http_proxy, no_proxy)"},
    {0, "require-proxy", "",
     "fail instead of connecting directly when no proxy applies (none set, or no_proxy "
     "matches)"},
    {'4', "", "", "reach the proxy over IPv4 only"},
    {'6', "", "", "reach the proxy over IPv6 only"},
    {'v', "verbose", "", "say what happens on stderr (-vv: also the request and answer headers)"},
    {'q', "quiet", "", "print errors only, no warnings"},
    {'h', "help", "", "print this help and exit"},
    {'V', "version", "",
     "print the version, the build options and the libraries' versions, and exit"},
};

std::string help_text() {
    return std::string("Tunnel a TCP stream through an HTTP proxy with CONNECT.\n"
                       "Usage:\n"
                       "  corkscrew++ [OPTIONS] [-x URL]... DESTHOST DESTPORT\n"
                       "  corkscrew++ [OPTIONS] PROXYHOST PROXYPORT DESTHOST DESTPORT "
                       "[AUTHFILE]\n"
                       "  corkscrew++ [OPTIONS] -L [ADDR:]PORT[:DESTHOST:DESTPORT]... "
                       "[DESTHOST DESTPORT]\n\n") +
           option_list(option_table) + help_epilog();
}

result<auth_choice> parse_auth_choice(const std::string& text) {
    if (text == "any")
        return auth_choice::any;
    if (text == "basic")
        return auth_choice::basic;
    if (text == "digest")
        return auth_choice::digest;
    if (text == "negotiate") {
        if (!negotiate_available())
            return fail(failure::usage, "--auth negotiate: this build has no GSSAPI (Kerberos)");
        return auth_choice::negotiate;
    }
    return fail(failure::usage,
                "invalid --auth '" + printable(text) + "' (want basic, digest, negotiate or any)");
}

// The credentials for `proxy` from the sources in their documented order; the prompt, last,
// happens only when the proxy asks (see make_prompt).
// Credentials that name no proxy (CORKSCREW_AUTH, an auth file's plain user:password line) are
// for the nearest proxy only: the one a user behind it means, and sending them further would give
// them to a server they were never meant for.
result<std::optional<credentials>> find_credentials(const endpoint_name& proxy,
                                                    const std::optional<credentials>& from_url,
                                                    const std::optional<std::string>& auth_file,
                                                    const std::optional<std::string>& netrc_file,
                                                    const env_lookup& env, bool nearest) {
    if (from_url && from_url->has_password)
        return from_url;
    if (auth_file) {
        auto file = load_auth_file(*auth_file);
        if (!file)
            return file.err();
        if (!nearest)
            file->fallback.reset();
        if (auto c = file->lookup(proxy))
            return c;
    }
    if (auto v = nearest ? env("CORKSCREW_AUTH") : std::nullopt) {
        auto c = parse_credentials(*v, "CORKSCREW_AUTH");
        if (!c)
            return c.err();
        return std::optional<credentials>(*c);
    }
    if (netrc_file) {
        auto c = load_netrc(*netrc_file, proxy.host, true,
                            from_url ? std::string_view(from_url->user) : std::string_view());
        if (!c)
            return c.err();
        if (*c)
            return c;
    }
    return from_url;
}

// The last credential sources, used only once the proxy asks for a password: ~/.netrc (read
// then, so that a netrc unfit for use disturbs no run that does not need it), then a prompt on
// the terminal (or through SSH_ASKPASS) for the password of the user named so far, or of the
// login user.
// A listener (-L) never prompts: the prompt would hold every tunnel's event loop, and come again
// for each connection.
password_source make_late_source(const env_lookup& env, const endpoint_name& proxy_at,
                                 bool netrc_done, logger log, bool may_prompt = true) {
    auto where = prompt_env_from(env);
    auto login = env("USER");
    if (!login || login->empty())
        login = env("LOGNAME");
    std::optional<std::string> netrc;
    if (auto home = env("HOME"); !netrc_done && home && !home->empty())
        netrc = *home + "/.netrc";
    return [where, login, netrc, proxy_at, log,
            may_prompt](const std::string& proxy, const std::optional<credentials>& partial,
                        std::string& why_not) -> std::optional<credentials> {
        if (netrc) {
            auto c = load_netrc(*netrc, proxy_at.host, false,
                                partial ? std::string_view(partial->user) : std::string_view());
            if (!c)
                log.warn("warning: " + c.err().message + " (not used)");
            else if (*c) {
                keep_secrets_out_of_core_dumps();
                return *c;
            }
        }
        if (!may_prompt) {
            why_not = "no prompt with -L (give the password with --auth-file, CORKSCREW_AUTH or "
                      "~/.netrc)";
            return std::nullopt;
        }
        std::string user = partial ? partial->user : login.value_or("");
        if (user.empty()) {
            why_not = "no user name (give one in the proxy URL: http://user@host:port)";
            return std::nullopt;
        }
        auto password =
            ask_password("Password for " + user + " at proxy " + proxy + ": ", where, why_not);
        if (!password)
            return std::nullopt;
        keep_secrets_out_of_core_dumps();
        credentials c{user, std::move(*password), "the prompt"};
        return c;
    };
}

// The words of a list separated by commas and/or whitespace.
std::vector<std::string> split_list(std::string_view text) {
    constexpr std::string_view separators = ", \t\r\n";
    std::vector<std::string> words;
    for (std::size_t at = 0;;) {
        auto start = text.find_first_not_of(separators, at);
        if (start == std::string_view::npos)
            return words;
        at = std::min(text.find_first_of(separators, start), text.size());
        words.emplace_back(text.substr(start, at - start));
    }
}

struct env_choice_value {
    // The proxy URLs parsed, each with its text for hide_url_passwords (none: go direct).
    std::vector<std::pair<proxy_url, std::string>> urls;
    std::string reason; // for -v: which rule chose the route
};
using env_choice = result<env_choice_value>;

// The route the environment gives `destination`: its proxy (proxy_from_env), unless the no_proxy
// list exempts the destination.
env_choice env_route(const endpoint_name& destination, const env_lookup& env) {
    auto proxy = proxy_from_env(env);
    if (!proxy) {
        std::string names;
        for (const char* v : proxy_variables)
            names += (names.empty() ? "" : ", ") + std::string(v);
        return env_choice_value{{},
                                "no proxy in the environment (" + names + "): connecting directly"};
    }
    if (auto list = no_proxy_from_env(env)) {
        if (auto entry = no_proxy_match(list->value, destination.host, destination.port))
            return env_choice_value{{},
                                    list->variable + " entry '" + printable(*entry) + "' matches " +
                                        authority(destination) + ": connecting directly"};
    }
    env_choice_value chosen{{}, "proxy from " + proxy->variable};
    // CORKSCREW_PROXY may hold a chain, the nearest first; the others are one proxy each, as
    // every other program reads them.
    std::vector<std::string> texts;
    if (proxy->variable == "CORKSCREW_PROXY")
        texts = split_list(proxy->value);
    else
        texts.push_back(proxy->value);
    for (auto& text : texts) {
        auto url = parse_proxy_url(text);
        if (!url)
            return fail(failure::usage, proxy->variable + ": " + url.err().message);
        chosen.urls.emplace_back(std::move(*url), std::move(text));
    }
    return chosen;
}

// An option's words as given on the command line ("--proxy", "URL"), for running the same
// options again.
void add_option_words(std::vector<std::string>& words, const std::string& key,
                      const std::vector<std::string>& values) {
    const auto spec = std::find_if(std::begin(option_table), std::end(option_table),
                                   [&](const option_spec& o) { return o.key() == key; });
    const std::string word = spec->long_name.empty() ? "-" + std::string(1, spec->short_name)
                                                     : "--" + std::string(spec->long_name);
    for (const auto& value : values) {
        words.push_back(word);
        if (!spec->value_name.empty())
            words.push_back(value);
    }
}

// The --jump settings: the gateways, and the options for the corkscrew++ that ssh runs to reach
// the first one (all but -x, which goes by the environment, and the jump's own).
result<jump_settings> jump_from(const parsed_argv& opts, const std::vector<std::string>& urls,
                                std::size_t args_given) {
    if (args_given != 2)
        return fail(failure::usage, "--jump takes DESTHOST DESTPORT (give the proxy with -x)");
    if (opts.count("relay") || opts.count("fdpass"))
        return fail(failure::usage, "--jump excludes --relay and --fdpass");
    jump_settings s;
    for (const auto& text : opts.all("jump")) {
        auto g = parse_gateway(text);
        if (!g)
            return g.err();
        s.gateways.push_back(std::move(*g));
    }
    if (opts.count("ssh"))
        s.ssh = *opts.last("ssh");
    s.ssh_options = opts.all("ssh-option");
    if (opts.count("proxy"))
        s.proxy_urls = urls;
    s.compress = opts.count("compress") > 0;
    if (opts.count("gateway-program")) {
        if (!s.compress)
            return fail(failure::usage, "--gateway-program is for --jump --compress");
        s.gateway_program = *opts.last("gateway-program");
    }
    // Compression is between this end and the last gateway, not on the way to the first.
    constexpr std::string_view own[] = {"proxy",      "jump",     "ssh",
                                        "ssh-option", "compress", "gateway-program"};
    for (const auto& [key, values] : opts.options)
        if (std::find(std::begin(own), std::end(own), key) == std::end(own))
            add_option_words(s.route_args, key, values);
    return s;
}

// -L: the listeners, each with the config a run to its destination would have: the command line
// without the listener's own options, and with its destination, is parsed again for each.
result<command_line> listen_from(const parsed_argv& opts, const char* program_name,
                                 const env_lookup& env, command_line cl) {
    for (const char* other : {"relay", "fdpass", "probe"})
        if (opts.count(other))
            return fail(failure::usage, "-L excludes --" + std::string(other));
    listen_settings settings;
    if (opts.count("max-connections")) {
        const auto& text = *opts.last("max-connections");
        char* end = nullptr;
        auto n = std::strtoul(text.c_str(), &end, 10);
        if (text.empty() || *end || n == 0 || n > 1000000 || text[0] == '-')
            return fail(failure::usage,
                        "invalid --max-connections '" + printable(text) + "' (want 1 to 1000000)");
        settings.max_connections = n;
    }
    if (opts.count("ready-fd")) {
        const auto& text = *opts.last("ready-fd");
        char* end = nullptr;
        auto n = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end || n < 3 || n > 65535 || ::fcntl(static_cast<int>(n), F_GETFD) < 0)
            return fail(failure::usage, "invalid --ready-fd '" + printable(text) +
                                            "' (want an open descriptor, 3 or above)");
        settings.ready_fd = static_cast<int>(n);
    }
    if (opts.count("shutdown-grace")) {
        auto t = parse_seconds(*opts.last("shutdown-grace"), "--shutdown-grace");
        if (!t)
            return t.err();
        settings.shutdown_grace = *t;
    }
    std::vector<std::string> shared;
    constexpr std::string_view own[] = {"listen", "max-connections", "ready-fd", "shutdown-grace"};
    for (const auto& [key, values] : opts.options)
        if (std::find(std::begin(own), std::end(own), key) == std::end(own))
            add_option_words(shared, key, values);
    for (const auto& text : opts.all("listen")) {
        auto spec = parse_listen_spec(text);
        if (!spec)
            return spec.err();
        std::vector<std::string> words{program_name};
        words.insert(words.end(), shared.begin(), shared.end());
        if (spec->destination) {
            if (!opts.arguments.empty())
                return fail(failure::usage, "-L '" + printable(text) +
                                                "' names its destination; give no DESTHOST "
                                                "DESTPORT, or give it to every -L");
            words.push_back("--");
            words.push_back(spec->destination->host);
            words.push_back(std::to_string(spec->destination->port));
        } else {
            if (opts.arguments.size() != 2)
                return fail(failure::usage, "-L '" + printable(text) +
                                                "' needs DESTHOST DESTPORT (or "
                                                "-L [ADDR:]PORT:DESTHOST:DESTPORT)");
            words.push_back("--");
            words.insert(words.end(), opts.arguments.begin(), opts.arguments.end());
        }
        std::vector<const char*> argv;
        for (const auto& w : words)
            argv.push_back(w.c_str());
        auto sub = parse_command_line(static_cast<int>(argv.size()), argv.data(), env);
        if (!sub)
            return sub.err();
        if (sub->settings.listen)
            return fail(failure::internal, "-L parsed twice");
        if (settings.listeners.empty()) {
            cl.warnings = sub->warnings;
            cl.proxy_args = sub->proxy_args;
        }
        if (!is_loopback(spec->at))
            cl.warnings.push_back("-L " + text +
                                  ": other machines can connect to this listener, and through "
                                  "it to the destination, with your proxy credentials");
        auto tunnel = std::make_shared<config>(std::move(sub->settings));
        for (auto& h : tunnel->path.hops)
            h.ask = make_late_source(env, h.proxy, opts.count("netrc-file") > 0,
                                     logger(tunnel->verbosity), false);
        // Many tunnels share one event loop: the portable relay path, with small buffers.
        tunnel->relay = relay_path::copy;
        tunnel->relay_buffer = listen_buffer_bytes;
        settings.listeners.push_back({spec->at, std::move(tunnel)});
    }
    cl.settings.listen = std::move(settings);
    return cl;
}

} // namespace

std::optional<std::string> process_env(const char* name) {
    if (const char* v = std::getenv(name))
        return std::string(v);
    return std::nullopt;
}

result<command_line> parse_command_line(int argc, const char* const* argv, const env_lookup& env) {
    auto parsed = parse_argv(option_table, argc, argv);
    if (!parsed)
        return parsed.err();
    const auto& opts = *parsed;

    command_line cl;
    if (opts.count("help")) {
        cl.what = command_line::action::help;
        cl.text = help_text();
        return cl;
    }
    if (opts.count("version")) {
        cl.what = command_line::action::version;
        cl.text = version_text();
        return cl;
    }

    auto& cfg = cl.settings;
    cfg.verbosity = opts.count("quiet") ? -1 : static_cast<int>(opts.count("verbose"));
    if (opts.count("listen"))
        return listen_from(opts, argv[0], env, std::move(cl));
    for (const char* only : {"max-connections", "ready-fd", "shutdown-grace"})
        if (opts.count(only))
            return fail(failure::usage, "--" + std::string(only) + " is for -L");

    std::vector<std::string> args = opts.arguments;
    const std::size_t args_given = args.size();

    // The hops in order, each with the credentials its URL carries.
    std::vector<hop> hops;
    std::vector<std::optional<credentials>> from_url;
    std::optional<std::string> auth_file;
    if (opts.count("auth-file"))
        auth_file = *opts.last("auth-file");

    // On a gateway, the proxy variables of a login environment are not the route the client
    // asked for: --relay goes direct unless -x says otherwise.
    const bool use_env = !opts.count("no-env") && !opts.count("relay");
    if (opts.count("relay")) {
        if (!opts.count("proxy") && args.size() != 2)
            return fail(failure::usage, "with --relay, give DESTHOST DESTPORT (got " +
                                            std::to_string(args.size()) + " arguments)");
        cfg.gateway_relay = true;
    }
    if (opts.count("proxy")) {
        cfg.route_reason = "proxy from -x";
        if (args.size() != 2)
            return fail(failure::usage, "with -x, give DESTHOST DESTPORT (got " +
                                            std::to_string(args.size()) + " arguments)");
        bool password_shown = false;
        for (const auto& text : opts.all("proxy")) {
            cl.proxy_args.push_back(text);
            auto url = parse_proxy_url(text);
            if (!url)
                return url.err();
            hop h;
            h.proxy = url->server;
            h.tls = url->scheme == "https";
            hops.push_back(std::move(h));
            from_url.push_back(url->userinfo);
            password_shown = password_shown || url->password_in_url;
        }
        if (password_shown)
            cl.warnings.push_back("a password on the command line can be read by other users "
                                  "in the process list; prefer --auth-file or CORKSCREW_AUTH");
    } else if (args.size() == 4 || args.size() == 5) {
        // The corkscrew form: PROXYHOST PROXYPORT DESTHOST DESTPORT [AUTHFILE]
        auto host = parse_host(args[0]);
        if (!host)
            return host.err();
        auto port = parse_port(args[1]);
        if (!port)
            return port.err();
        hop h;
        h.proxy = {*host, *port};
        if (args.size() == 5) {
            if (auth_file)
                return fail(failure::usage, "give the auth file either as AUTHFILE or with "
                                            "--auth-file, not both");
            auth_file = args[4];
            h.preemptive_basic = true;
        }
        hops.push_back(std::move(h));
        from_url.emplace_back();
        args.erase(args.begin(), args.begin() + 2);
        args.resize(2);
        cfg.route_reason = "proxy from the command line";
    } else if (args.size() != 2) {
        return fail(failure::usage, "expected DESTHOST DESTPORT with -x, or PROXYHOST "
                                    "PROXYPORT DESTHOST DESTPORT [AUTHFILE]");
    }

    auto dest = parse_destination(args[0], args[1]);
    if (!dest)
        return dest.err();
    cfg.path.destination = *dest;
    if (hops.empty()) {
        // Neither -x nor the corkscrew form: the environment's proxy, unless no_proxy exempts
        // the destination; with none, a direct connection.
        auto chosen =
            use_env ? env_route(cfg.path.destination, env)
                    : env_choice(env_choice_value{{}, "--no-env and no -x: connecting directly"});
        if (!chosen)
            return chosen.err();
        for (auto& [url, text] : chosen->urls) {
            cl.proxy_args.push_back(text);
            hop h;
            h.proxy = url.server;
            h.tls = url.scheme == "https";
            hops.push_back(std::move(h));
            from_url.push_back(url.userinfo);
        }
        cfg.route_reason = chosen->reason;
        if (hops.empty() && opts.count("require-proxy"))
            return fail(failure::usage, "no proxy applies to " + authority(cfg.path.destination) +
                                            " (" + cfg.route_reason +
                                            "), and --require-proxy forbids going direct");
    }

    std::optional<std::string> netrc_file;
    if (opts.count("netrc-file"))
        netrc_file = *opts.last("netrc-file");
    for (std::size_t i = 0; i < hops.size(); ++i) {
        auto& h = hops[i];
        auto creds = find_credentials(h.proxy, from_url[i], auth_file, netrc_file, env, i == 0);
        if (!creds)
            return creds.err();
        h.creds = *creds;
        // corkscrew sends its auth file's credentials with the first request; so does the same
        // form.
        h.preemptive_basic = h.preemptive_basic && h.creds && h.creds->has_password &&
                             h.creds->source.rfind("auth file", 0) == 0;
        h.ask = make_late_source(env, h.proxy, netrc_file.has_value(), logger(cfg.verbosity));
    }
    if (opts.count("auth")) {
        auto choice = parse_auth_choice(*opts.last("auth"));
        if (!choice)
            return choice.err();
        cfg.request.auth = *choice;
    }
    if (auto path = env("CORKSCREW_RELAY")) {
        if (*path == "copy")
            cfg.relay = relay_path::copy;
        else if (*path == "splice" && !CORKSCREW_LINUX)
            return fail(failure::usage,
                        "CORKSCREW_RELAY=splice: this build has the portable relay only");
        else if (*path == "splice")
            cfg.relay = relay_path::splice;
        else if (*path != "auto" && !path->empty())
            return fail(failure::usage, "invalid CORKSCREW_RELAY '" + printable(*path) +
                                            "' (want copy, splice or auto)");
    }
    cfg.path.hops = std::move(hops);

    cfg.request.user_agent = opts.count("user-agent")
                                 ? *opts.last("user-agent")
                                 : std::string(program) + "/" + CORKSCREW_VERSION;
    if (auto h = parse_header_option("User-Agent: " + cfg.request.user_agent); !h)
        return fail(failure::usage, "invalid user agent: control characters are not allowed");
    if (opts.count("header")) {
        for (const auto& text : opts.all("header")) {
            auto h = parse_header_option(text);
            if (!h)
                return h.err();
            cfg.request.extra_headers.push_back(*h);
        }
    }

    if (opts.count("connect-timeout")) {
        auto t = parse_seconds(*opts.last("connect-timeout"), "--connect-timeout");
        if (!t)
            return t.err();
        cfg.connect_timeout = *t;
    }
    if (opts.count("idle-timeout")) {
        auto t = parse_seconds(*opts.last("idle-timeout"), "--idle-timeout");
        if (!t)
            return t.err();
        cfg.idle_timeout = *t;
    }
    if (opts.count("jump")) {
        auto jump = jump_from(opts, cl.proxy_args, args_given);
        if (!jump)
            return jump.err();
        cfg.jump = std::move(*jump);
    } else if (opts.count("ssh") || opts.count("ssh-option") || opts.count("gateway-program")) {
        return fail(failure::usage, "--ssh, --ssh-option and --gateway-program are for --jump");
    }
    if (opts.count("compress")) {
        if (!compression_built())
            return fail(failure::usage, "--compress: this build has no zstd");
        if (opts.count("fdpass"))
            return fail(failure::usage, "--compress and --fdpass exclude each other: with "
                                        "--fdpass, ssh talks to the proxy itself");
        cfg.compress = true;
    }
    if (opts.count("json") && !opts.count("probe"))
        return fail(failure::usage, "--json is for --probe");
    if (opts.count("probe")) {
        for (const char* other : {"relay", "fdpass", "jump", "compress"})
            if (opts.count(other))
                return fail(failure::usage, "--probe excludes --" + std::string(other));
        cfg.probe = true;
        cfg.json = opts.count("json") > 0;
    }
    if (opts.count("fdpass") && cfg.gateway_relay)
        return fail(failure::usage, "--fdpass and --relay exclude each other");
    if (opts.count("fdpass")) {
        if (cfg.idle_timeout)
            return fail(failure::usage, "--idle-timeout does not apply with --fdpass: ssh talks "
                                        "to the proxy itself, and corkscrew++ is gone");
        for (const auto& h : cfg.path.hops)
            if (h.tls)
                return fail(failure::usage,
                            "--fdpass cannot hand over a TLS session: proxy " + authority(h.proxy) +
                                " is https://, and ssh would get encrypted bytes it cannot read");
        cfg.fdpass = true;
        // Not a byte of the tunnel may be taken before its socket is handed on.
        cfg.request.exact = true;
    }
    if (opts.count("proxy-cacert"))
        cfg.tls.ca_file = *opts.last("proxy-cacert");
    if (opts.count("proxy-cert"))
        cfg.tls.cert_file = *opts.last("proxy-cert");
    if (opts.count("proxy-key")) {
        if (!cfg.tls.cert_file)
            return fail(failure::usage, "--proxy-key needs --proxy-cert");
        cfg.tls.key_file = *opts.last("proxy-key");
    }
    cfg.tls.insecure = opts.count("proxy-insecure") > 0;
    const bool any_tls =
        std::any_of(cfg.path.hops.begin(), cfg.path.hops.end(), [](const hop& h) { return h.tls; });
    if (cfg.tls.insecure && any_tls)
        cl.warnings.push_back("--proxy-insecure: the https:// proxy's certificate is not "
                              "checked; anyone on the path can read and change the tunnel");
    if (!any_tls && (cfg.tls.ca_file || cfg.tls.cert_file || cfg.tls.insecure))
        cl.warnings.push_back("--proxy-cacert, --proxy-cert and --proxy-insecure apply "
                              "to https:// proxies only, and the route has none");
    if (opts.count("4") && opts.count("6"))
        return fail(failure::usage, "-4 and -6 exclude each other");
    cfg.family = opts.count("4") ? ip_family::v4 : opts.count("6") ? ip_family::v6 : ip_family::any;
    return cl;
}

void hide_url_passwords(int argc, char** argv, const std::vector<std::string>& urls) {
    for (const auto& url : urls) {
        auto span = url_password_span(url);
        if (!span)
            continue;
        for (int i = 1; i < argc; ++i) {
            std::string_view arg = argv[i];
            if (arg.size() < url.size() || arg.substr(arg.size() - url.size()) != url)
                continue;
            auto start = arg.size() - url.size() + span->first;
            for (auto k = start; k < start + span->second; ++k)
                argv[i][k] = '*';
        }
    }
}

} // namespace corkscrew
