#include "credential_files.hpp"

#include "platform.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace corkscrew {

namespace {

// Group or others may read or write: what ssh and curl refuse. Execute bits grant nothing here.
constexpr mode_t shared_access = (S_IRWXG | S_IRWXO) & ~(S_IXGRP | S_IXOTH);

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view skip_blanks(std::string_view s) {
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    return s;
}

// `path` as a shell word, so the suggested command can be pasted as it is.
std::string shell_word(std::string_view path) {
    const bool plain = !path.empty() && std::all_of(path.begin(), path.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::strchr("/._-+,:=@%~", c) != nullptr;
    });
    if (plain && path.front() != '~')
        return std::string(path);
    std::string out = "'";
    for (char c : path)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string at_line(std::string_view source, std::size_t line) {
    return std::string(source) + ", line " + std::to_string(line) + ": ";
}

// An open file descriptor, closed when it goes out of scope.
class file_handle {
public:
    explicit file_handle(int fd) : fd_(fd) {}
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// The contents of the credential file at `path`, refused as check_private() says. The checks are
// made on the open file, so the file examined is the file read. Nothing when the file does not
// exist and !must_exist.
result<std::optional<std::string>> read_private_file(const std::string& path, std::string_view what,
                                                     bool must_exist) {
    const std::string shown = std::string(what) + " " + printable(path);
    file_handle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (file.get() < 0) {
        const int e = errno;
        if (!must_exist && (e == ENOENT || e == ENOTDIR))
            return std::optional<std::string>();
        return fail(failure::usage, "cannot read " + shown + ": " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0)
        return fail(failure::usage, "cannot read " + shown + ": " + std::strerror(errno));
    if (auto refused = check_private(st.st_mode, st.st_uid, ::geteuid(), path, what))
        return *refused;

    std::string contents;
    // Reserved up front, so that no reallocation leaves a copy of the password behind.
    contents.reserve(max_credential_file_bytes);
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(file.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int e = errno;
            secure_wipe(buffer, sizeof buffer);
            wipe(contents);
            return fail(failure::usage, "cannot read " + shown + ": " + std::strerror(e));
        }
        if (n == 0)
            break;
        if (contents.size() + static_cast<std::size_t>(n) > max_credential_file_bytes) {
            secure_wipe(buffer, sizeof buffer);
            wipe(contents);
            return fail(failure::usage, shown + " is larger than " +
                                            std::to_string(max_credential_file_bytes / 1024) +
                                            " KiB: is it the right file?");
        }
        contents.append(buffer, static_cast<std::size_t>(n));
    }
    secure_wipe(buffer, sizeof buffer);
    return std::optional<std::string>(std::move(contents));
}

// "user:password" split at the first ':' (the password may hold ':' and spaces).
std::optional<credentials> split_user_password(std::string_view text, std::string source) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return std::nullopt;
    return credentials{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)),
                       std::move(source)};
}

struct host_and_port {
    std::string host;
    std::optional<std::uint16_t> port;
};

// HOST, HOST:PORT, [IPv6] or [IPv6]:PORT, checked as the proxy URL's host and port are.
result<host_and_port> parse_host_and_port(std::string_view text) {
    std::string_view host = text, port;
    bool has_port = false;
    if (text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return fail(failure::usage, "unclosed '[' in '" + printable(text) + "'");
        host = text.substr(0, close + 1);
        auto after = text.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return fail(failure::usage, "bad proxy '" + printable(text) + "'");
            port = after.substr(1);
            has_port = true;
        }
    } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
        if (text.find(':', colon + 1) != std::string_view::npos)
            return fail(failure::usage, "write an IPv6 address in brackets ([::1]:3128), not '" +
                                            printable(text) + "'");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        has_port = true;
    }
    auto h = parse_host(host);
    if (!h)
        return h.err();
    host_and_port out{*h, std::nullopt};
    if (has_port) {
        auto p = parse_port(port);
        if (!p)
            return p.err();
        out.port = *p;
    }
    return out;
}

