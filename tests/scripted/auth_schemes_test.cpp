// Proxy authentication beyond the plain Basic retry, against a scripted proxy that checks the
// answers itself: Digest responses are recomputed here (with OpenSSL's hashes, never the
// program's own Digest code) from the Authorization header's own nonce, nc and cnonce and the
// known password, and only a right one opens the tunnel. Also: the choice among offered
// schemes, stale nonces and bounded retries, malformed challenges, Negotiate without a Kerberos
// ticket, where credentials come from and in which order, the password prompt (none without a
// terminal, SSH_ASKPASS, a pseudo-terminal), and that no secret reaches stderr at -vvv.
#include "harness.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace corkscrew_test;
using namespace std::chrono_literals;

namespace {

// ---- The test's own oracle: hashes, header parsing, Digest --------------------------------

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return lower(std::string(a)) == lower(std::string(b));
}

// The hash a Digest algorithm name stands for ("SHA-256-sess" -> "SHA-256"; none -> "MD5").
std::string base_hash(std::string_view algorithm) {
    std::string name = lower(std::string(algorithm.empty() ? "MD5" : algorithm));
    if (name.ends_with("-sess")) {
        name.resize(name.size() - 5);
    }
    return name;
}

bool is_session_algorithm(std::string_view algorithm) {
    return lower(std::string(algorithm)).ends_with("-sess");
}

// Lower-case hex of the hash of `data`; "" for a hash this oracle does not know.
std::string hash_hex(std::string_view algorithm, std::string_view data) {
    const std::string name = base_hash(algorithm);
    const EVP_MD* md = name == "md5"           ? EVP_md5()
                       : name == "sha-256"     ? EVP_sha256()
                       : name == "sha-512-256" ? EVP_sha512_256()
                                               : nullptr;
    if (md == nullptr) {
        return "";
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < size; ++i) {
        hex += digits[out[i] >> 4];
        hex += digits[out[i] & 15];
    }
    return hex;
}

std::optional<std::string> base64_decode(std::string_view text) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        const auto v = alphabet.find(c);
        if (v == std::string_view::npos) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::string basic(std::string_view user, std::string_view password) {
    return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

using digest_fields = std::map<std::string, std::string>;

// The auth-params of a `Digest name=token, name="quoted"` value, names in lower case; nullopt
// unless the value is exactly that (each name once, quotes closed).
std::optional<digest_fields> parse_digest_authorization(std::string_view value) {
    constexpr std::string_view scheme = "digest ";
    if (value.size() < scheme.size() || !iequals(value.substr(0, scheme.size()), scheme)) {
        return std::nullopt;
    }
    std::size_t i = scheme.size();
    const auto skip_blanks = [&] {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) {
            ++i;
        }
    };
    digest_fields fields;
    for (;;) {
        skip_blanks();
        const std::size_t name_start = i;
        while (i < value.size() && is_tchar(value[i])) {
            ++i;
        }
        if (i == name_start) {
            return std::nullopt;
        }
        std::string name = lower(std::string(value.substr(name_start, i - name_start)));
        skip_blanks();
        if (i >= value.size() || value[i] != '=') {
            return std::nullopt;
        }
        ++i;
        skip_blanks();
        std::string v;
        if (i < value.size() && value[i] == '"') {
            ++i;
            bool closed = false;
            while (i < value.size()) {
                char c = value[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (i >= value.size()) {
                        return std::nullopt;
                    }
                    c = value[i++];
                }
                v += c;
            }
            if (!closed) {
                return std::nullopt;
            }
        } else {
            const std::size_t start = i;
            while (i < value.size() && is_tchar(value[i])) {
                ++i;
            }
            if (i == start) {
                return std::nullopt;
            }
            v = std::string(value.substr(start, i - start));
        }
        if (!fields.emplace(std::move(name), std::move(v)).second) {
            return std::nullopt;
        }
        skip_blanks();
        if (i == value.size()) {
            return fields;
        }
        if (value[i] != ',') {
            return std::nullopt;
        }
        ++i;
    }
}

// What the proxy asked for, and the password it knows.
struct digest_expectation {
    std::string user;
    std::string password;
    std::string realm;
    std::string nonce;
    std::string algorithm; // as the challenge named it; "" when it named none (MD5)
    bool qop = true;       // the challenge offered qop="auth"
    std::string opaque;    // "" when the challenge had none
};

// H(A1) of RFC 7616 section 3.4.2 (for -sess, over the given nonce and cnonce).
std::string digest_ha1(const digest_expectation& e, const std::string& cnonce) {
    std::string ha1 = hash_hex(e.algorithm, e.user + ":" + e.realm + ":" + e.password);
    if (is_session_algorithm(e.algorithm)) {
        ha1 = hash_hex(e.algorithm, ha1 + ":" + e.nonce + ":" + cnonce);
    }
    return ha1;
}

// The response of RFC 7616 section 3.4.1 for `method` and `uri`; without qop, RFC 2069's
// H(HA1:nonce:HA2).
std::string digest_response(const digest_expectation& e, const std::string& method,
                            const std::string& uri, const std::string& nc,
                            const std::string& cnonce) {
    const std::string ha1 = digest_ha1(e, cnonce);
    const std::string ha2 = hash_hex(e.algorithm, method + ":" + uri);
    return e.qop ? hash_hex(e.algorithm,
                            ha1 + ":" + e.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
                 : hash_hex(e.algorithm, ha1 + ":" + e.nonce + ":" + ha2);
}

bool is_nc(const std::string& nc) {
    return nc.size() == 8 && std::all_of(nc.begin(), nc.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
           });
}

