#include "auth.hpp"

#include "digest.hpp"
#include "negotiate.hpp"
#include "text.hpp"

#include <algorithm>

namespace corkscrew {

namespace {

class basic_auth final : public authenticator {
public:
    basic_auth(credentials creds, bool preemptive)
        : creds_(std::move(creds)), preemptive_(preemptive) {}

    std::string_view scheme() const override { return "Basic"; }

    std::optional<std::string> preemptive() override {
        if (!preemptive_)
            return std::nullopt;
        return value();
    }

    result<auth_reply> respond(const challenge&) override { return auth_reply{value(), true}; }

private:
    std::string value() const {
        return "Basic " + base64_encode(creds_.user + ":" + creds_.password);
    }

    credentials creds_;
    bool preemptive_;
};

const char* choice_scheme(auth_choice c) {
    switch (c) {
    case auth_choice::basic:
        return "Basic";
    case auth_choice::digest:
        return "Digest";
    case auth_choice::negotiate:
        return "Negotiate";
    case auth_choice::any:
        break;
    }
    return "";
}

std::string offered_text(const std::vector<std::string_view>& values) {
    std::string out;
    for (auto v : values)
        out += (out.empty() ? "" : ", ") + printable(v);
    return out.empty() ? "no challenge" : out;
}

} // namespace

std::unique_ptr<authenticator> make_basic_auth(credentials creds, bool preemptive) {
    return std::make_unique<basic_auth>(std::move(creds), preemptive);
}

std::vector<std::string_view> supported_schemes() {
    if (negotiate_available())
        return {"Negotiate", "Digest", "Basic"};
    return {"Digest", "Basic"};
}

std::string base64_encode(std::string_view data) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16 |
                     static_cast<unsigned char>(data[i + 1]) << 8 |
                     static_cast<unsigned char>(data[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    if (auto rest = data.size() - i; rest > 0) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16;
        if (rest == 2)
            v |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += rest == 2 ? alphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z')
            return c - 'A';
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 26;
        if (c >= '0' && c <= '9')
            return c - '0' + 52;
        if (c == '+')
            return 62;
        if (c == '/')
            return 63;
        return -1;
    };
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        int v = value(c);
        if (v < 0)
            return std::nullopt;
        acc = acc << 6 | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xff);
        }
    }
    return out;
}

auth_step::auth_step(auth_settings settings, const logger& log)
    : settings_(std::move(settings)), log_(log) {
    if (settings_.preemptive_basic && settings_.creds && settings_.creds->has_password &&
        (settings_.choice == auth_choice::any || settings_.choice == auth_choice::basic))
        current_ = make_basic_auth(*settings_.creds, true);
}

auth_step::~auth_step() = default;

std::optional<std::string> auth_step::preemptive() {
    return current_ ? current_->preemptive() : std::nullopt;
}

std::string_view auth_step::scheme() const {
    return current_ ? current_->scheme() : "";
}

std::string auth_step::credentials_source() const {
    return settings_.creds ? settings_.creds->source : "";
}

result<auth_reply> auth_step::on_challenge(const answer_head& head) {
    auto values = head.values("Proxy-Authenticate");
    auto parsed = parse_challenges(values);
    for (const auto& p : parsed.problems)
        log_.info("ignored a malformed challenge from proxy " + settings_.proxy_name + ": " + p);
    auto shown = offered_text(values);
    if (current_) {
        // The scheme in use goes on as long as the proxy still offers it.
        for (const auto& c : parsed.challenges)
            if (c.is(current_->scheme()))
                return current_->respond(c);
        // A preemptive Basic the proxy does not want: start over with what it offers.
        current_.reset();
    }
    return start(parsed.challenges, shown);
}

std::optional<error> auth_step::on_success(const answer_head& head) {
    return current_ ? current_->confirm(head) : std::nullopt;
}

std::optional<credentials> auth_step::password_credentials(std::string& why_not) {
    if (settings_.creds && settings_.creds->has_password)
        return settings_.creds;
    if (!settings_.ask) {
        why_not = "no credentials (give them with --auth-file, CORKSCREW_AUTH or ~/.netrc)";
        return std::nullopt;
    }
    auto asked = settings_.ask(settings_.proxy_name, settings_.creds, why_not);
    if (asked)
        settings_.creds = asked; // asked once per run, not once per try
    else
        why_not = "no credentials: " + why_not;
    return asked;
}

result<auth_reply> auth_step::start(const std::vector<challenge>& offered,
                                    const std::string& shown) {
    std::string why; // why each usable scheme failed, for the error
    for (auto scheme : supported_schemes()) {
        if (settings_.choice != auth_choice::any && scheme != choice_scheme(settings_.choice))
            continue;
        auto own = std::find_if(offered.begin(), offered.end(),
                                [&](const challenge& c) { return c.is(scheme); });
        if (own == offered.end())
            continue;
        std::unique_ptr<authenticator> candidate;
        if (scheme == "Negotiate") {
            candidate = make_negotiate_auth(settings_.proxy_host);
        } else {
            std::string why_not;
            auto creds = password_credentials(why_not);
            if (!creds) {
                why += std::string(why.empty() ? "" : "; ") + std::string(scheme) + ": " + why_not;
                continue;
            }
            if (scheme == "Digest")
                candidate = make_digest_auth(*creds, settings_.target);
            else
                candidate = make_basic_auth(*creds, false);
        }
        auto reply = candidate->respond(*own);
        if (!reply) {
            log_.info(std::string(scheme) +
                      " authentication is not possible: " + reply.err().message);
            why += std::string(why.empty() ? "" : "; ") + std::string(scheme) + ": " +
                   reply.err().message;
            continue;
        }
        current_ = std::move(candidate);
        return reply;
    }
    std::string wanted = settings_.choice == auth_choice::any
                             ? "it speaks " +
                                   [] {
                                       std::string s;
                                       for (auto n : supported_schemes())
                                           s += (s.empty() ? "" : ", ") + std::string(n);
                                       return s;
                                   }()
                             : std::string("--auth asks for ") + choice_scheme(settings_.choice);
    return fail(failure::auth_failed, "proxy " + settings_.proxy_name +
                                          " requires authentication for CONNECT to " +
                                          settings_.target + " (offers " + shown + "; " + wanted +
                                          ")" + (why.empty() ? "" : ": " + why));
}

} // namespace corkscrew
