// Fuzzes Proxy-Authenticate parsing (challenge.hpp) and the Digest answer built from what it
// parsed (digest.hpp): parsed challenges written back out parse the same, and every Digest
// Proxy-Authorization value parses back into the challenge's realm, nonce and opaque, whatever
// bytes they hold, without a byte that could end the request's line.
//
// Input: one byte of options (the user name, the nonce count), then Proxy-Authenticate values,
// one per line.
#include "challenge.hpp"
#include "digest.hpp"

#include "auth.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <array>

using namespace corkscrew;
using fuzz::require;

namespace {

// More fields than a proxy sends (squid: one per scheme), few enough to keep an execution fast.
constexpr std::size_t max_fields = 8;

// User names that exercise the value's quoting and RFC 8187 encoding (charset=UTF-8).
constexpr std::array<std::string_view, 4> users = {"alice", "j\xc3\xbcrgen", "a\"b\\c, d=e",
                                                   "Mufasa"};
constexpr std::string_view uri = "git.example:22";

bool iequal(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

// A quoted-string (RFC 9110 section 5.6.4), escaping only what must be.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// Challenges as a field value: each parameter's value quoted, whatever it was.
std::string rendered(const std::vector<challenge>& cs) {
    std::string out;
    for (const auto& c : cs) {
        if (!out.empty())
            out += ", ";
        out += c.scheme;
        if (!c.token68.empty())
            out += " " + c.token68;
        for (std::size_t i = 0; i < c.params.size(); ++i)
            out += (i == 0 ? " " : ", ") + c.params[i].name + "=" + quoted(c.params[i].value);
    }
    return out;
}

bool same_challenges(const std::vector<challenge>& a, const std::vector<challenge>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].scheme != b[i].scheme || a[i].token68 != b[i].token68 ||
            a[i].params.size() != b[i].params.size())
            return false;
        for (std::size_t j = 0; j < a[i].params.size(); ++j)
            if (a[i].params[j].name != b[i].params[j].name ||
                a[i].params[j].value != b[i].params[j].value)
                return false;
    }
    return true;
}

bool is_lower_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::size_t hex_length(digest_hash h) {
    return h == digest_hash::md5 ? 32 : 64;
}

// RFC 8187's UTF-8''%XX back to bytes, or nothing.
std::optional<std::string> ext_value_decoded(std::string_view v) {
    constexpr std::string_view prefix = "UTF-8''";
    if (!v.starts_with(prefix))
        return std::nullopt;
    v.remove_prefix(prefix.size());
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') {
            out += v[i];
            continue;
        }
        if (i + 2 >= v.size())
            return std::nullopt;
        out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
        i += 2;
    }
    return out;
}

// Checks a Digest Proxy-Authorization value built for `d`: it is one credentials element with
// the challenge's values given back exactly, and nothing in it can split the request.
void check_authorization(const std::string& value, const digest_challenge& d,
                         const credentials& creds, std::string_view cnonce, unsigned nc) {
    require(value.starts_with("Digest "), "the value starts with the scheme");
    const bool clean_input = !fuzz::has_line_breaking_byte(d.realm) &&
                             !fuzz::has_line_breaking_byte(d.nonce) &&
                             !(d.opaque && fuzz::has_line_breaking_byte(*d.opaque));
    require(!clean_input || !fuzz::has_line_breaking_byte(value),
            "no CR, LF or NUL in the value unless the challenge had them");
    auto back = parse_challenges({value});
    require(back.problems.empty() && back.challenges.size() == 1,
            "the value parses as one element");
    const auto& c = back.challenges[0];
    require(c.is("Digest") && c.token68.empty(), "the value is Digest with parameters");
    for (std::size_t i = 0; i < c.params.size(); ++i)
        for (std::size_t j = i + 1; j < c.params.size(); ++j)
            require(!iequal(c.params[i].name, c.params[j].name), "no parameter is repeated");
    require(c.param("realm") == d.realm, "the realm comes back as it was");
    require(c.param("nonce") == d.nonce, "the nonce comes back as it was");
    require(c.param("uri") == uri, "the uri is the CONNECT target");
    require(c.param("opaque") == d.opaque, "the opaque comes back as it was");
    require(c.param("algorithm") == d.algorithm.name(), "the algorithm is named");
    auto response = c.param("response");
    require(response && response->size() == hex_length(d.algorithm.hash) && is_lower_hex(*response),
            "the response is the hash in lower-case hex");
    if (d.qop_auth) {
        require(c.param("qop") == "auth" && c.param("cnonce") == cnonce,
                "qop=auth with the cnonce");
        char nc_text[9];
        std::snprintf(nc_text, sizeof nc_text, "%08x", nc);
        require(c.param("nc") == std::string_view(nc_text), "the nonce count in 8 hex digits");
    } else {
        require(!c.param("qop") && !c.param("nc") && !c.param("cnonce"),
                "RFC 2069's form without qop, nc or cnonce");
    }
    if (d.userhash) {
        auto name = c.param("username");
        require(name && name->size() == hex_length(d.algorithm.hash) && is_lower_hex(*name),
                "userhash: the user name is a hash");
    } else if (auto ext = c.param("username*")) {
        require(d.utf8 && ext_value_decoded(*ext) == creds.user,
                "username* only with charset=UTF-8, and it decodes to the user name");
    } else {
        require(c.param("username") == creds.user, "the user name comes back as it was");
    }
}