// "" when `f` is the right answer to the challenge `e` for CONNECT to `dest`, else what is
// wrong with it. The response is recomputed from f's own cnonce and nc.
std::string check_digest(const digest_fields& f, const digest_expectation& e) {
    const auto get = [&](const char* name) -> std::optional<std::string> {
        const auto it = f.find(name);
        return it == f.end() ? std::nullopt : std::optional(it->second);
    };
    if (get("username") != e.user) {
        return "username is not " + e.user;
    }
    if (get("realm") != e.realm) {
        return "realm is not " + e.realm;
    }
    if (get("nonce") != e.nonce) {
        return "nonce is not the one issued last, " + e.nonce;
    }
    if (get("uri") != std::string(dest)) {
        return "uri is not " + std::string(dest);
    }
    const std::string algorithm = e.algorithm.empty() ? "MD5" : e.algorithm;
    if (const auto a = get("algorithm"); a ? !iequals(*a, algorithm) : !e.algorithm.empty()) {
        return "algorithm is not " + algorithm;
    }
    if (get("opaque") != (e.opaque.empty() ? std::nullopt : std::optional(e.opaque))) {
        return "opaque not echoed as sent";
    }
    const std::string cnonce = get("cnonce").value_or("");
    if (e.qop) {
        if (get("qop") != "auth") {
            return "qop is not auth";
        }
        if (!is_nc(get("nc").value_or(""))) {
            return "nc is not 8 lower-case hex digits";
        }
        if (cnonce.empty()) {
            return "no cnonce";
        }
    } else if (get("qop") || get("nc") || get("cnonce")) {
        return "qop, nc or cnonce in answer to a challenge without qop";
    }
    if (hash_hex(e.algorithm, "").empty()) {
        return "algorithm " + algorithm + " unknown to the test";
    }
    const std::string expected =
        digest_response(e, "CONNECT", std::string(dest), get("nc").value_or(""), cnonce);
    if (get("response") != expected) {
        return "response is not " + expected;
    }
    return "";
}

// ---- A proxy that checks Basic and Digest answers ------------------------------------------

std::string field(std::string_view value) {
    return "Proxy-Authenticate: " + std::string(value) + "\r\n";
}

const std::string basic_challenge = "Basic realm=\"scripted\"";

// The Proxy-Authenticate fields of a 407, around its Digest challenge.
using field_layout = std::function<std::string(const std::string& digest)>;

const field_layout digest_only = [](const std::string& d) { return field(d); };
const field_layout basic_only = [](const std::string&) { return field(basic_challenge); };
const field_layout basic_digest_one_field = [](const std::string& d) {
    return field(basic_challenge + ", " + d);
};
const field_layout digest_basic_one_field = [](const std::string& d) {
    return field(d + ", " + basic_challenge);
};
const field_layout basic_digest_two_fields = [](const std::string& d) {
    return field(basic_challenge) + field(d);
};
const field_layout digest_basic_two_fields = [](const std::string& d) {
    return field(d) + field(basic_challenge);
};

struct auth_proxy_config {
    std::string user = "alice";
    std::string password = "s3cr3t-Pa55";
    std::string realm = "scripted@proxy.example";
    std::string algorithm; // the Digest challenge's algorithm; none (MD5) when empty
    bool qop = true;
    std::string opaque = "0paque-5tring";
    bool accept_basic = true;  // the right Basic answer opens the tunnel
    bool accept_digest = true; // the right Digest answer opens the tunnel
    int stale_answers = 0;     // right Digest answers met with stale=true first
    bool always_stale = false; // every Digest answer met with stale=true, right or not
    field_layout fields = digest_only;
};

struct seen_request {
    std::size_t connection = 0;
    std::string authorization; // "" when none
    std::string scheme;        // of the authorization: "Basic", "Digest", ...
    std::string basic_user;    // the user of a Basic answer
    digest_fields digest;      // the params of a Digest answer
    digest_expectation expected;
    std::string verdict; // "" when the answer was right, else why not
    std::string answer;  // "200", "407", "407 stale"
};

class auth_proxy {
public:
    explicit auth_proxy(auth_proxy_config config)
        : state_(std::make_shared<state>(std::move(config))), proxy_(handler(state_)) {}

    const scripted_proxy& proxy() const { return proxy_; }
    scripted_proxy& proxy() { return proxy_; }
    std::string host_port() const { return proxy_.host_port(); }
    std::uint16_t port() const { return proxy_.port(); }

    std::vector<seen_request> seen() const {
        const std::lock_guard lock(state_->mutex);
        return state_->seen;
    }

    // Requests that carried an authorization of `scheme`.
    std::size_t count(std::string_view scheme) const {
        const auto all = seen();
        return static_cast<std::size_t>(std::count_if(
            all.begin(), all.end(), [&](const seen_request& s) { return s.scheme == scheme; }));
    }

    // The first request with any authorization, if there was one.
    std::optional<seen_request> first_with_credentials() const {
        for (const auto& s : seen()) {
            if (!s.authorization.empty()) {
                return s;
            }
        }
        return std::nullopt;
    }

private:
    struct state {
        explicit state(auth_proxy_config c) : config(std::move(c)) {}
        std::mutex mutex;
        auth_proxy_config config;
        std::string nonce;
        int issued = 0;
        int stale_left = config.stale_answers;
        std::vector<seen_request> seen;

        digest_expectation expectation(const std::string& password) const {
            return {config.user,      password,   config.realm, nonce,
                    config.algorithm, config.qop, config.opaque};
        }

        // A 407 with a fresh nonce (under the lock).
        std::string challenge(bool stale) {
            ++issued;
            nonce = "n" + std::to_string(issued) + "-" + hash_hex("MD5", std::to_string(issued));
            std::string d = "Digest realm=\"" + config.realm + "\", nonce=\"" + nonce + "\"";
            if (config.qop) {
                d += ", qop=\"auth\"";
            }
            if (!config.opaque.empty()) {
                d += ", opaque=\"" + config.opaque + "\"";
            }
            if (!config.algorithm.empty()) {
                d += ", algorithm=" + config.algorithm;
            }
            if (stale) {
                d += ", stale=true";
            }
            return "HTTP/1.1 407 Proxy Authentication Required\r\n" + config.fields(d) +
                   "Content-Length: 0\r\n\r\n";
        }
    };

