#include "challenge.hpp"

#include "text.hpp"

namespace corkscrew {

namespace {

bool is_tchar(char c) {
    // RFC 9110 section 5.6.2
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
    // RFC 9110 section 11.2
    static constexpr std::string_view extra = "-._~+/";
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
}

// A cursor over one field value.
class scanner {
public:
    explicit scanner(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    std::size_t pos() const { return pos_; }
    scanner& operator++() {
        ++pos_;
        return *this;
    }
    void seek(std::size_t pos) { pos_ = pos; }

    void skip_ows() {
        while (!at_end() && (peek() == ' ' || peek() == '\t'))
            ++pos_;
    }

    // Skips whitespace and empty list elements (RFC 9110 section 5.6.1 allows "a, , b").
    void skip_separators() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ','))
            ++pos_;
    }

    std::string_view token() {
        auto start = pos_;
        while (!at_end() && is_tchar(peek()))
            ++pos_;
        return text_.substr(start, pos_ - start);
    }

    // A quoted-string with its quotes removed and backslash escapes resolved; nullopt when it is
    // not closed.
    std::optional<std::string> quoted() {
        std::string out;
        ++pos_; // the opening quote
        while (!at_end()) {
            char c = text_[pos_++];
            if (c == '"')
                return out;
            if (c == '\\') {
                if (at_end())
                    return std::nullopt;
                c = text_[pos_++];
            }
            out += c;
        }
        return std::nullopt;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// Whether an auth-param ("name = value") starts at the cursor; leaves the cursor where it was.
// A token68 may end in '=' too ("abc=="): what follows the '=' tells them apart.
bool param_ahead(scanner& s) {
    auto start = s.pos();
    bool found = !s.token().empty();
    s.skip_ows();
    found = found && s.peek() == '=';
    if (found) {
        ++s;
        s.skip_ows();
        found = s.peek() == '"' || is_tchar(s.peek());
    }
    s.seek(start);
    return found;
}

// Reads "name = (token / quoted-string)" at the cursor.
std::optional<auth_param> read_param(scanner& s, std::string& problem) {
    auth_param p;
    p.name = std::string(s.token());
    s.skip_ows();
    ++s; // '='
    s.skip_ows();
    if (s.peek() == '"') {
        auto v = s.quoted();
        if (!v) {
            problem = "unterminated quoted string in parameter '" + p.name + "'";
            return std::nullopt;
        }
        p.value = std::move(*v);
    } else {
        p.value = std::string(s.token());
        if (p.value.empty()) {
            problem = "parameter '" + p.name + "' has no value";
            return std::nullopt;
        }
    }
    return p;
}

} // namespace

bool challenge::is(std::string_view name) const {
    return iequals(scheme, name);
}

std::optional<std::string_view> challenge::param(std::string_view name) const {
    for (const auto& p : params)
        if (iequals(p.name, name))
            return p.value;
    return std::nullopt;
}

parsed_challenges parse_challenges(const std::vector<std::string_view>& field_values) {
    parsed_challenges out;
    for (auto value : field_values) {
        scanner s(value);
        std::string problem;
        s.skip_separators();
        while (!s.at_end() && problem.empty()) {
            challenge c;
            c.scheme = std::string(s.token());
            if (c.scheme.empty()) {
                problem = "expected an auth scheme at '" + printable(value.substr(s.pos())) + "'";
                break;
            }
            s.skip_ows();
            // Either a token68, or a list of auth-params, or nothing before the next challenge.
            if (!s.at_end() && s.peek() != ',' && !param_ahead(s)) {
                auto start = s.pos();
                while (is_token68_char(s.peek()))
                    ++s;
                while (s.peek() == '=')
                    ++s;
                c.token68 = std::string(value.substr(start, s.pos() - start));
                s.skip_ows();
                if (c.token68.empty() || (!s.at_end() && s.peek() != ',')) {
                    problem = "bad token after scheme '" + printable(c.scheme) + "'";
                    break;
                }
            }
            // Parameters run until a list element that is not "name=" starts the next challenge.
            for (;;) {
                auto before = s.pos();
                s.skip_separators();
                if (s.at_end() || !param_ahead(s)) {
                    if (!s.at_end() && s.pos() == before) {
                        problem = "expected ',' after challenge '" + printable(c.scheme) + "'";
                    }
                    break;
                }
                if (!c.token68.empty()) {
                    problem = "parameters after the token of '" + printable(c.scheme) + "'";
                    break;
                }
                auto p = read_param(s, problem);
                if (!p)
                    break;
                c.params.push_back(std::move(*p));
                s.skip_ows();
                if (!s.at_end() && s.peek() != ',') {
                    problem = "expected ',' after parameter '" + c.params.back().name + "'";
                    break;
                }
            }
            if (problem.empty())
                out.challenges.push_back(std::move(c));
        }
        if (!problem.empty())
            out.problems.push_back(problem);
    }
    return out;
}

} // namespace corkscrew
