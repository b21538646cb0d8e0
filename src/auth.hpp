// The authentication step of a CONNECT exchange: which scheme answers the proxy's challenges, and
// the schemes themselves. Each scheme is a small unit with no I/O, so its output can be checked
// against known values; only the credential prompt (auth_settings::ask) reaches outside.
#pragma once

#include "answer.hpp"
#include "challenge.hpp"
#include "credentials.hpp"
#include "log.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

// --auth: which scheme may answer. `any` takes the strongest the proxy offers and this build
// speaks: Negotiate, then Digest, then Basic.
enum class auth_choice { any, basic, digest, negotiate };

struct auth_reply {
    std::string authorization; // the Proxy-Authorization value
    // False when the reply continues an exchange rather than trying again after a refusal (a
    // Digest nonce gone stale, a further Negotiate leg): it does not count against the tries.
    bool counts_as_try = true;
};

class authenticator {
public:
    virtual ~authenticator() = default;

    // The scheme's name as it appears in headers ("Basic").
    virtual std::string_view scheme() const = 0;

    // A Proxy-Authorization value to send before any challenge, if the scheme does that.
    virtual std::optional<std::string> preemptive() { return std::nullopt; }

    // Answers the proxy's challenge for this scheme.
    virtual result<auth_reply> respond(const challenge& own) = 0;

    // Checks the 2xx that opened the tunnel (Negotiate's mutual authentication).
    virtual std::optional<error> confirm(const answer_head&) { return std::nullopt; }
};

// Basic (RFC 7617). `preemptive` sends the credentials on the first request, as corkscrew does
// with its auth file; otherwise they are sent only once the proxy asks for Basic.
std::unique_ptr<authenticator> make_basic_auth(credentials creds, bool preemptive);

// RFC 4648 base64 with padding, and back (nullopt for bad input).
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

// The schemes this build speaks, strongest first ("Negotiate" only with GSSAPI).
std::vector<std::string_view> supported_schemes();

struct auth_settings {
    auth_choice choice = auth_choice::any;
    // Known credentials for this proxy; the password may still be missing (has_password).
    std::optional<credentials> creds;
    bool preemptive_basic = false;
    std::string proxy_host; // Negotiate's service is HTTP@proxy_host
    std::string proxy_name; // "host:port", for messages and prompts
    std::string target;     // the CONNECT authority, Digest's uri
    // Asks for what `creds` lacks when a scheme needs it; empty when no prompt may be shown.
    password_source ask;
};

// Chooses the scheme for the proxy's challenges and keeps it for the rest of the exchange.
class auth_step {
public:
    auth_step(auth_settings settings, const logger& log);
    ~auth_step();

    std::optional<std::string> preemptive();

    // The answer to a 407, or why there is none (an auth_failed error naming what the proxy
    // offered).
    result<auth_reply> on_challenge(const answer_head& head);

    // Checks the 2xx answer with the scheme in use.
    std::optional<error> on_success(const answer_head& head);

    // The scheme in use, "" before the first challenge.
    std::string_view scheme() const;

    // Where the credentials in use came from ("auth file ~/.proxyauth"), "" when there are none.
    std::string credentials_source() const;

private:
    result<auth_reply> start(const std::vector<challenge>& offered, const std::string& shown);
    std::optional<credentials> password_credentials(std::string& why_not);

    auth_settings settings_;
    const logger& log_;
    std::unique_ptr<authenticator> current_;
};

} // namespace corkscrew