    static connection_handler handler(std::shared_ptr<state> st) {
        return [st](proxy_connection& c) {
            while (const auto head = c.read_request()) {
                const auto values = parse_request_head(*head).values("Proxy-Authorization");
                seen_request s;
                s.connection = c.index();
                std::string reply;
                {
                    const std::lock_guard lock(st->mutex);
                    s.expected = st->expectation(st->config.password);
                    bool open = false;
                    bool stale = false;
                    if (values.size() > 1) {
                        s.verdict = "several Proxy-Authorization fields";
                    } else if (values.size() == 1) {
                        s.authorization = values[0];
                        s.scheme = s.authorization.substr(0, s.authorization.find(' '));
                        if (s.scheme == "Basic") {
                            const auto decoded =
                                base64_decode(s.authorization.substr(s.scheme.size() + 1));
                            s.basic_user = decoded ? decoded->substr(0, decoded->find(':')) : "";
                            const bool right =
                                s.authorization == basic(st->config.user, st->config.password);
                            s.verdict = right ? "" : "wrong Basic credentials";
                            open = right && st->config.accept_basic;
                        } else if (s.scheme == "Digest") {
                            const auto fields = parse_digest_authorization(s.authorization);
                            s.digest = fields.value_or(digest_fields{});
                            s.verdict = fields ? check_digest(*fields, s.expected)
                                               : "not a well-formed Digest answer";
                            if (st->config.always_stale ||
                                (s.verdict.empty() && st->stale_left > 0)) {
                                --st->stale_left;
                                stale = true;
                            } else {
                                open = s.verdict.empty() && st->config.accept_digest;
                            }
                        } else {
                            s.verdict = "unexpected scheme";
                        }
                    }
                    s.answer = open ? "200" : stale ? "407 stale" : "407";
                    if (!open) {
                        reply = st->challenge(stale);
                    }
                    st->seen.push_back(s);
                }
                if (reply.empty()) {
                    c.play({{{std::string(established) + std::string(banner)}}, then_do::sink});
                    return;
                }
                c.send(reply);
            }
        };
    }

    std::shared_ptr<state> state_;
    scripted_proxy proxy_;
};

// A Digest parameter of a request the proxy saw, "(absent)" when it had none.
std::string param(const seen_request& s, const std::string& name) {
    const auto it = s.digest.find(name);
    return it == s.digest.end() ? "(absent)" : it->second;
}

// Requests that carried any Proxy-Authorization.
std::size_t count_with_credentials(const std::vector<std::string>& requests) {
    return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [](auto& r) {
        return !parse_request_head(r).values("Proxy-Authorization").empty();
    }));
}

// A proxy that answers every request with the same 407.
connection_handler always_407(std::string fields) {
    return [fields = std::move(fields)](proxy_connection& c) {
        while (c.read_request()) {
            c.send("HTTP/1.1 407 Proxy Authentication Required\r\n" + fields +
                   "Content-Length: 0\r\n\r\n");
        }
    };
}

// ---- The child's environment ---------------------------------------------------------------

// An environment that depends on nothing of the developer's: an empty home (no ~/.netrc), a
// known login name, no askpass program, no display, no Kerberos ticket or configuration.
struct isolated {
    temp_dir home;
    temp_dir other; // for files that must not be in the home directory
    std::string krb5_config = other.write("krb5.conf", "");

    spawn_options apply(spawn_options o, std::string login = "alice") const {
        const std::vector<std::pair<std::string, std::string>> vars = {
            {"HOME", home.path()},
            {"USER", login},
            {"LOGNAME", login},
            {"SSH_ASKPASS", ""},
            {"SSH_ASKPASS_REQUIRE", ""},
            {"DISPLAY", ""},
            {"WAYLAND_DISPLAY", ""},
            {"KRB5CCNAME", "FILE:/nonexistent/ccache"},
            {"KRB5_CONFIG", krb5_config},
            {"KRB5_KTNAME", "FILE:/nonexistent/keytab"},
            {"KRB5_CLIENT_KTNAME", "FILE:/nonexistent/keytab"},
        };
        for (const auto& [name, value] : vars) {
            const bool set = std::any_of(o.env.begin(), o.env.end(),
                                         [&](const auto& kv) { return kv.first == name; });
            if (!set) {
                o.env.emplace_back(name, value);
            }
        }
        return o;
    }
};

std::string last_line(const std::string& text) {
    const std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
    const auto newline = trimmed.rfind('\n');
    return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

bool has_control_characters(const std::string& text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return c != '\n' && (u < 0x20 || u == 0x7f);
    });
}

// The secrets of user:password that must never be shown: the password, the Basic token, and
// the Digest H(A1) with each hash.
std::vector<std::string> secrets_of(const std::string& user, const std::string& password,
                                    const std::string& realm) {
    return {password, base64_encode(user + ":" + password),
            hash_hex("MD5", user + ":" + realm + ":" + password),
            hash_hex("SHA-256", user + ":" + realm + ":" + password)};
}

void check_no_secret(const std::string& err, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        CAPTURE(secret);
        CHECK(err.find(secret) == std::string::npos);
    }
}

} // namespace

TEST_SUITE_BEGIN("auth schemes" * doctest::timeout(60));

