// Fuzzes the CONNECT exchange (tunnel.hpp) over in-memory connections, as
// tests/unit/tunnel_test.cpp drives it: the proxy's side comes from the input, cut into reads where
// the input says; 1xx, 2xx and 407 answers, bodies to skip, retries on the same or a new
// connection, Basic and Digest.
//
// Input: one byte of options (see `options_byte` below), two bytes for split_plan
// (fuzz_support.hpp), then what the proxy sends on each connection, the connections separated
// by connection_separator. A connection past the last one cannot be opened.
#include "tunnel.hpp"

#include "auth.hpp"
#include "fuzz_support.hpp"

#include "../support/script_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>

using namespace corkscrew;
using fuzz::require;

namespace {

constexpr std::string_view connection_separator = "@@@@\n";
// More connections than the exchange opens for its tries and reconnections.
constexpr std::size_t max_connections = 8;
// digest.cpp's max_stale_refreshes: the stale nonces each Digest authenticator answers without
// counting a try.
constexpr int digest_stale_refreshes = 3;
// The most requests one exchange may send: the counted tries, the stale-nonce refreshes of each
// authenticator the tries may start, and each of those sent once more on a new connection when
// the proxy closed a kept-alive one. Beyond it the retry loop is not bounded.
constexpr std::size_t max_requests =
    2 * (1 + max_auth_tries + (max_auth_tries + 1) * digest_stale_refreshes);

// Credentials distinctive enough that finding them in a message is a leak, not a coincidence.
constexpr std::string_view user = "alice";
constexpr std::string_view password = "pw-7Hq2xVz9-secret";
constexpr std::string_view non_ascii_user = "j\xc3\xbcrgen";
const std::string request_line = "CONNECT git.example:22 HTTP/1.1\r\n";

// The bits of the options byte.
enum options_byte : std::uint8_t {
    exact_bit = 1 << 0,   // request_options::exact (--fdpass)
    no_peek_bit = 1 << 1, // the connection cannot peek (a TLS hop): exact must refuse
    creds_shift = 2,      // 2 bits: none, alice with password, alice without, non-ASCII user
    preemptive_bit = 1 << 4,
    choice_shift = 5,    // 2 bits: auth_choice any, basic, digest, negotiate
    header_bit = 1 << 7, // an extra -H header
};

// A proxy connection played from a script (the index-th of the run's connections).
class script_stream final : public corkscrew_test::script_stream {
public:
    script_stream(std::size_t index, const std::vector<std::string>& pieces, std::string& written,
                  bool can_peek)
        : corkscrew_test::script_stream({pieces.begin(), pieces.end()}, written, can_peek),
          index_(index) {}

