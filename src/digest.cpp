#include "digest.hpp"

#include "library.hpp"
#include "text.hpp"

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

namespace corkscrew {

namespace {

// A Digest nonce the proxy calls stale is refreshed this many times before a refresh counts as
// a failed try: a proxy that calls every nonce stale must not keep the exchange going for ever.
constexpr int max_stale_refreshes = 3;

// The few libcrypto functions Digest uses, loaded on the first Digest challenge (library.hpp).
struct hash_functions {
    decltype(&EVP_Digest) digest = nullptr;
    decltype(&EVP_md5) md5 = nullptr;
    decltype(&EVP_sha256) sha256 = nullptr;
    decltype(&EVP_sha512_256) sha512_256 = nullptr;

    const EVP_MD* of(digest_hash h) const {
        switch (h) {
        case digest_hash::md5:
            return md5();
        case digest_hash::sha256:
            return sha256();
        case digest_hash::sha512_256:
            return sha512_256();
        }
        return md5();
    }
};

result<hash_functions> load_hash_functions() {
    auto crypto = library::open(CORKSCREW_LIBCRYPTO);
    if (!crypto)
        return crypto.err();
    hash_functions f;
    const library& lib = **crypto;
    if (!lib.bind(f.digest, "EVP_Digest") || !lib.bind(f.md5, "EVP_md5") ||
        !lib.bind(f.sha256, "EVP_sha256") || !lib.bind(f.sha512_256, "EVP_sha512_256"))
        return fail(failure::internal, lib.soname() + " lacks a hash function Digest needs");
    return f;
}

const result<hash_functions>& hashes() {
    static const result<hash_functions> loaded = load_hash_functions();
    return loaded;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

// A quoted-string for a header value (RFC 9110 section 5.6.4).
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

bool is_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80)
            return false;
    return true;
}

// RFC 8187 ext-value: UTF-8''percent-encoded.
std::string ext_value(std::string_view s) {
    static constexpr std::string_view attr_extra = "!#$&+-.^_`|~";
    std::string out = "UTF-8''";
    for (unsigned char c : s) {
        if (std::isalnum(c) || attr_extra.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

std::string nc_text(unsigned nc) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", nc);
    return text;
}

class digest_auth final : public authenticator {
public:
    digest_auth(credentials creds, std::string uri)
        : creds_(std::move(creds)), uri_(std::move(uri)) {}

    std::string_view scheme() const override { return "Digest"; }

    result<auth_reply> respond(const challenge& own) override {
        auto c = read_digest_challenge(own);
        if (!c)
            return c.err();
        if (const auto& f = hashes(); !f)
            return f.err();
        // stale=true: the credentials were right and only the nonce had expired (RFC 7616
        // section 3.3), so the retry with the new nonce is no new try.
        bool refresh = c->stale && !nonce_.empty();
        bool counts = !(refresh && stale_refreshes_ < max_stale_refreshes);
        if (refresh)
            ++stale_refreshes_;
        if (c->nonce != nonce_) {
            nonce_ = c->nonce;
            nc_ = 0;
        }
        digest_request r{"CONNECT", uri_, random_cnonce(), ++nc_};
        return auth_reply{digest_authorization(*c, creds_, r), counts};
    }

private:
    credentials creds_;
    std::string uri_;
    std::string nonce_;
    unsigned nc_ = 0;
    int stale_refreshes_ = 0;
};

} // namespace

std::string digest_algorithm::name() const {
    std::string n = hash == digest_hash::md5      ? "MD5"
                    : hash == digest_hash::sha256 ? "SHA-256"
                                                  : "SHA-512-256";
    return session ? n + "-sess" : n;
}

std::optional<digest_algorithm> parse_digest_algorithm(std::optional<std::string_view> name) {
    if (!name)
        return digest_algorithm{};
    for (auto hash : {digest_hash::md5, digest_hash::sha256, digest_hash::sha512_256})
        for (bool session : {false, true})
            if (digest_algorithm a{hash, session}; iequals(*name, a.name()))
                return a;
    return std::nullopt;
}

std::string digest_hex(digest_hash hash, std::string_view data) {
    const auto& f = hashes();
    if (!f)
        throw std::runtime_error(f.err().message);
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned size = 0;
    if (f->digest(data.data(), data.size(), out.data(), &size, f->of(hash), nullptr) != 1)
        throw std::runtime_error("libcrypto failed to hash");
    return to_hex(out.data(), size);
}

result<digest_challenge> read_digest_challenge(const challenge& c) {
    digest_challenge d;
    auto realm = c.param("realm");
    auto nonce = c.param("nonce");
    if (!realm || !nonce)
        return fail(failure::auth_failed, "Digest challenge without realm or nonce");
    d.realm = std::string(*realm);
    d.nonce = std::string(*nonce);
    if (auto opaque = c.param("opaque"))
        d.opaque = std::string(*opaque);
    auto algorithm = parse_digest_algorithm(c.param("algorithm"));
    if (!algorithm)
        return fail(failure::auth_failed,
                    "unsupported Digest algorithm '" + printable(*c.param("algorithm")) + "'");
    d.algorithm = *algorithm;
    if (auto qop = c.param("qop")) {
        // A list of options ("auth, auth-int"); CONNECT has no body, so "auth" is the one.
        std::string_view list = *qop;
        while (!list.empty()) {
            auto comma = list.find(',');
            auto item = list.substr(0, comma);
            auto first = item.find_first_not_of(" \t");
            auto last = item.find_last_not_of(" \t");
            if (first != std::string_view::npos &&
                iequals(item.substr(first, last - first + 1), "auth"))
                d.qop_auth = true;
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        }
        if (!d.qop_auth)
            return fail(failure::auth_failed,
                        "Digest challenge offers qop=\"" + printable(*qop) + "\", not auth");
    }
    d.stale = c.param("stale") && iequals(*c.param("stale"), "true");
    d.userhash = c.param("userhash") && iequals(*c.param("userhash"), "true");
    d.utf8 = c.param("charset") && iequals(*c.param("charset"), "UTF-8");
    return d;
}

std::string digest_ha1(const digest_challenge& c, const credentials& creds,
                       const std::string& cnonce) {
    auto h = c.algorithm.hash;
    std::string a1 = creds.user + ":" + c.realm + ":" + creds.password;
    auto ha1 = digest_hex(h, a1);
    wipe(a1);
    if (c.algorithm.session)
        ha1 = digest_hex(h, ha1 + ":" + c.nonce + ":" + cnonce);
    return ha1;
}

std::string digest_authorization(const digest_challenge& c, const credentials& creds,
                                 const digest_request& r) {
    auto h = c.algorithm.hash;
    auto ha1 = digest_ha1(c, creds, r.cnonce);
    auto ha2 = digest_hex(h, r.method + ":" + r.uri);
    auto nc = nc_text(r.nc);
    // RFC 7616 section 3.4.1; without qop, RFC 2069's form.
    auto response =
        c.qop_auth ? digest_hex(h, ha1 + ":" + c.nonce + ":" + nc + ":" + r.cnonce + ":auth:" + ha2)
                   : digest_hex(h, ha1 + ":" + c.nonce + ":" + ha2);
    wipe(ha1);

    std::string v = "Digest ";
    if (c.userhash)
        v += "username=" + quoted(digest_hex(h, creds.user + ":" + c.realm));
    else if (c.utf8 && !is_ascii(creds.user))
        v += "username*=" + ext_value(creds.user);
    else
        v += "username=" + quoted(creds.user);
    v += ", realm=" + quoted(c.realm) + ", nonce=" + quoted(c.nonce) + ", uri=" + quoted(r.uri);
    v += ", algorithm=" + c.algorithm.name() + ", response=" + quoted(response);
    if (c.opaque)
        v += ", opaque=" + quoted(*c.opaque);
    if (c.qop_auth)
        v += ", qop=auth, nc=" + nc + ", cnonce=" + quoted(r.cnonce);
    if (c.userhash)
        v += ", userhash=true";
    return v;
}

std::unique_ptr<authenticator> make_digest_auth(credentials creds, std::string uri) {
    return std::make_unique<digest_auth>(std::move(creds), std::move(uri));
}

std::string random_cnonce() {
    std::array<unsigned char, 16> bytes{};
    // getentropy(3) (getrandom(2) on Linux) blocks only until the kernel's pool is first
    // initialised, long before any login session; up to 256 bytes come in one call.
    if (::getentropy(bytes.data(), bytes.size()) != 0)
        throw std::runtime_error(
            std::string("no secure random bytes for the Digest client nonce: ") +
            std::strerror(errno));
    return to_hex(bytes.data(), bytes.size());
}

} // namespace corkscrew