TEST_CASE("the test's own Digest oracle reproduces the RFCs' examples") {
    // RFC 7616 section 3.9.1, MD5 and SHA-256.
    digest_expectation e{"Mufasa",
                         "Circle of Life",
                         "http-auth@example.org",
                         "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                         "MD5",
                         true,
                         ""};
    const std::string cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    CHECK(digest_response(e, "GET", "/dir/index.html", "00000001", cnonce) ==
          "8ca523f5e9506fed4657c9700eebdbec");
    e.algorithm = "SHA-256";
    CHECK(digest_response(e, "GET", "/dir/index.html", "00000001", cnonce) ==
          "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    // RFC 2617 section 3.5, no algorithm named (MD5).
    const digest_expectation old{"Mufasa",
                                 "Circle Of Life",
                                 "testrealm@host.com",
                                 "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                 "",
                                 true,
                                 ""};
    CHECK(digest_response(old, "GET", "/dir/index.html", "00000001", "0a4f113b") ==
          "6629fae49393a05397450978507c4ef1");
    // The parser reads back what a client sends.
    const auto fields = parse_digest_authorization(
        "Digest username=\"Mu\\\"fasa\", realm=\"r\", nc=00000001 ,qop=auth, uri=\"h:1\"");
    REQUIRE(fields);
    CHECK(fields->at("username") == "Mu\"fasa");
    CHECK(fields->at("nc") == "00000001");
    CHECK(fields->at("qop") == "auth");
    CHECK(fields->at("uri") == "h:1");
    CHECK_FALSE(parse_digest_authorization("Digest realm=\"r"));
    CHECK_FALSE(parse_digest_authorization("Digest realm=\"r\", realm=\"s\""));
    CHECK_FALSE(parse_digest_authorization("Basic dXNlcjpwYXNz"));
}

// ---- 1. Scheme choice --------------------------------------------------------------------

TEST_CASE("Basic and Digest offered: the retry uses Digest, which the proxy verifies") {
    field_layout layout;
    std::string shape;
    SUBCASE("one field, Basic first") {
        layout = basic_digest_one_field;
        shape = "one field, Basic first";
    }
    SUBCASE("one field, Digest first") {
        layout = digest_basic_one_field;
        shape = "one field, Digest first";
    }
    SUBCASE("two fields, Basic first") {
        layout = basic_digest_two_fields;
        shape = "two fields, Basic first";
    }
    SUBCASE("two fields, Digest first") {
        layout = digest_basic_two_fields;
        shape = "two fields, Digest first";
    }
    CAPTURE(shape);
    const isolated env;
    auth_proxy_config config;
    config.fields = layout;
    auth_proxy proxy(config);
    const temp_file auth_file(config.user + ":" + config.password + "\n");
    const auto r = run_until_delivered(
        env.apply(modern_form(proxy_url(proxy.proxy()), {"--auth-file", auth_file.path()})),
        banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(seen[1].scheme == "Digest");
    CHECK(seen[1].verdict == "");
    CHECK(seen[1].answer == "200");
    CHECK(proxy.count("Basic") == 0);
}

TEST_CASE("Basic and Digest offered, --auth basic: the retry uses Basic") {
    field_layout layout;
    SUBCASE("one field") {
        layout = digest_basic_one_field;
    }
    SUBCASE("two fields") {
        layout = digest_basic_two_fields;
    }
    const isolated env;
    auth_proxy_config config;
    config.fields = layout;
    auth_proxy proxy(config);
    const temp_file auth_file(config.user + ":" + config.password + "\n");
    const auto r = run_until_delivered(
        env.apply(modern_form(proxy_url(proxy.proxy()),
                              {"--auth", "basic", "--auth-file", auth_file.path()})),
        banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(seen[1].authorization == basic(config.user, config.password));
    CHECK(proxy.count("Digest") == 0);
}

// ---- 2. Digest parameters ----------------------------------------------------------------

TEST_CASE("Digest with qop=auth: nc 00000001, uri the CONNECT authority, a fresh cnonce") {
    std::vector<std::string> cnonces;
    for (int run_number = 0; run_number < 2; ++run_number) {
        CAPTURE(run_number);
        const isolated env;
        auth_proxy proxy(auth_proxy_config{});
        auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
        options.env.emplace_back("CORKSCREW_AUTH", "alice:s3cr3t-Pa55");
        const auto r = run_until_delivered(options, banner.size());
        INFO(context(r));
        CHECK(r.status.code == exit_code::ok);
        CHECK(r.out == banner);
        const auto seen = proxy.seen();
        REQUIRE(seen.size() == 2);
        REQUIRE(seen[1].scheme == "Digest");
        CHECK(seen[1].verdict == "");
        const auto& d = seen[1].digest;
        CHECK(param(seen[1], "nc") == "00000001");
        CHECK(param(seen[1], "uri") == "target.example:22");
        CHECK(param(seen[1], "qop") == "auth");
        REQUIRE(d.count("cnonce") == 1);
        CHECK_FALSE(d.at("cnonce").empty());
        cnonces.push_back(d.at("cnonce"));
    }
    REQUIRE(cnonces.size() == 2);
    CHECK(cnonces[0] != cnonces[1]);
}

TEST_CASE("Digest without qop (RFC 2069): no qop, nc or cnonce, response = H(HA1:nonce:HA2)") {
    const isolated env;
    auth_proxy_config config;
    config.qop = false;
    std::string opaque;
    SUBCASE("with opaque") {
        opaque = config.opaque;
    }
    SUBCASE("without opaque") {
        config.opaque = "";
    }
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    REQUIRE(seen[1].scheme == "Digest");
    CAPTURE(seen[1].authorization);
    CHECK(seen[1].verdict == "");
    const auto& d = seen[1].digest;
    CHECK(d.count("qop") == 0);
    CHECK(d.count("nc") == 0);
    CHECK(d.count("cnonce") == 0);
    CHECK(d.count("opaque") == (opaque.empty() ? 0 : 1));
}

// ---- 3. Stale nonces and bounded retries -------------------------------------------------

TEST_CASE("stale=true: the response is recomputed with the new nonce, not counted as a try") {
    int stale_answers = 1;
    SUBCASE("one stale answer") {
        stale_answers = 1;
    }
    SUBCASE("three stale answers: more than the tries allowed if each counted") {
        stale_answers = 3;
    }
    CAPTURE(stale_answers);
    const isolated env;
    auth_proxy_config config;
    config.stale_answers = stale_answers;
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == static_cast<std::size_t>(2 + stale_answers));
    std::set<std::string> nonces;
    for (std::size_t i = 1; i < seen.size(); ++i) {
        CAPTURE(i);
        CAPTURE(seen[i].authorization);
        REQUIRE(seen[i].scheme == "Digest");
        // Each answer is right for the nonce issued just before it.
        CHECK(seen[i].verdict == "");
        CHECK(param(seen[i], "nc") == "00000001");
        nonces.insert(param(seen[i], "nonce"));
        CHECK(seen[i].answer == (i + 1 < seen.size() ? "407 stale" : "200"));
    }
    CHECK(nonces.size() == seen.size() - 1);
}

TEST_CASE("a Digest proxy that always refuses: 3 tries, each right for its nonce, exit 5") {
    const isolated env;
    auth_proxy_config config;
    config.password = "the-proxy-knows-another";
    auth_proxy proxy(config);
    const std::string password = "wr0ng-Pa55";
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + password);
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    CHECK(proxy.count("Digest") <= 3);
    CHECK(proxy.count("Digest") == 3);
    for (const auto& s : proxy.seen()) {
        if (s.scheme != "Digest") {
            continue;
        }
        CAPTURE(s.authorization);
        // Refused only for the password: the same answer with the client's password is right.
        auto with_client_password = s.expected;
        with_client_password.password = password;
        CHECK(check_digest(s.digest, with_client_password) == "");
    }
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest)}));
}

TEST_CASE("a Digest proxy that calls every nonce stale: a bounded number of tries, exit 5") {
    const isolated env;
    auth_proxy_config config;
    config.always_stale = true;
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK_FALSE(r.status.timed_out);
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    const auto seen = proxy.seen();
    CHECK(seen.size() <= 10);
    CHECK(proxy.count("Digest") >= 3);
    for (const auto& s : seen) {
        if (s.scheme == "Digest") {
            CAPTURE(s.authorization);
            CHECK(s.verdict == "");
        }
    }
    CHECK(mentions_all(last_line(r.err), {"corkscrew++: ", proxy.host_port()}));
}

// ---- 4. Algorithms -----------------------------------------------------------------------

