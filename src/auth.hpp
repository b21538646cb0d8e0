// The authentication step of a CONNECT exchange: a scheme that answers the proxy's challenges.
// Each scheme is a small unit with no I/O, so its output can be checked against known values.
#pragma once

#include "answer.hpp"
#include "credentials.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

class authenticator {
public:
    virtual ~authenticator() = default;

    // The scheme's name as it appears in headers ("Basic").
    virtual std::string_view scheme() const = 0;

    // A Proxy-Authorization value to send before any challenge, if the scheme does that.
    virtual std::optional<std::string> preemptive() = 0;

    // The Proxy-Authorization value answering a 407, or nothing when this scheme cannot answer it.
    virtual std::optional<std::string> respond(const answer_head& challenge) = 0;
};

// Basic (RFC 7617). `preemptive` sends the credentials on the first request, as corkscrew does
// with its auth file; otherwise they are sent only once the proxy asks for Basic.
std::unique_ptr<authenticator> make_basic_auth(credentials creds, bool preemptive);

// The auth-scheme names of a 407's Proxy-Authenticate fields, as offered ("Basic", "Negotiate").
std::vector<std::string> offered_schemes(const answer_head& challenge);

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view data);

} // namespace corkscrew