// True if `line` is `keyword` followed by a blank (and so not, say, the user name "proxyuser").
bool starts_with_keyword(std::string_view line, std::string_view keyword) {
    return line.size() > keyword.size() && line.substr(0, keyword.size()) == keyword &&
           is_blank(line[keyword.size()]);
}

// A netrc token and the line it starts on.
struct netrc_token {
    std::string text;
    std::size_t line = 0;
};

// Splits a netrc file into tokens as curl does: blanks and newlines separate them, a token starting
// with '"' runs to the closing '"' with backslash escapes, and lines whose first non-blank is '#'
// are comments.
class netrc_tokenizer {
public:
    netrc_tokenizer(std::string_view text, std::string_view source)
        : text_(text), source_(source) {}

    // The next token, nothing at the end of the text, or an error for a quote left open.
    result<std::optional<netrc_token>> next() {
        for (;;) {
            if (line_start_) {
                line_start_ = false;
                auto rest = skip_blanks(text_.substr(pos_));
                if (!rest.empty() && rest.front() == '#') {
                    skip_line();
                    continue;
                }
            }
            while (pos_ < text_.size() && is_separator(text_[pos_]) && text_[pos_] != '\n')
                ++pos_;
            if (pos_ == text_.size())
                return std::optional<netrc_token>();
            if (text_[pos_] == '\n') {
                new_line();
                continue;
            }
            if (text_[pos_] == '"')
                return quoted();
            const auto start = pos_;
            while (pos_ < text_.size() && !is_separator(text_[pos_]))
                ++pos_;
            return std::optional<netrc_token>(
                netrc_token{std::string(text_.substr(start, pos_ - start)), line_});
        }
    }

    // Skips a macdef's body: the rest of the macdef line, then lines up to a blank one.
    void skip_macro() {
        skip_line();
        while (pos_ < text_.size()) {
            auto line = text_.substr(pos_, text_.find('\n', pos_) - pos_);
            const bool blank = std::all_of(line.begin(), line.end(),
                                           [](char c) { return is_blank(c) || c == '\r'; });
            skip_line();
            if (blank)
                break;
        }
    }

private:
    // curl ends an unquoted token at any byte up to and including the space, as ftp ends it at
    // blanks and newlines.
    static bool is_separator(char c) { return static_cast<unsigned char>(c) <= ' '; }

    void new_line() {
        ++pos_;
        ++line_;
        line_start_ = true;
    }

    void skip_line() {
        auto end = text_.find('\n', pos_);
        if (end == std::string_view::npos) {
            pos_ = text_.size();
            return;
        }
        pos_ = end;
        new_line();
    }

    result<std::optional<netrc_token>> quoted() {
        netrc_token token{{}, line_};
        ++pos_;
        // Room for the whole rest of the line, so that growing leaves no copy of a password behind.
        token.text.reserve(std::min(text_.find('\n', pos_), text_.size()) - pos_);
        while (pos_ < text_.size() && text_[pos_] != '\n') {
            char c = text_[pos_++];
            if (c == '"')
                return std::optional<netrc_token>(std::move(token));
            if (c == '\\') {
                if (pos_ == text_.size() || text_[pos_] == '\n')
                    break;
                c = text_[pos_++];
                c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
            }
            token.text += c;
        }
        wipe(token.text);
        return fail(failure::usage,
                    at_line(source_, token.line) + "a quoted token is not closed on its line");
    }

    std::string_view text_;
    std::string_view source_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    bool line_start_ = true;
};

// One `machine` or `default` entry of a netrc file.
struct netrc_entry {
    bool is_default = false;
    std::string machine;
    std::size_t line = 0;
    std::optional<std::string> login;
    std::optional<std::string> password;
};