TEST_CASE("Digest algorithms: the proxy verifies the answer to each") {
    std::string algorithm;
    SUBCASE("MD5 named") {
        algorithm = "MD5";
    }
    SUBCASE("MD5-sess") {
        algorithm = "MD5-sess";
    }
    SUBCASE("SHA-256") {
        algorithm = "SHA-256";
    }
    SUBCASE("SHA-256-sess") {
        algorithm = "SHA-256-sess";
    }
    SUBCASE("SHA-512-256") {
        algorithm = "SHA-512-256";
    }
    SUBCASE("SHA-512-256-sess") {
        algorithm = "SHA-512-256-sess";
    }
    CAPTURE(algorithm);
    const isolated env;
    auth_proxy_config config;
    config.algorithm = algorithm;
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CAPTURE(seen[1].authorization);
    CHECK(seen[1].scheme == "Digest");
    CHECK(seen[1].verdict == "");
}

TEST_CASE("Digest with an unsupported algorithm (SHA-1), nothing else offered: exit 5") {
    const isolated env;
    auth_proxy_config config;
    config.algorithm = "SHA-1";
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    CHECK(proxy.seen().size() == 1);
    CHECK(proxy.count("Digest") == 0);
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), std::string(dest), "SHA-1"}));
}

// ---- 5. Malformed challenges -------------------------------------------------------------

TEST_CASE("a malformed challenge: exit 5, one clean line naming the proxy and the offer") {
    std::string value;
    std::string shown; // what the message must quote from the offer
    SUBCASE("unterminated quoted string") {
        value = "Digest realm=\"unterminated";
        shown = "realm=";
    }
    SUBCASE("only equals signs") {
        value = "=====";
        shown = "=====";
    }
    SUBCASE("Digest without a nonce") {
        value = "Digest realm=\"r\", qop=\"auth\"";
        shown = "Digest";
    }
    SUBCASE("Digest whose qop list lacks auth") {
        value = "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"";
        shown = "auth-int";
    }
    SUBCASE("a parameter without a value") {
        value = "Digest realm=\"r\", nonce";
        shown = "Digest";
    }
    SUBCASE("a backslash at the very end") {
        value = "Digest realm=\"r\\";
        shown = "Digest";
    }
    SUBCASE("a missing comma between parameters") {
        value = "Digest realm=\"r\" nonce=\"n\"";
        shown = "Digest";
    }
    SUBCASE("empty parameter values") {
        value = "Digest realm=, nonce=";
        shown = "Digest";
    }
    SUBCASE("a lone comma and a quote") {
        value = ", \"";
        shown = "\"";
    }
    CAPTURE(value);
    const isolated env;
    scripted_proxy proxy(always_407(field(value)));
    auto options = env.apply(modern_form(proxy_url(proxy)));
    options.env.emplace_back("CORKSCREW_AUTH", "alice:s3cr3t-Pa55");
    const auto r = run(options, {}, run_limit);
    INFO(context(r));
    CHECK(r.status.exited);
    CHECK_FALSE(r.status.core_dumped);
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK_FALSE(has_control_characters(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), shown}));
    CHECK(count_with_credentials(proxy.all_requests()) == 0);
}

// ---- 6. Negotiate without a ticket -------------------------------------------------------

// Whether this build speaks Negotiate, as --version says ("auth: Negotiate Digest Basic").
bool negotiate_built() {
    spawn_options o;
    o.program = program();
    o.args = {"--version"};
    const auto r = run(o);
    const auto at = r.out.find("\nauth:");
    if (r.status.code != exit_code::ok || at == std::string::npos) {
        throw std::runtime_error("no auth line in --version: " + r.out);
    }
    const std::string line = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
    return line.find("Negotiate") != std::string::npos;
}

TEST_CASE("Negotiate only, no Kerberos ticket: exit 5 with a clean message about Negotiate") {
    const isolated env;
    scripted_proxy proxy(always_407(field("Negotiate")));
    std::vector<std::string> extra;
    SUBCASE("--auth any") {}
    SUBCASE("--auth negotiate") {
        extra = {"--auth", "negotiate"};
    }
    const auto r = run(env.apply(modern_form(proxy_url(proxy), extra)), {}, run_limit);
    INFO(context(r));
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK_FALSE(has_control_characters(r.err));
    if (!extra.empty() && !negotiate_built()) {
        // Without GSSAPI, asking for Negotiate is a usage error, found before connecting.
        CHECK(r.status.code == exit_code::usage);
        CHECK(mentions_all(r.err, {"negotiate", "GSSAPI"}));
        CHECK(proxy.connection_count() == 0);
        return;
    }
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(mentions_all(r.err, {proxy.host_port(), "Negotiate"}));
    CHECK(proxy.all_requests().size() == 1);
}

TEST_CASE("Negotiate and Basic offered, no Kerberos ticket, credentials given: Basic is used") {
    field_layout layout;
    SUBCASE("two fields") {
        layout = [](const std::string&) { return field("Negotiate") + field(basic_challenge); };
    }
    SUBCASE("one field") {
        layout = [](const std::string&) { return field("Negotiate, " + basic_challenge); };
    }
    const isolated env;
    auth_proxy_config config;
    config.fields = layout;
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(seen[1].authorization == basic(config.user, config.password));
}

// ---- 7. No secret on stderr at -vvv ------------------------------------------------------

