#include "answer.hpp"

#include "text.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <limits>

namespace corkscrew {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

// Whether `line` is a status line without the space and reason phrase ("HTTP/1.0 200").
bool lacks_reason(std::string_view line) {
    constexpr std::string_view shape = "HTTP/d.d ddd";
    if (line.size() != shape.size())
        return false;
    for (std::size_t i = 0; i < shape.size(); ++i)
        if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(line[i]))
                            : line[i] != shape[i])
            return false;
    return true;
}

// Puts the head into the form Beast parses, tolerating what proxies are seen to send:
// - lines ending in a bare LF get their CR (RFC 9112 section 2.2);
// - a status line with no reason phrase gets the space before it that Beast requires (RFC 9112
//   section 4: a client should ignore the reason phrase).
// Only the head is rewritten, never tunnel data.
std::string normalized(std::string_view head) {
    std::string out;
    out.reserve(head.size() + 64);
    bool in_status_line = true;
    for (std::size_t i = 0; i < head.size(); ++i) {
        char c = head[i];
        bool line_end = c == '\n' || (c == '\r' && i + 1 < head.size() && head[i + 1] == '\n');
        if (line_end && in_status_line) {
            in_status_line = false;
            if (lacks_reason(out))
                out += ' ';
        }
        if (c == '\n' && (i == 0 || head[i - 1] != '\r'))
            out += '\r';
        out += c;
    }
    return out;
}

} // namespace

std::string answer_head::status_line() const {
    auto line = std::to_string(status);
    if (!reason.empty())
        line += " " + printable(reason);
    return line;
}

std::vector<std::string_view> answer_head::values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields)
        if (iequals(f.name, name))
            out.emplace_back(f.value);
    return out;
}

std::optional<std::size_t> head_finder::find(std::string_view buffered) {
    for (std::size_t i = scanned_; i < buffered.size(); ++i) {
        if (buffered[i] != '\n')
            continue;
        // A line just ended; the head ends if the next line is empty ("\n" or "\r\n").
        if (i + 1 >= buffered.size() || (buffered[i + 1] == '\r' && i + 2 >= buffered.size())) {
            scanned_ = i;
            return std::nullopt;
        }
        if (buffered[i + 1] == '\n')
            return i + 2;
        if (buffered[i + 1] == '\r' && buffered[i + 2] == '\n')
            return i + 3;
    }
    scanned_ = buffered.size();
    return std::nullopt;
}

// Beast's response parser, keeping the status line and fields and dropping the body.
class answer_parser::impl final : public http::basic_parser<false> {
public:
    impl() {
        // The head is checked against max_answer_head_bytes before Beast sees it; the CRs added
        // for bare-LF lines can at most double it.
        header_limit(static_cast<std::uint32_t>(2 * max_answer_head_bytes + 2));
        // Bodies are dropped as they arrive, so their size costs nothing. (Not boost::none: 1.74
        // compares the length against it as an optional, and every length is larger.)
        body_limit(std::numeric_limits<std::uint64_t>::max());
        eager(true);
    }

    answer_head head;
    bool got_status = false;

private:
    void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}

    void on_response_impl(int code, string_view reason, int version, error_code&) override {
        head.status = static_cast<unsigned>(code);
        head.reason = std::string(reason);
        head.version = version;
        got_status = true;
    }

    void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
        head.fields.push_back({std::string(name), std::string(value)});
    }

    // Beast reads "Proxy-Connection" (the HTTP/1.0-era proxies' name) as it reads "Connection".
    void on_header_impl(error_code&) override { head.keep_alive = keep_alive(); }
    void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
        return body.size();
    }
    void on_finish_impl(error_code&) override {}
};

answer_parser::answer_parser() : impl_(std::make_unique<impl>()) {}
answer_parser::~answer_parser() = default;

result<std::size_t> answer_parser::parse_head(std::string_view buffered) {
    auto end = finder_.find(buffered);
    if (!end) {
        if (buffered.size() > max_answer_head_bytes)
            return fail(failure::bad_answer, "answer header larger than " +
                                                 std::to_string(max_answer_head_bytes / 1024) +
                                                 " KiB");
        return std::size_t{0};
    }
    if (*end > max_answer_head_bytes)
        return fail(failure::bad_answer, "answer header larger than " +
                                             std::to_string(max_answer_head_bytes / 1024) + " KiB");
    auto head = normalized(buffered.substr(0, *end));
    error_code ec;
    auto used = impl_->put(boost::asio::buffer(head), ec);
    if (!ec && used != head.size())
        ec = http::error::need_more;
    if (ec) {
        if (!impl_->got_status)
            return fail(failure::bad_answer,
                        "not an HTTP answer: '" +
                            printable(buffered.substr(0, std::min<std::size_t>(*end, 40))) + "'");
        // A 2xx needs nothing from its fields: the tunnel starts after the empty line whatever
        // they say (RFC 9110 section 9.3.6: Content-Length and Transfer-Encoding do not apply).
        if (!impl_->head.is_success())
            return fail(failure::bad_answer, "bad header in '" + impl_->head.status_line() +
                                                 "' answer: " + ec.message());
        impl_->head.ignored_problem = ec.message();
        impl_->head.keep_alive = false;
    }
    return *end;
}

const answer_head& answer_parser::head() const {
    return impl_->head;
}

bool answer_parser::body_is_framed() const {
    return !impl_->need_eof();
}

bool answer_parser::done() const {
    return impl_->is_done();
}

result<std::size_t> answer_parser::parse_body(std::string_view data) {
    // Where Beast's chunk parser stopped without consuming anything, it wants the same bytes
    // again and more; once it has seen the last chunk's "0\r\n", Boost 1.74 asserts that it gets
    // at least the five bytes of "0\r\n\r\n" (an abort in builds with assertions, such as the
    // sanitizer build). No chunked body ends in fewer than five bytes from where a chunk header
    // begins, so waiting for five costs nothing.
    // Found by tests/fuzz (regressions/fuzz_answer/empty-chunked-407-split-beast-assert).
    constexpr std::size_t shortest_chunked_rest = 5;
    if (data.empty() || (body_stalled_ && data.size() < shortest_chunked_rest))
        return std::size_t{0};
    error_code ec;
    auto used = impl_->put(boost::asio::buffer(data.data(), data.size()), ec);
    body_stalled_ = ec == http::error::need_more && used == 0;
    if (ec == http::error::need_more)
        return used;
    if (ec)
        return fail(failure::bad_answer,
                    "bad body in '" + impl_->head.status_line() + "' answer: " + ec.message());
    return used;
}

} // namespace corkscrew