bool machine_matches(std::string_view machine, std::string_view host) {
    if (machine.size() >= 2 && machine.front() == '[' && machine.back() == ']')
        machine = machine.substr(1, machine.size() - 2);
    return iequals(machine, host);
}

result<std::vector<netrc_entry>> parse_netrc(std::string_view contents, std::string_view source) {
    netrc_tokenizer tokens(contents, source);
    std::vector<netrc_entry> entries;
    // The value after a keyword; a keyword at the end of the file has none.
    auto value_of = [&](const netrc_token& keyword) -> result<std::string> {
        auto value = tokens.next();
        if (!value)
            return value.err();
        if (!*value)
            return fail(failure::usage,
                        at_line(source, keyword.line) + "'" + keyword.text + "' without a value");
        return std::move((*value)->text);
    };
    for (;;) {
        auto token = tokens.next();
        if (!token)
            return token.err();
        if (!*token)
            return entries;
        const netrc_token& t = **token;
        if (iequals(t.text, "machine")) {
            auto name = value_of(t);
            if (!name)
                return name.err();
            entries.push_back({false, std::move(*name), t.line, {}, {}});
        } else if (iequals(t.text, "default")) {
            entries.push_back({true, {}, t.line, {}, {}});
        } else if (iequals(t.text, "login") || iequals(t.text, "password") ||
                   iequals(t.text, "account")) {
            auto value = value_of(t);
            if (!value)
                return value.err();
            // An account is ftp's ACCT, nothing a proxy asks for; a value outside an entry belongs
            // to none.
            if (!entries.empty() && iequals(t.text, "login"))
                entries.back().login = *value;
            else if (!entries.empty() && iequals(t.text, "password"))
                entries.back().password = *value;
            wipe(*value);
        } else if (iequals(t.text, "macdef")) {
            tokens.skip_macro();
        }
        // Other words are ignored, as curl does, so files written for other tools still work.
    }
}

} // namespace

std::optional<error> check_private(mode_t mode, uid_t owner, uid_t me, std::string_view path,
                                   std::string_view what) {
    const std::string shown = std::string(what) + " " + printable(path);
    if (owner != me && owner != 0)
        return fail(failure::usage, shown + " belongs to another user (uid " +
                                        std::to_string(owner) +
                                        "); use a file of your own, readable by you only "
                                        "(chmod 600)");
    if ((mode & shared_access) == 0)
        return std::nullopt;
    const bool readable = (mode & (S_IRGRP | S_IROTH)) != 0;
    const bool writable = (mode & (S_IWGRP | S_IWOTH)) != 0;
    const char* access = readable && writable ? "readable and writable"
                         : readable           ? "readable"
                                              : "writable";
    return fail(failure::usage, shown + " is " + access + " by other users; run: chmod 600 " +
                                    shell_word(printable(path)));
}

std::optional<error> check_private_file(const std::string& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return check_private(st.st_mode, st.st_uid, ::geteuid(), path, what);
}

std::optional<credentials> auth_file::lookup(const endpoint_name& proxy) const {
    const auth_entry* any_port = nullptr;
    for (const auto& entry : entries) {
        if (!iequals(entry.host, proxy.host))
            continue;
        if (entry.port == proxy.port)
            return entry.login;
        if (!entry.port && any_port == nullptr)
            any_port = &entry;
    }
    if (any_port != nullptr)
        return any_port->login;
    return fallback;
}