TEST_CASE("-vvv: neither password, nor Basic token, nor Digest H(A1) on stderr") {
    auth_proxy_config config;
    config.password = "Hyg13ne-Pa55word";
    std::string password = config.password;
    bool succeeds = true;
    std::string scheme;
    SUBCASE("Basic, right password") {
        config.fields = basic_only;
        scheme = "Basic";
    }
    SUBCASE("Basic, wrong password") {
        config.fields = basic_only;
        password = "Wr0ng-Hyg13ne-Pa55";
        succeeds = false;
        scheme = "Basic";
    }
    SUBCASE("Digest MD5, right password") {
        scheme = "Digest";
    }
    SUBCASE("Digest MD5, wrong password") {
        password = "Wr0ng-Hyg13ne-Pa55";
        succeeds = false;
        scheme = "Digest";
    }
    SUBCASE("Digest SHA-256, right password") {
        config.algorithm = "SHA-256";
        scheme = "Digest";
    }
    SUBCASE("Digest SHA-256, wrong password") {
        config.algorithm = "SHA-256";
        password = "Wr0ng-Hyg13ne-Pa55";
        succeeds = false;
        scheme = "Digest";
    }
    CAPTURE(scheme);
    CAPTURE(succeeds);
    const isolated env;
    auth_proxy proxy(config);
    const std::string auth_file = env.other.write("auth", config.user + ":" + password + "\n");
    const auto options =
        env.apply(modern_form(proxy_url(proxy.proxy()), {"-vvv", "--auth-file", auth_file}));
    const auto r = succeeds ? run_until_delivered(options, banner.size()) : run(options, {});
    INFO(context(r));
    CHECK(r.status.code == (succeeds ? exit_code::ok : exit_code::auth_failed));
    CHECK(proxy.count(scheme) == (succeeds ? 1 : 3));
    // Verbose indeed, down to the request headers.
    CHECK(r.err.find("Proxy-Authorization") != std::string::npos);
    check_no_secret(r.err, secrets_of(config.user, password, config.realm));
    check_no_secret(r.err, secrets_of(config.user, password, "scripted"));
    // Nor any Authorization value the proxy received.
    for (const auto& s : proxy.seen()) {
        if (!s.authorization.empty()) {
            const std::string credentials = s.authorization.substr(s.authorization.find(' ') + 1);
            CAPTURE(credentials);
            CHECK(r.err.find(credentials) == std::string::npos);
        }
    }
}

// ---- 8. Credential sources ---------------------------------------------------------------

namespace {

// A Basic-only proxy that accepts exactly user:password.
auth_proxy_config basic_proxy_config(std::string user, std::string password) {
    auth_proxy_config c;
    c.user = std::move(user);
    c.password = std::move(password);
    c.fields = basic_only;
    c.accept_digest = false;
    return c;
}

// The user of the first credentials the proxy received, "" when none.
std::string first_user(const auth_proxy& proxy) {
    const auto s = proxy.first_with_credentials();
    return s ? s->basic_user : "";
}

} // namespace

TEST_CASE("--auth-file with per-proxy lines: the line for this proxy wins over the fallback") {
    const isolated env;
    std::string user = "per-proxy";
    std::string password = "pr0xy-pw";
    std::function<std::string(const auth_proxy&)> contents;
    SUBCASE("host and port, fallback after") {
        contents = [](const auth_proxy& p) {
            return "# credentials\nproxy 127.0.0.1:" + std::to_string(p.port()) +
                   " per-proxy:pr0xy-pw\n\nfallback:fallb4ck-pw\n";
        };
    }
    SUBCASE("host and port, fallback before") {
        contents = [](const auth_proxy& p) {
            return "fallback:fallb4ck-pw\nproxy 127.0.0.1:" + std::to_string(p.port()) +
                   " per-proxy:pr0xy-pw\n";
        };
    }
    SUBCASE("host only") {
        contents = [](const auth_proxy&) {
            return "fallback:fallb4ck-pw\nproxy 127.0.0.1 per-proxy:pr0xy-pw\n";
        };
    }
    SUBCASE("an entry for another port only: the fallback") {
        user = "fallback";
        password = "fallb4ck-pw";
        contents = [](const auth_proxy& p) {
            return "proxy 127.0.0.1:" + std::to_string(p.port() == 1 ? 2 : 1) +
                   " per-proxy:pr0xy-pw\nfallback:fallb4ck-pw\n";
        };
    }
    CAPTURE(user);
    auth_proxy proxy(basic_proxy_config(user, password));
    const std::string file = env.other.write("auth", contents(proxy));
    const auto r = run_until_delivered(
        env.apply(modern_form(proxy_url(proxy.proxy()), {"--auth-file", file})), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(first_user(proxy) == user);
    CHECK(proxy.count("Basic") == 1);
}

TEST_CASE("--netrc-file (mode 600): machine entry, or default") {
    const isolated env;
    std::string contents;
    SUBCASE("machine 127.0.0.1") {
        contents = "machine proxy.example login other password 0ther-pw\n"
                   "machine 127.0.0.1 login netrc-user password n3trc-pw\n";
    }
    SUBCASE("default after another machine") {
        contents = "machine proxy.example login other password 0ther-pw\n"
                   "default login netrc-user password n3trc-pw\n";
    }
    auth_proxy proxy(basic_proxy_config("netrc-user", "n3trc-pw"));
    const std::string file = env.other.write("netrc", contents, 0600);
    const auto r = run_until_delivered(
        env.apply(modern_form(proxy_url(proxy.proxy()), {"--netrc-file", file})), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(first_user(proxy) == "netrc-user");
}

TEST_CASE("~/.netrc: used once the proxy asks, the first request carries no credentials") {
    const isolated env;
    env.home.write(".netrc", "machine 127.0.0.1 login home-user password h0me-pw\n", 0600);
    auth_proxy proxy(basic_proxy_config("home-user", "h0me-pw"));
    const auto r =
        run_until_delivered(env.apply(modern_form(proxy_url(proxy.proxy()))), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(seen[1].authorization == basic("home-user", "h0me-pw"));
}

TEST_CASE("~/.netrc is not read when the proxy does not ask: an unfit one goes unnoticed") {
    const isolated env;
    env.home.write(".netrc", "machine 127.0.0.1 login home-user password h0me-pw\n", 0644);
    scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}});
    const auto r = run_until_delivered(env.apply(modern_form(proxy_url(proxy))), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    CHECK(r.err.empty());
}

TEST_CASE("a credential file that others can read or write is refused before connecting") {
    const isolated env;
    auth_proxy proxy(basic_proxy_config("alice", "s3cr3t-Pa55"));
    mode_t mode = 0644;
    std::string how;
    SUBCASE("--auth-file 0644") {
        how = "--auth-file";
        mode = 0644;
    }
    SUBCASE("--auth-file 0640") {
        how = "--auth-file";
        mode = 0640;
    }
    SUBCASE("--auth-file 0620") {
        how = "--auth-file";
        mode = 0620;
    }
    SUBCASE("--auth-file 0602") {
        how = "--auth-file";
        mode = 0602;
    }
    SUBCASE("corkscrew AUTHFILE 0644") {
        how = "AUTHFILE";
        mode = 0644;
    }
    SUBCASE("--netrc-file 0644") {
        how = "--netrc-file";
        mode = 0644;
    }
    CAPTURE(how);
    CAPTURE(mode);
    const std::string file =
        how == "--netrc-file"
            ? env.other.write("creds", "machine 127.0.0.1 login alice password s3cr3t-Pa55\n", mode)
            : env.other.write("creds", "alice:s3cr3t-Pa55\n", mode);
    const auto options = how == "AUTHFILE" ? corkscrew_form(proxy.proxy(), {file})
                                           : modern_form(proxy_url(proxy.proxy()), {how, file});
    const auto r = run(env.apply(options), {}, run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::usage);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {"chmod 600", "creds"}));
    CHECK(r.err.find("s3cr3t-Pa55") == std::string::npos);
    CHECK(proxy.proxy().connection_count() == 0);
}

