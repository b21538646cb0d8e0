// Credential files: the auth file (--auth-file, corkscrew's AUTHFILE) and netrc. Parsing is pure;
// the load_* functions add the permission check and the reading.
#pragma once

#include "credentials.hpp"
#include "error.hpp"
#include "url.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace corkscrew {

// Credential files are a few lines; anything this big is the wrong file, not a password list.
// (curl bounds .netrc the same way.)
inline constexpr std::size_t max_credential_file_bytes = 128 * 1024;

// The refusal for a credential file with `mode` and `owner` read by a process whose effective user
// is `me`, if any: group or others may read or write it, or it belongs to another user than `me`
// or root. Execute bits do not matter. `what` names the kind of file ("auth file").
std::optional<error> check_private(mode_t mode, uid_t owner, uid_t me, std::string_view path,
                                   std::string_view what);

// check_private() for the file at `path` (followed if a symlink), as ssh refuses a private key
// that others can read. A file that cannot be examined passes: its reader reports why.
std::optional<error> check_private_file(const std::string& path, std::string_view what);

// One `proxy HOST[:PORT] user:password` line.
struct auth_entry {
    std::string host;                  // as endpoint_name holds it: an IPv6 literal unbracketed
    std::optional<std::uint16_t> port; // none: any port of `host`
    credentials login;
};

// An auth file: per-proxy entries and at most one `user:password` line for any proxy.
struct auth_file {
    std::vector<auth_entry> entries;
    std::optional<credentials> fallback;

    // The credentials for `proxy`: its host and port entry, else its host-only entry, else the
    // fallback. Host names compare case-insensitively.
    std::optional<credentials> lookup(const endpoint_name& proxy) const;
};

// Parses an auth file's text. `source` names the file in messages and in each credentials'
// source ("auth file /x" gives "auth file /x (line 3)"). Either form is accepted:
//   user:password                       one line, for any proxy (corkscrew's format)
//   proxy HOST[:PORT] user:password     per proxy; HOST may be an IPv6 literal in brackets
// with blank lines and lines starting with '#' ignored, and one plain user:password line as the
// fallback for proxies without an entry. A password may hold ':' and spaces; a trailing CR is
// dropped. A malformed line is a usage error naming `source` and the line, never its text.
result<auth_file> parse_auth_file(std::string_view contents, std::string_view source);

// Refuses the file at `path` if check_private_file() does, else reads and parses it. A missing
// or unreadable file is a usage error.
result<auth_file> load_auth_file(const std::string& path);

// The credentials a netrc file (`contents`) holds for `host`, in the format of ftp(1) and curl:
// tokens separated by blanks and newlines, `machine NAME`, `default`, `login`, `password`,
// `account` (ignored), `macdef NAME` (its body, up to the next blank line, skipped), lines
// starting with '#' ignored, and "quoted tokens" with \" \\ \n \r \t escapes. The first machine
// matching `host` (case-insensitively; "[::1]" matches "::1") wins, else `default`. With a `user`
// (given in the proxy URL without a password), only entries with that login, or none, count.
// Nothing (nullopt) when the entry found has no password, or no login and no `user`. A syntax
// error (an unterminated quote) is a usage error naming `source` and the line.
result<std::optional<credentials>> netrc_lookup(std::string_view contents, std::string_view host,
                                                std::string_view source,
                                                std::string_view user = {});

// netrc_lookup() on the file at `path`, refused as check_private_file() says (curl and ftp also
// refuse a netrc that others can read). A missing file is nothing when !must_exist (~/.netrc is
// optional) and a usage error otherwise (--netrc-file names a file that must be there).
result<std::optional<credentials>> load_netrc(const std::string& path, std::string_view host,
                                              bool must_exist, std::string_view user = {});

} // namespace corkscrew