void check_digest(const challenge& own, const credentials& creds, unsigned nc) {
    auto d = read_digest_challenge(own);
    auto authenticator = make_digest_auth(creds, std::string(uri));
    auto reply = authenticator->respond(own);
    require(bool(d) == bool(reply), "the authenticator answers what read_digest_challenge reads");
    if (!d) {
        require(fuzz::is_printable(d.err().message), "refusals are printable");
        return;
    }
    require(d->realm == own.param("realm") && d->nonce == own.param("nonce"),
            "the realm and nonce are the challenge's");
    require(parse_digest_algorithm(d->algorithm.name()).has_value() &&
                parse_digest_algorithm(d->algorithm.name())->name() == d->algorithm.name(),
            "algorithm names read back");

    const std::string cnonce = "0a4f113b";
    auto value =
        digest_authorization(*d, creds, digest_request{"CONNECT", std::string(uri), cnonce, nc});
    check_authorization(value, *d, creds, cnonce, nc);

    // The authenticator: a fresh cnonce each time, the count going up for the same nonce.
    require(reply->counts_as_try, "the first answer is a try");
    auto again = authenticator->respond(own);
    require(bool(again), "the same challenge is answered again");
    auto first = parse_challenges({reply->authorization}).challenges;
    auto second = parse_challenges({again->authorization}).challenges;
    require(first.size() == 1 && second.size() == 1, "the authenticator's values parse");
    if (d->qop_auth) {
        require(first[0].param("nc") == "00000001" && second[0].param("nc") == "00000002",
                "the nonce count goes up");
        require(first[0].param("cnonce") != second[0].param("cnonce"), "a fresh cnonce each time");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto options = in.byte();
    const credentials creds{std::string(users[options & 3]), "Circle Of Life", "fuzz"};
    const unsigned nc = 1u + (options >> 2);

    std::vector<std::string_view> fields;
    while (fields.size() + 1 < max_fields && in.rest().find('\n') != std::string_view::npos)
        fields.push_back(in.until("\n"));
    fields.push_back(in.rest());

    auto parsed = parse_challenges(fields);
    require(parsed.problems.size() <= fields.size(), "at most one problem per field");
    for (const auto& p : parsed.problems)
        require(fuzz::is_printable(p), "problems are printable");
    for (const auto& c : parsed.challenges) {
        require(!c.scheme.empty(), "every challenge has a scheme");
        require(c.token68.empty() || c.params.empty(), "a token68 or parameters, not both");
        for (const auto& p : c.params)
            require(!p.name.empty(), "every parameter has a name");
    }
    // Written back out, with every value quoted, the challenges read the same.
    auto again = parse_challenges({rendered(parsed.challenges)});
    require(again.problems.empty(), "rendered challenges parse without problems");
    require(same_challenges(parsed.challenges, again.challenges),
            "rendered challenges parse the same");

    for (const auto& c : parsed.challenges) {
        // A Negotiate token is read as base64: what decodes encodes back to the same bytes.
        if (!c.token68.empty())
            if (auto bytes = base64_decode(c.token68))
                require(base64_decode(base64_encode(*bytes)) == bytes, "base64 round trip");
        if (c.is("Digest"))
            check_digest(c, creds, nc);
    }
    return 0;
}