result<auth_file> parse_auth_file(std::string_view contents, std::string_view source) {
    auth_file file;
    std::size_t fallback_line = 0;
    std::vector<std::size_t> entry_lines;
    std::size_t number = 0;
    while (!contents.empty()) {
        auto end = contents.find('\n');
        auto line = contents.substr(0, end);
        contents.remove_prefix(end == std::string_view::npos ? contents.size() : end + 1);
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const auto here = at_line(source, number);
        const std::string origin = std::string(source) + " (line " + std::to_string(number) + ")";

        auto text = skip_blanks(line);
        if (text.empty() || text.front() == '#')
            continue;
        if (!starts_with_keyword(text, "proxy")) {
            // Taken as it is, as corkscrew reads its one line, so a password may end in blanks.
            auto login = split_user_password(line, origin);
            if (!login)
                return fail(failure::usage,
                            here + "expected user:password or proxy HOST[:PORT] user:password");
            if (file.fallback)
                return fail(failure::usage, here + "a second user:password line (line " +
                                                std::to_string(fallback_line) +
                                                " already applies to any proxy)");
            file.fallback = *login;
            fallback_line = number;
            continue;
        }

        auto rest = skip_blanks(text.substr(std::string_view("proxy").size()));
        auto proxy_text = rest.substr(0, std::min(rest.find(' '), rest.find('\t')));
        auto login_text = skip_blanks(rest.substr(proxy_text.size()));
        if (proxy_text.empty() || login_text.empty())
            return fail(failure::usage, here + "expected proxy HOST[:PORT] user:password");
        auto proxy = parse_host_and_port(proxy_text);
        if (!proxy)
            return fail(failure::usage, here + proxy.err().message);
        auto login = split_user_password(login_text, origin);
        if (!login)
            return fail(failure::usage,
                        here + "expected user:password after proxy " + printable(proxy_text));
        for (std::size_t i = 0; i < file.entries.size(); ++i) {
            const auto& other = file.entries[i];
            if (iequals(other.host, proxy->host) && other.port == proxy->port)
                return fail(failure::usage, here + "a second entry for proxy " +
                                                printable(proxy_text) + " (the first is on line " +
                                                std::to_string(entry_lines[i]) + ")");
        }
        file.entries.push_back({std::move(proxy->host), proxy->port, *login});
        entry_lines.push_back(number);
    }
    if (file.entries.empty() && !file.fallback)
        return fail(failure::usage, std::string(source) +
                                        " holds no credentials (want user:password, or lines "
                                        "proxy HOST[:PORT] user:password)");
    return file;
}

result<auth_file> load_auth_file(const std::string& path) {
    constexpr std::string_view what = "auth file";
    auto contents = read_private_file(path, what, true);
    if (!contents)
        return contents.err();
    auto file = parse_auth_file(**contents, std::string(what) + " " + printable(path));
    wipe(**contents);
    return file;
}

result<std::optional<credentials>> netrc_lookup(std::string_view contents, std::string_view host,
                                                std::string_view source, std::string_view user) {
    auto entries = parse_netrc(contents, source);
    if (!entries)
        return entries.err();
    // With a user name already known, an entry for another login is someone else's (curl).
    auto usable = [&](const netrc_entry& e) {
        return user.empty() || !e.login || *e.login == user;
    };
    const netrc_entry* found = nullptr;
    for (const auto& e : *entries) {
        if (!e.is_default && machine_matches(e.machine, host) && usable(e)) {
            found = &e;
            break;
        }
    }
    for (const auto& e : *entries) {
        if (found == nullptr && e.is_default && usable(e))
            found = &e;
    }
    std::optional<credentials> out;
    if (found != nullptr && found->password) {
        std::string login(found->login ? std::string_view(*found->login) : user);
        if (!login.empty())
            out = credentials{std::move(login), *found->password,
                              std::string(source) + " (line " + std::to_string(found->line) + ")"};
    }
    for (auto& e : *entries) {
        if (e.password)
            wipe(*e.password);
    }
    return out;
}

result<std::optional<credentials>> load_netrc(const std::string& path, std::string_view host,
                                              bool must_exist, std::string_view user) {
    constexpr std::string_view what = "netrc file";
    auto contents = read_private_file(path, what, must_exist);
    if (!contents)
        return contents.err();
    if (!*contents)
        return std::optional<credentials>();
    auto found = netrc_lookup(**contents, host, std::string(what) + " " + printable(path), user);
    wipe(**contents);
    return found;
}

} // namespace corkscrew