    std::size_t index() const { return index_; }

private:
    std::size_t index_;
};

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Checks what was written on one connection: whole CONNECT requests, one after the other, each
// line a field that cannot split the request. Returns how many there were.
std::size_t check_requests(std::string_view written) {
    std::size_t count = 0;
    while (!written.empty()) {
        auto end = written.find("\r\n\r\n");
        require(end != std::string_view::npos, "every request ends with an empty line");
        auto head = written.substr(0, end + 2);
        written.remove_prefix(end + 4);
        require(head.starts_with(request_line), "every request is CONNECT to the target");
        head.remove_prefix(request_line.size());
        while (!head.empty()) {
            auto line = head.substr(0, head.find("\r\n"));
            head.remove_prefix(line.size() + 2);
            require(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
                    "no CR, LF or NUL inside a request's field");
            auto colon = line.find(": ");
            require(colon != std::string_view::npos && colon > 0 &&
                        std::all_of(line.begin(), line.begin() + colon, is_tchar),
                    "every request line after the first is a field");
        }
        ++count;
    }
    return count;
}

// Whether `text`, a message or log line, gives away the password, in clear or in Basic's base64.
bool leaks_password(std::string_view text, const std::string& basic_value) {
    return text.find(password) != std::string_view::npos ||
           text.find(basic_value) != std::string_view::npos;
}

// One exchange. Not in LLVMFuzzerTestOneInput itself: GCC 12 gives the coroutine lambdas of an
// extern "C" function clashing assembler names.
void run(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto options_bits = in.byte();
    const auto shape = in.byte();
    fuzz::split_plan plan(shape, in.byte());

    std::vector<std::string> scripts;
    while (scripts.size() + 1 < max_connections &&
           in.rest().find(connection_separator) != std::string_view::npos)
        scripts.emplace_back(in.until(connection_separator));
    scripts.emplace_back(in.rest());

    hop through;
    through.proxy = {"proxy.test", 3128};
    switch ((options_bits >> creds_shift) & 3) {
    case 1:
        through.creds = credentials{std::string(user), std::string(password), "fuzz"};
        break;
    case 2:
        through.creds = credentials{std::string(user), "", "fuzz", false};
        break;
    case 3:
        through.creds = credentials{std::string(non_ascii_user), std::string(password), "fuzz"};
        break;
    default:
        break;
    }
    through.preemptive_basic = (options_bits & preemptive_bit) != 0;
    const endpoint_name target{"git.example", 22};
    request_options options;
    options.user_agent = "fuzz-agent";
    options.exact = (options_bits & exact_bit) != 0;
    options.auth = static_cast<auth_choice>((options_bits >> choice_shift) & 3);
    if (options_bits & header_bit)
        options.extra_headers.push_back({"X-Trace", "fuzz"});
    const bool can_peek = (options_bits & no_peek_bit) == 0;
    const auto basic_value = base64_encode(std::string(through.creds ? through.creds->user : user) +
                                           ":" + std::string(password));
    // A proxy may echo anything back, the password too: only what the input lacks is a leak.
    const std::string_view whole_input(reinterpret_cast<const char*>(data), size);
    const bool may_leak = whole_input.find(password) == std::string_view::npos &&
                          whole_input.find(basic_value) == std::string_view::npos;

    std::vector<std::string> written;
    written.reserve(max_connections);
    connector connect = [&]() -> net::awaitable<result<std::unique_ptr<byte_stream>>> {
        if (written.size() == scripts.size())
            co_return fail(failure::proxy_unreachable, "no more connections in the input");
        auto index = written.size();
        written.emplace_back();
        std::unique_ptr<byte_stream> s = std::make_unique<script_stream>(
            index, plan.pieces(scripts[index]), written.back(), can_peek);
        co_return s;
    };

    auto lines = std::make_shared<logger::line_sink>([&](std::string_view line) {
        require(fuzz::is_printable(line), "log lines are printable");
        require(!may_leak || !leaks_password(line, basic_value), "log lines hold no password");
    });
    const logger log(2, lines);
    std::optional<result<tunnel>> outcome;
    net::io_context io;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            outcome = co_await open_tunnel(connect, through, target, options, log);
        },
        net::detached);
    io.run();
    require(outcome.has_value(), "the exchange finishes with its input");

    std::size_t requests = 0;
    for (const auto& w : written)
        requests += check_requests(w);
    require(requests <= max_requests, "the retries are bounded");

    if (!*outcome) {
        const auto& e = outcome->err();
        require(e.kind == failure::usage || e.kind == failure::proxy_unreachable ||
                    e.kind == failure::proxy_refused || e.kind == failure::auth_failed ||
                    e.kind == failure::bad_answer,
                "the exchange fails only in the ways tunnel.hpp's callers expect");
        require(fuzz::is_printable(e.message), "error messages are printable");
        require(!may_leak || !leaks_password(e.message, basic_value),
                "error messages hold no password");
        return;
    }
    require(!options.exact || can_peek, "reading exactly needs a stream that can peek");
    auto& t = **outcome;
    const auto& stream = dynamic_cast<const script_stream&>(*t.stream);
    require(stream.index() + 1 == written.size(), "the tunnel is on the last connection opened");
    // The tunnel's bytes are the end of what its connection carried, and what comes before them
    // ends with the empty line of the 2xx head: no byte of a head reaches ssh, none of the
    // tunnel is lost.
    const std::string_view script = scripts[stream.index()];
    const auto tunnel_bytes = t.leftover + stream.rest();
    require(script.ends_with(tunnel_bytes), "the tunnel carries the connection's last bytes");
    const auto answered = script.substr(0, script.size() - tunnel_bytes.size());
    require(answered.ends_with("\n\n") || answered.ends_with("\n\r\n"),
            "the tunnel starts right after an empty line");
    if (options.exact)
        require(t.leftover.empty(), "reading exactly leaves the tunnel's bytes on the connection");
}

} // namespace

// A proxy's Negotiate challenge is answered through GSSAPI: with no ticket cache, no client
// keytab and no Kerberos configuration it fails at once, and no KDC is asked over the network.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ::setenv("KRB5CCNAME", "FILE:/dev/null/no-ticket-cache", 1);
    ::setenv("KRB5_CLIENT_KTNAME", "FILE:/dev/null/no-keytab", 1);
    ::setenv("KRB5_CONFIG", "/dev/null", 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run(data, size);
    return 0;
}