TEST_CASE("credential order: URL password, auth file, CORKSCREW_AUTH, netrc") {
    const isolated env;
    // Every source present names its own user; the proxy accepts only the expected winner.
    env.home.write(".netrc", "machine 127.0.0.1 login home-user password h0me-pw\n", 0600);
    const std::string auth_file = env.other.write("auth", "file-user:f1le-pw\n");
    const std::string other_proxy_file =
        env.other.write("auth-other", "proxy proxy.example:3128 file-user:f1le-pw\n");
    const std::string netrc_file =
        env.other.write("netrc", "machine 127.0.0.1 login netrc-user password n3trc-pw\n"
                                 "machine 127.0.0.1 login url-user password url-n3trc-pw\n");
    const std::pair<std::string, std::string> env_auth{"CORKSCREW_AUTH", "env-user:3nv-pw"};

    struct order_case {
        std::string name;
        std::string userinfo; // in the proxy URL
        std::vector<std::string> options;
        bool with_env = false;
        std::string user; // the winner
        std::string password;
    };
    const std::vector<order_case> cases = {
        {"all: the URL password",
         "url-user:url-pw",
         {"--auth-file", auth_file, "--netrc-file", netrc_file},
         true,
         "url-user",
         "url-pw"},
        {"no URL password: the auth file",
         "",
         {"--auth-file", auth_file, "--netrc-file", netrc_file},
         true,
         "file-user",
         "f1le-pw"},
        {"URL user without password: the auth file",
         "url-user",
         {"--auth-file", auth_file, "--netrc-file", netrc_file},
         true,
         "file-user",
         "f1le-pw"},
        {"auth file for another proxy only: CORKSCREW_AUTH",
         "",
         {"--auth-file", other_proxy_file, "--netrc-file", netrc_file},
         true,
         "env-user",
         "3nv-pw"},
        {"no auth file: CORKSCREW_AUTH",
         "",
         {"--netrc-file", netrc_file},
         true,
         "env-user",
         "3nv-pw"},
        {"CORKSCREW_AUTH over ~/.netrc", "", {}, true, "env-user", "3nv-pw"},
        {"only --netrc-file: its first entry for the host",
         "",
         {"--netrc-file", netrc_file},
         false,
         "netrc-user",
         "n3trc-pw"},
        {"--netrc-file, URL user: that user's entry",
         "url-user",
         {"--netrc-file", netrc_file},
         false,
         "url-user",
         "url-n3trc-pw"},
        {"only ~/.netrc", "", {}, false, "home-user", "h0me-pw"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auth_proxy proxy(basic_proxy_config(c.user, c.password));
        auto options = env.apply(modern_form(proxy_url(proxy.proxy(), c.userinfo), c.options));
        if (c.with_env) {
            options.env.push_back(env_auth);
        }
        const auto r = run_until_delivered(options, banner.size());
        INFO(context(r));
        CHECK(r.status.code == exit_code::ok);
        CHECK(r.out == banner);
        CHECK(first_user(proxy) == c.user);
    }
}

TEST_CASE("--netrc-file replaces ~/.netrc: nothing there for this proxy, no credentials") {
    const isolated env;
    env.home.write(".netrc", "machine 127.0.0.1 login home-user password h0me-pw\n", 0600);
    const std::string netrc_file =
        env.other.write("netrc", "machine elsewhere.example login x password y\n");
    auth_proxy proxy(basic_proxy_config("home-user", "h0me-pw"));
    const auto r =
        run(env.apply(modern_form(proxy_url(proxy.proxy()), {"--netrc-file", netrc_file})), {},
            run_limit);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK_FALSE(proxy.first_with_credentials().has_value());
}

// ---- 9. The password prompt --------------------------------------------------------------

TEST_CASE("no terminal and no SSH_ASKPASS: exit 5 at once, a no-credentials error") {
    const isolated env;
    auth_proxy proxy(basic_proxy_config("alice", "s3cr3t-Pa55"));
    std::string url_user;
    SUBCASE("login user") {}
    SUBCASE("user in the URL") {
        url_user = "alice";
    }
    const auto r = run(env.apply(modern_form(proxy_url(proxy.proxy(), url_user))), {}, 10s);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(r.status.elapsed < 5s);
    CHECK(r.out.empty());
    CHECK(is_one_error_line(r.err));
    CHECK(mentions_all(r.err, {proxy.host_port(), "no credentials", "no terminal"}));
    CHECK(proxy.seen().size() == 1);
    CHECK_FALSE(proxy.first_with_credentials().has_value());
}

TEST_CASE("SSH_ASKPASS set without a display or SSH_ASKPASS_REQUIRE=force: not run") {
    const isolated env;
    auth_proxy proxy(basic_proxy_config("alice", "ask-Pa55"));
    const std::string argv_file = env.other.path() + "/argv";
    const std::string askpass = env.other.write("askpass",
                                                "#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" > '" +
                                                    argv_file + "'\nprintf '%s\\n' 'ask-Pa55'\n",
                                                0700);
    auto options = modern_form(proxy_url(proxy.proxy()));
    options.env.emplace_back("SSH_ASKPASS", askpass);
    const auto r = run(env.apply(options), {}, 10s);
    INFO(context(r));
    CHECK(r.status.code == exit_code::auth_failed);
    CHECK(is_one_error_line(r.err));
    CHECK_FALSE(std::filesystem::exists(argv_file));
    CHECK_FALSE(proxy.first_with_credentials().has_value());
}

TEST_CASE("SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force: run with the prompt, its answer used") {
    const isolated env;
    std::string url_user;
    std::string user = "alice";
    SUBCASE("login user") {}
    SUBCASE("user in the URL") {
        url_user = "bob";
        user = "bob";
    }
    CAPTURE(user);
    auth_proxy proxy(basic_proxy_config(user, "ask-Pa55"));
    const std::string argv_file = env.other.path() + "/argv";
    const std::string askpass = env.other.write("askpass",
                                                "#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" > '" +
                                                    argv_file + "'\nprintf '%s\\n' 'ask-Pa55'\n",
                                                0700);
    auto options = modern_form(proxy_url(proxy.proxy(), url_user));
    options.env.emplace_back("SSH_ASKPASS", askpass);
    options.env.emplace_back("SSH_ASKPASS_REQUIRE", "force");
    const auto r = run_until_delivered(env.apply(options), banner.size());
    INFO(context(r));
    CHECK(r.status.code == exit_code::ok);
    CHECK(r.out == banner);
    const auto s = proxy.first_with_credentials();
    REQUIRE(s);
    CHECK(s->authorization == basic(user, "ask-Pa55"));
    CHECK(proxy.seen().front().authorization.empty());
    std::ifstream in(argv_file);
    const std::string argv{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CHECK(argv == "1\nPassword for " + user + " at proxy " + proxy.host_port() + ": \n");
    CHECK(r.err.find("ask-Pa55") == std::string::npos);
}

TEST_CASE("the prompt on the controlling terminal: echo off, the typed password used") {
    const isolated env;
    auth_proxy proxy(basic_proxy_config("alice", "pw"));
    pseudo_terminal tty;
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.controlling_tty = tty.slave_path();
    child_process child(options);
    // Bytes for the tunnel, already waiting on stdin: the prompt must not take them.
    const std::string early = "early bytes for the tunnel\n";
    child.write_stdin(early);

    const std::string prompt = "Password for alice at proxy " + proxy.host_port() + ": ";
    std::string shown;
    bool echo_off_at_prompt = false;
    const bool prompted = child.pump_until(
        [&] {
            shown += tty.read_available();
            if (shown.find(prompt) != std::string::npos) {
                echo_off_at_prompt = !tty.echoes();
                return true;
            }
            return !child.running();
        },
        10s);
    INFO(context(child));
    CAPTURE(shown);
    REQUIRE(prompted);
    REQUIRE(child.running());
    CHECK(shown == prompt);
    CHECK(echo_off_at_prompt);
    // Only the one unauthenticated request so far: the program waits for the answer.
    CHECK(proxy.seen().size() == 1);

    tty.type("pw\n");
    CHECK(child.pump_until([&] { return child.out().size() >= banner.size(); }, 10s));
    child.close_stdin();
    const auto& status = child.wait(run_limit);
    const std::string after = tty.read_available();
    CAPTURE(after);
    CHECK(status.code == exit_code::ok);
    CHECK(child.out() == banner);
    CHECK(after.find("pw") == std::string::npos);
    CHECK(tty.echoes());
    const auto seen = proxy.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].authorization.empty());
    CHECK(seen[1].authorization == basic("alice", "pw"));
    CHECK(proxy.proxy().wait_handlers());
    const auto records = proxy.proxy().records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].received == early);
}

