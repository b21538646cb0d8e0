// Reading the proxy's answer to CONNECT: framing, parsing (Beast's HTTP parser) and discarding the
// body of a non-2xx answer. No I/O: bytes go in, decisions come out.
#pragma once

#include "error.hpp"
#include "request.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corkscrew {

// The most bytes an answer's status line and headers may take. Generous: squid caps replies at
// 64 KiB and curl at 300 KiB; an answer larger than this is an error, never tunnel data.
inline constexpr std::size_t max_answer_head_bytes = 256 * 1024;

struct answer_head {
    int version = 11; // 10 for HTTP/1.0, 11 for HTTP/1.1
    unsigned status = 0;
    std::string reason;
    std::vector<header_field> fields;
    // Whether the connection may carry another request once the body has been read.
    bool keep_alive = false;
    // A header problem that was ignored because the status was 2xx (shown with -v).
    std::string ignored_problem;

    bool is_interim() const { return status / 100 == 1 && status != 101; }
    bool is_success() const { return status / 100 == 2; }
    // "403 Forbidden", with unprintable bytes of the reason replaced, for messages.
    std::string status_line() const;
    std::vector<std::string_view> values(std::string_view name) const;
};

// Finds the end of an answer head (the empty line) in bytes that arrive piece by piece. Lines may
// end in CRLF or a bare LF. Each byte is looked at once however the answer is split.
class head_finder {
public:
    // The length of the head, up to and including the empty line, once `buffered` holds it.
    std::optional<std::size_t> find(std::string_view buffered);

private:
    std::size_t scanned_ = 0;
};

// One answer: its head, then (for a non-2xx answer kept alive) its body, which is discarded.
class answer_parser {
public:
    answer_parser();
    ~answer_parser();
    answer_parser(const answer_parser&) = delete;
    answer_parser& operator=(const answer_parser&) = delete;

    // Offers every byte received since the answer began. Returns 0 while the head is incomplete,
    // then the head's length; the bytes after it are body or, after a 2xx, tunnel data.
    result<std::size_t> parse_head(std::string_view buffered);

    const answer_head& head() const;

    // After a non-2xx head: whether the body ends by its framing (Content-Length or chunked), so
    // the connection can be reused, rather than by the proxy closing the connection.
    bool body_is_framed() const;

    // Whether the whole answer, body included, has been parsed.
    bool done() const;

    // Consumes body bytes (to be discarded); returns how many were used.
    result<std::size_t> parse_body(std::string_view data);

private:
    class impl;
    head_finder finder_;
    std::unique_ptr<impl> impl_;
    // The last parse_body consumed nothing and wanted more (a chunk header cut short).
    bool body_stalled_ = false;
};

} // namespace corkscrew
