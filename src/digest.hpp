// HTTP Digest access authentication (RFC 7616, with RFC 2069's qop-less form): the computation as
// pure functions over plain values, and the authenticator that keeps the nonce count.
#pragma once

#include "auth.hpp"
#include "challenge.hpp"
#include "credentials.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace corkscrew {

enum class digest_hash { md5, sha256, sha512_256 };

struct digest_algorithm {
    digest_hash hash = digest_hash::md5;
    bool session = false; // the "-sess" variants: HA1 also covers the nonce and cnonce

    // "MD5", "SHA-256-sess", ...
    std::string name() const;
};

// The algorithm named in a challenge (case-insensitive); MD5 when absent (RFC 7616 section 3.3).
std::optional<digest_algorithm> parse_digest_algorithm(std::optional<std::string_view> name);

// Lower-case hex of the hash of `data`.
std::string digest_hex(digest_hash hash, std::string_view data);

// What a Digest challenge asks for, checked.
struct digest_challenge {
    std::string realm;
    std::string nonce;
    std::optional<std::string> opaque;
    digest_algorithm algorithm;
    bool qop_auth = false; // the server offers qop=auth; false means RFC 2069 mode
    bool stale = false;
    bool userhash = false;
    bool utf8 = false; // charset=UTF-8
};

// Reads a Digest challenge; an error names what is missing or unsupported (an unknown algorithm,
// or a qop list without "auth").
result<digest_challenge> read_digest_challenge(const challenge& c);

// The parts of one Authorization value that vary per request.
struct digest_request {
    std::string method; // "CONNECT"
    std::string uri;    // the CONNECT authority, "host:port"
    std::string cnonce;
    unsigned nc = 1;
};

// H(A1) (RFC 7616 section 3.4.2), lower-case hex.
std::string digest_ha1(const digest_challenge& c, const credentials& creds,
                       const std::string& cnonce);

// The full Proxy-Authorization value: `Digest username="...", realm=..., response="..."`.
std::string digest_authorization(const digest_challenge& c, const credentials& creds,
                                 const digest_request& r);

// Digest for CONNECT `uri` ("host:port"): answers a Digest challenge with a fresh secure random
// cnonce and the nonce count; a `stale=true` 407 is answered with the new nonce without counting
// as a failed try.
std::unique_ptr<authenticator> make_digest_auth(credentials creds, std::string uri);

// 16 bytes from the system's secure random source, hex-encoded.
std::string random_cnonce();

} // namespace corkscrew
