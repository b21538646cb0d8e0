#include "auth.hpp"

#include <algorithm>

namespace corkscrew {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

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
    // Only the leading scheme of each field for now; full challenge lists come with Digest.
    std::vector<std::string> schemes;
    for (auto value : challenge.values("Proxy-Authenticate")) {
        auto start = value.find_first_not_of(" \t,");
        if (start == std::string_view::npos)
            continue;
        auto end = value.find_first_of(" \t,", start);
        schemes.emplace_back(value.substr(start, end - start));
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
