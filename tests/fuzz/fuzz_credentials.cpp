// Fuzzes the credential files (credential_files.hpp) through their string-based parsers: the
// auth file (parse_auth_file) and netrc (netrc_lookup). What they accept is well formed; what they
// refuse is refused in a printable message that does not depend on, and so cannot show, a
// password.
//
// Input: a first line "HOST[ PORT[ USER]]", the proxy looked up (USER: the one of the proxy URL,
// for netrc); then the file's text, read both as an auth file and as a netrc file.
#include "credential_files.hpp"

#include "fuzz_support.hpp"

#include <algorithm>
#include <array>
#include <charconv>

using namespace corkscrew;
using fuzz::require;

namespace {

constexpr std::string_view auth_source = "auth file fuzz";
constexpr std::string_view netrc_source = "netrc file fuzz";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view skip_blanks(std::string_view s) {
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    return s;
}

bool iequal(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::string swapped_case(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (std::isalpha(static_cast<unsigned char>(c)))
            c = static_cast<char>(c ^ 0x20);
    return out;
}

// The auth file's text with every password overwritten, found by the format of
// credential_files.hpp rather than by the parser: on a "proxy HOST user:password" line what
// follows the ':' of the third part, on any other line what follows the line's first ':' (a
// trailing CR is no part of it).
std::string without_passwords(std::string_view text) {
    std::string out;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string line(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        const std::size_t kept =
            !line.empty() && line.back() == '\r' ? line.size() - 1 : line.size();
        std::string_view body = skip_blanks(std::string_view(line).substr(0, kept));
        std::size_t password_at = std::string::npos;
        if (body.size() > 5 && body.starts_with("proxy") && is_blank(body[5])) {
            auto rest = skip_blanks(body.substr(5));
            auto proxy = rest.substr(0, std::min(rest.find(' '), rest.find('\t')));
            auto login = skip_blanks(rest.substr(proxy.size()));
            if (auto colon = login.find(':'); colon != std::string_view::npos)
                password_at = static_cast<std::size_t>(login.data() - line.data()) + colon + 1;
        } else if (!body.empty() && body.front() != '#') {
            password_at = line.find(':');
            if (password_at != std::string::npos)
                ++password_at;
        }
        if (password_at != std::string::npos && password_at < kept)
            std::fill(line.begin() + static_cast<std::ptrdiff_t>(password_at),
                      line.begin() + static_cast<std::ptrdiff_t>(kept), 'x');
        out += line;
        if (end != std::string_view::npos)
            out += '\n';
    }
    return out;
}

void check_auth_file(std::string_view text, const endpoint_name& proxy) {
    auto file = parse_auth_file(text, auth_source);
    auto blind = parse_auth_file(without_passwords(text), auth_source);
    require(bool(file) == bool(blind), "a password does not make an auth file good or bad");
    if (!file) {
        const auto& message = file.err().message;
        require(file.err().kind == failure::usage, "a bad auth file is a usage error");
        require(fuzz::is_printable(message), "auth file messages are printable");
        require(message.starts_with(auth_source), "auth file messages name the file");
        // The same message whatever the passwords: none of them can be in it.
        require(message == blind.err().message, "auth file messages show no password");
        return;
    }
    require(!file->entries.empty() || file->fallback, "an accepted auth file has credentials");
    require(file->entries.size() == blind->entries.size(), "the same entries without passwords");
    for (const auto& e : file->entries) {
        auto host = parse_host(e.host);
        require(host && *host == e.host, "an entry's host is a host");
        require(!e.port || *e.port > 0, "an entry's port is a port");
        require(!e.login.user.empty() && e.login.user.find(':') == std::string::npos,
                "a user name is not empty and holds no ':'");
        require(e.login.user.find('\n') == std::string::npos &&
                    e.login.password.find('\n') == std::string::npos,
                "credentials are one line");
        require(e.login.source.starts_with(auth_source), "credentials name their file");
    }
    if (file->fallback)
        require(!file->fallback->user.empty() &&
                    file->fallback->user.find(':') == std::string::npos,
                "the fallback's user name is not empty and holds no ':'");
    if (auto found = file->lookup(proxy))
        require(!found->user.empty(), "what lookup finds has a user name");
}

// netrc's messages name the file and line and say what is wrong, without a token of the file:
// the only word they repeat is a keyword.
bool is_netrc_message(std::string_view message) {
    if (!message.starts_with(netrc_source))
        return false;
    auto colon = message.find(": ");
    if (colon == std::string_view::npos)
        return false;
    auto what = message.substr(colon + 2);
    if (what == "a quoted token is not closed on its line")
        return true;
    constexpr std::string_view suffix = "' without a value";
    if (!what.starts_with('\'') || !what.ends_with(suffix))
        return false;
    auto keyword = what.substr(1, what.size() - 1 - suffix.size());
    constexpr std::array<std::string_view, 4> keywords = {"machine", "login", "password",
                                                          "account"};
    return std::any_of(keywords.begin(), keywords.end(),
                       [&](std::string_view k) { return iequal(k, keyword); });
}

void check_netrc(std::string_view text, std::string_view host, std::string_view user) {
    auto found = netrc_lookup(text, host, netrc_source, user);
    if (!found) {
        require(found.err().kind == failure::usage, "a bad netrc is a usage error");
        require(fuzz::is_printable(found.err().message), "netrc messages are printable");
        require(is_netrc_message(found.err().message), "netrc messages show no token of the file");
        return;
    }
    // Machine names compare case-insensitively.
    auto other_case = netrc_lookup(text, swapped_case(host), netrc_source, user);
    require(other_case && other_case->has_value() == found->has_value(),
            "machine names match whatever their case");
    if (!*found)
        return;
    const auto& creds = **found;
    require(!creds.user.empty() && creds.has_password, "netrc gives a user and a password");
    require(user.empty() || creds.user == user, "with a user given, only that user's entry");
    require(creds.source.starts_with(netrc_source), "credentials name their file");
    require((*other_case)->user == creds.user && (*other_case)->password == creds.password,
            "the same entry whatever the host's case");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    auto first_line = in.until("\n");
    const auto text = in.rest();
    const auto host = first_line.substr(0, first_line.find(' '));
    first_line.remove_prefix(std::min(first_line.size(), host.size() + 1));
    const auto port_text = first_line.substr(0, first_line.find(' '));
    first_line.remove_prefix(std::min(first_line.size(), port_text.size() + 1));
    const auto user = first_line;

    std::uint16_t port = 3128;
    std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    check_auth_file(text, endpoint_name{std::string(host), port});
    check_netrc(text, host, user);
    return 0;
}