// ---- 9. Libraries loaded only when a scheme needs them ------------------------------------

namespace {

// The shared objects mapped into a running process, from /proc/PID/maps.
std::string mapped_files(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    return std::string(std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>());
}

// Runs the program until the tunnel delivered the banner, and returns what it had mapped then.
std::string mapped_while_relaying(const spawn_options& options, run_result& r) {
    child_process child(options);
    child.pump_until([&] { return child.out().size() >= banner.size(); }, 10s);
    std::string maps = child.running() ? mapped_files(child.pid()) : "";
    child.close_stdin();
    r.status = child.wait(run_limit);
    r.out = child.out();
    r.err = child.err();
    return maps;
}

} // namespace

TEST_CASE("libcrypto and GSSAPI are loaded only once a Digest or Negotiate challenge needs them") {
    const isolated env;
    run_result r;
    SUBCASE("no authentication: neither is loaded") {
        scripted_proxy proxy(script{{{std::string(established) + std::string(banner)}}});
        auto maps = mapped_while_relaying(env.apply(modern_form(proxy_url(proxy))), r);
        INFO(context(r));
        REQUIRE(r.status.code == exit_code::ok);
        REQUIRE(maps.find("libc.so") != std::string::npos); // the maps were read
        CHECK(maps.find("libcrypto") == std::string::npos);
        CHECK(maps.find("libgssapi") == std::string::npos);
    }
    SUBCASE("Basic or Digest: only Digest loads libcrypto (so the other cases can see it)") {
        auth_proxy_config config;
        bool digest = true;
        SUBCASE("Basic") {
            config.fields = [](const std::string&) { return field(basic_challenge); };
            digest = false;
        }
        SUBCASE("Digest") {}
        CAPTURE(digest);
        auth_proxy proxy(config);
        auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
        options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
        auto maps = mapped_while_relaying(options, r);
        INFO(context(r));
        REQUIRE(r.status.code == exit_code::ok);
        REQUIRE(proxy.seen().size() == 2);
        CHECK((maps.find("libcrypto") != std::string::npos) == digest);
        CHECK(maps.find("libgssapi") == std::string::npos);
    }
}

TEST_CASE("libcrypto that cannot be loaded: Digest is skipped for Basic, or exit 5 naming it") {
    // A library of that name that is no library: dlopen fails as for a missing or broken one.
    const isolated env;
    const temp_dir libs;
    libs.write("libcrypto.so.3", "not an ELF file\n", 0644);
    libs.write("libcrypto.so.1.1", "not an ELF file\n", 0644);
    auth_proxy_config config;
    bool basic_offered = false;
    SUBCASE("Digest and Basic offered: Basic is used") {
        config.fields = digest_basic_one_field;
        basic_offered = true;
    }
    SUBCASE("Digest only: exit 5, the message names the library") {
        config.fields = digest_only;
    }
    auth_proxy proxy(config);
    auto options = env.apply(modern_form(proxy_url(proxy.proxy())));
    options.env.emplace_back("CORKSCREW_AUTH", config.user + ":" + config.password);
    options.env.emplace_back("LD_LIBRARY_PATH", libs.path());
    const auto r = run_until_delivered(options, banner.size());
    INFO(context(r));
    const auto seen = proxy.seen();
    if (basic_offered) {
        CHECK(r.status.code == exit_code::ok);
        CHECK(r.out == banner);
        REQUIRE(seen.size() == 2);
        CHECK(seen[1].authorization == basic(config.user, config.password));
    } else {
        CHECK(r.status.code == exit_code::auth_failed);
        CHECK(is_one_error_line(r.err));
        CHECK(mentions_all(r.err, {"Digest", "libcrypto"}));
        CHECK(seen.size() == 1);
    }
}

TEST_SUITE_END();
