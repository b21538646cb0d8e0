#include "auth.hpp"

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

    std::optional<std::string> respond(const answer_head& challenge) override {
        auto schemes = offered_schemes(challenge);
        // A 407 that names no scheme at all (seen from broken proxies) still gets Basic.
        bool offered = schemes.empty() || std::any_of(schemes.begin(), schemes.end(),
                                                      [](auto& s) { return iequals(s, "Basic"); });
        if (!offered)
            return std::nullopt;
        return value();
    }

private:
    std::string value() const {
        return "Basic " + base64_encode(creds_.user + ":" + creds_.password);
    }

    credentials creds_;
    bool preemptive_;
};

} // namespace

std::unique_ptr<authenticator> make_basic_auth(credentials creds, bool preemptive) {
    return std::make_unique<basic_auth>(std::move(creds), preemptive);
}

std::vector<std::string> offered_schemes(const answer_head& challenge) {
    // RFC 9110 section 11.6.1: a field holds a comma-separated list of challenges, each a scheme
    // optionally followed by a token68 or by auth-params ("name=value", which may be quoted and
    // hold commas). A list element that does not start with "name=" starts a new challenge.
    std::vector<std::string> schemes;
    for (auto value : challenge.values("Proxy-Authenticate")) {
        bool quoted = false, element_start = true;
        for (std::size_t i = 0; i < value.size(); ++i) {
            char c = value[i];
            if (quoted) {
                if (c == '\\')
                    ++i;
                else if (c == '"')
                    quoted = false;
                continue;
            }
            if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                element_start = true;
            } else if (element_start && c != ' ' && c != '\t') {
                element_start = false;
                auto end = value.find_first_of(" \t,=", i);
                auto after = value.find_first_not_of(" \t", end == value.npos ? value.size() : end);
                bool is_param = after != value.npos && value[after] == '=';
                if (!is_param)
                    schemes.emplace_back(value.substr(i, end - i));
                i = (end == value.npos ? value.size() : end) - 1;
            }
        }
    }
    return schemes;
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

} // namespace corkscrew
