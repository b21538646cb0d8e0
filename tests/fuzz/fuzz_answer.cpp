// Fuzzes the reading of the proxy's answers (answer.hpp): what one connection carries (interim
// answers, a refusal with a body to skip, the final answer and tunnel data after it), offered to
// answer_parser as the exchange offers it, in reads cut where the input says, and compared with
// the same bytes offered at once.
//
// Input: two bytes for split_plan (fuzz_support.hpp), then the bytes from the proxy.
#include "answer.hpp"

#include "fuzz_support.hpp"

#include <optional>

using namespace corkscrew;
using fuzz::is_printable;
using fuzz::require;

namespace {

// Answers read from one input: more than the exchange reads on a connection (its auth tries,
// interim answers in between), and few enough to keep an execution fast.
constexpr int max_answers = 8;

// Where the head ends, found without head_finder: after the first line end (LF, or CRLF) that
// is followed by an empty line (RFC 9112 section 2.2 allows a bare LF).
std::optional<std::size_t> expected_head_end(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\n')
            continue;
        if (i + 1 < s.size() && s[i + 1] == '\n')
            return i + 2;
        if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n')
            return i + 3;
    }
    return std::nullopt;
}

// The head offered as the exchange offers it: everything received since the answer began, one
// read more each time, until the parser has the head, fails, or the bytes run out (0).
result<std::size_t> feed_head(answer_parser& p, std::string_view wire, fuzz::split_plan& plan) {
    std::size_t received = 0;
    while (received < wire.size()) {
        received += plan.next(wire.size() - received);
        auto r = p.parse_head(wire.substr(0, received));
        if (!r || *r)
            return r;
    }
    return std::size_t{0};
}

struct body_outcome {
    bool done = false;
    std::size_t used = 0; // bytes of `wire` that belong to the body
};

// A refusal's body offered as the exchange discards it: what has arrived and is not used yet,
// again after each read, until the parser is done.
body_outcome feed_body(answer_parser& p, std::string_view wire, fuzz::split_plan& plan) {
    body_outcome out;
    std::size_t received = 0;
    while (!p.done()) {
        auto pending = wire.substr(out.used, received - out.used);
        if (!pending.empty()) {
            auto r = p.parse_body(pending);
            if (!r) {
                require(is_printable(r.err().message), "body error messages are printable");
                return out;
            }
            require(*r <= pending.size(), "parse_body uses no more than it is given");
            out.used += *r;
            if (*r > 0)
                continue;
        }
        if (received == wire.size())
            break;
        received += plan.next(wire.size() - received);
    }
    out.done = p.done();
    return out;
}

bool same_head(const answer_head& a, const answer_head& b) {
    if (a.version != b.version || a.status != b.status || a.reason != b.reason ||
        a.keep_alive != b.keep_alive || a.ignored_problem != b.ignored_problem ||
        a.fields.size() != b.fields.size())
        return false;
    for (std::size_t i = 0; i < a.fields.size(); ++i)
        if (a.fields[i].name != b.fields[i].name || a.fields[i].value != b.fields[i].value)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto shape = in.byte();
    fuzz::split_plan plan(shape, in.byte());
    const std::string_view wire = in.rest();

    std::size_t at = 0; // where the current answer starts
    for (int n = 0; n < max_answers && at < wire.size(); ++n) {
        const auto answer = wire.substr(at);
        answer_parser split;
        auto by_reads = feed_head(split, answer, plan);
        answer_parser whole;
        auto at_once = whole.parse_head(answer);

        require(bool(by_reads) == bool(at_once), "the head parses alike however it is split");
        if (!by_reads) {
            require(by_reads.err().kind == at_once.err().kind &&
                        by_reads.err().message == at_once.err().message,
                    "a bad head fails alike however it is split");
            require(is_printable(by_reads.err().message), "head error messages are printable");
            return 0;
        }
        const auto end = expected_head_end(answer);
        if (*by_reads == 0) {
            require(*at_once == 0 && !end, "a head is incomplete only without its empty line");
            return 0;
        }
        // Whatever follows the returned length is body or tunnel data: it must be exactly where
        // the empty line ends, or header bytes would reach ssh (or a tunnel byte be dropped).
        require(end && *by_reads == *end && *at_once == *end,
                "the head ends exactly after the first empty line");

        const auto& head = split.head();
        require(same_head(head, whole.head()), "the same head however it is split");
        require(is_printable(head.status_line()), "status lines are printable");
        // (Beast reads any three digits, "099" too: a status below 100 is a refusal like any
        // other.)
        require(head.status <= 999, "a status has three digits");
        require(head.version == 10 || head.version == 11, "only HTTP/1.0 and HTTP/1.1");
        for (const auto& f : head.fields)
            require(!f.name.empty() && !fuzz::has_line_breaking_byte(f.name) &&
                        !fuzz::has_line_breaking_byte(f.value),
                    "field names and values hold no CR, LF or NUL");
        if (!head.is_success())
            require(head.ignored_problem.empty(), "only a 2xx answer ignores header problems");
        at += *end;

        if (head.is_success())
            return 0; // the rest is tunnel data
        if (head.is_interim())
            continue;
        // A refusal: its body is skipped when the connection is to carry the retry.
        if (!head.keep_alive || !split.body_is_framed())
            return 0;
        require(whole.body_is_framed(), "the same framing however it is split");
        auto split_body = feed_body(split, wire.substr(at), plan);
        fuzz::split_plan at_once_plan(0x80, 0);
        auto whole_body = feed_body(whole, wire.substr(at), at_once_plan);
        // Whether the body ends, and where, must not depend on the reads: the next answer starts
        // there. How an unfinished body fails may: Beast 1.74 parses a chunk header again while
        // its extension is incomplete, counting the chunk's size against the body limit each
        // time, so a chunk of exabytes fails sooner when its header comes byte by byte. Such a
        // body never ends either way.
        require(split_body.done == whole_body.done, "a body ends alike however it is split");
        if (!split_body.done)
            return 0;
        require(split_body.used == whole_body.used, "a body has the same length however split");
        at += split_body.used;
    }
    return 0;
}
