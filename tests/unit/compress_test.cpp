#include "compress.hpp"
#include "compress_stream.hpp"

#include "../support/script_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <cstring>
#include <deque>
#include <random>
#include <vector>

using namespace corkscrew;
using corkscrew_test::script_stream;
using corkscrew_test::split_pieces;

namespace {

// Lines that zstd shrinks many times over, as a log or a source tree would.
std::string compressible(std::size_t size) {
    std::string out;
    for (int i = 0; out.size() < size; ++i)
        out += "line " + std::to_string(i % 1000) + ": the quick brown fox jumps over the dog\n";
    out.resize(size);
    return out;
}

// Bytes no compressor can shrink, the same on every run.
std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 prng(seed);
    std::string out(size, '\0');
    for (auto& c : out)
        c = static_cast<char>(prng() & 0xff);
    return out;
}

struct wire_frame {
    char type;
    std::string payload;
};

// Splits encoded bytes into frames by the format of compress.hpp, independently of the decoder.
std::vector<wire_frame> split_frames(std::string_view wire) {
    std::vector<wire_frame> frames;
    while (wire.size() >= frame_header_bytes) {
        std::uint32_t length = 0;
        for (std::size_t i = 1; i < frame_header_bytes; ++i)
            length = length << 8 | static_cast<unsigned char>(wire[i]);
        REQUIRE(wire.size() >= frame_header_bytes + length);
        frames.push_back({wire[0], std::string(wire.substr(frame_header_bytes, length))});
        wire.remove_prefix(frame_header_bytes + length);
    }
    REQUIRE(wire.empty());
    return frames;
}

frame_encoder new_encoder() {
    auto e = frame_encoder::create();
    REQUIRE_MESSAGE(e, (e ? "" : e.err().message));
    return std::move(*e);
}

frame_decoder new_decoder() {
    auto d = frame_decoder::create();
    REQUIRE_MESSAGE(d, (d ? "" : d.err().message));
    return std::move(*d);
}

struct decoded {
    std::string bytes;
    bool ended = false;
    error_code ec;
    bool stalled = false; // take() gave nothing, yet the decoder wanted no input
};

// Decodes `wire` as a receiver does: feeding `feed_step` bytes while the decoder asks for them,
// taking into a buffer of `buffer_size` bytes, until the end mark, an error or the last byte.
decoded decode(frame_decoder& d, std::string_view wire, std::size_t feed_step = 1 << 30,
               std::size_t buffer_size = 64 * 1024) {
    decoded r;
    std::vector<char> buffer(buffer_size);
    std::size_t fed = 0;
    for (;;) {
        if (d.needs_input()) {
            if (fed == wire.size())
                break;
            auto n = std::min(feed_step, wire.size() - fed);
            d.feed(wire.substr(fed, n));
            fed += n;
        }
        auto t = d.take(buffer.data(), buffer.size());
        r.bytes.append(buffer.data(), t.bytes);
        if (t.ec) {
            r.ec = t.ec;
            break;
        }
        if (t.ended) {
            r.ended = true;
            break;
        }
        if (t.bytes == 0 && !d.needs_input()) {
            r.stalled = true;
            break;
        }
    }
    return r;
}

decoded decode_fresh(std::string_view wire) {
    auto d = new_decoder();
    return decode(d, wire);
}

std::string encode(frame_encoder& e, std::string_view data) {
    std::string out;
    e.encode(data, out);
    return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A compressed stream over a peer that sends `incoming`, `step` bytes a read.
struct stream_fixture {
    std::string written;
    int shutdowns = 0;
    std::unique_ptr<compressed_stream> stream;

    stream_fixture(const std::string& incoming, std::size_t step) {
        stream = std::make_unique<compressed_stream>(
            std::make_unique<script_stream>(split_pieces(incoming, step), written, false,
                                            &shutdowns),
            new_encoder(), new_decoder());
    }
};

// Runs a coroutine to its end.
template <typename Body>
void run(Body body) {
    net::io_context io;
    net::co_spawn(io, std::move(body), net::detached);
    io.run();
}

struct read_all_result {
    std::string bytes;
    error_code ec; // what ended the reading
};

read_all_result read_all(compressed_stream& s, std::size_t buffer_size) {
    read_all_result r;
    run([&]() -> net::awaitable<void> {
        std::vector<char> buffer(buffer_size);
        for (;;) {
            auto got = co_await s.read_some(net::buffer(buffer));
            r.bytes.append(buffer.data(), got.bytes);
            if (got.ec) {
                r.ec = got.ec;
                co_return;
            }
        }
    });
    return r;
}

std::optional<error> handshake(compressed_stream& s) {
    std::optional<error> failed;
    run([&]() -> net::awaitable<void> { failed = co_await s.handshake(); });
    return failed;
}

// The frames a peer sends for `data`, then its end mark when `finished`.
std::string peer_frames(const std::string& data, bool finished) {
    auto e = new_encoder();
    std::string out;
    e.encode(data, out);
    if (finished)
        e.finish(out);
    return out;
}

} // namespace

// --- hello ---------------------------------------------------------------------------------------

// A build without zstd (the minimal preset) has no layer to test.
TEST_SUITE_BEGIN("compression" * doctest::skip(!compression_built()));

TEST_CASE("compress: our own hello is agreed, with the length of its line") {
    const std::string hello = make_hello();
    CHECK(hello == "corkscrew++ compress/" + std::to_string(compress_protocol_version) + " " +
                       std::string(compress_algorithm) + "\n");
    CHECK(hello.size() <= max_hello_bytes);
    auto c = check_hello(hello);
    CHECK(c.state == hello_check::agreed);
    CHECK(c.length == hello.size());
    CHECK(c.why.empty());
    // The frames that follow in the same read are not part of the hello.
    auto with_frames = check_hello(hello + frame_header(frame_type::raw, 1) + "x");
    CHECK(with_frames.state == hello_check::agreed);
    CHECK(with_frames.length == hello.size());
}

TEST_CASE("compress: a strict prefix of the hello waits for more") {
    const std::string hello = make_hello();
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, hello.size() - 1}) {
        CAPTURE(n);
        auto c = check_hello(std::string_view(hello).substr(0, n));
        CHECK(c.state == hello_check::incomplete);
        CHECK(c.why.empty());
    }
}

TEST_CASE("compress: another protocol is refused at once, naming what came") {
    auto ssh = check_hello("SSH-2.0-OpenSSH_9.2p1\r\n");
    CHECK(ssh.state == hello_check::refused);
    CHECK(contains(ssh.why, "SSH-2.0-OpenSSH_9.2p1"));
    CHECK(contains(ssh.why, "--compress"));
    CHECK_FALSE(contains(ssh.why, "\r"));

    // One byte is enough to tell: a hello starts with 'c'.
    auto first_byte = check_hello("S");
    CHECK(first_byte.state == hello_check::refused);
    CHECK(contains(first_byte.why, "\"S\""));

    // An HTTP answer where a relay was expected.
    auto http = check_hello("HTTP/1.1 400 Bad Request\r\n");
    CHECK(http.state == hello_check::refused);
    CHECK(contains(http.why, "HTTP/1.1 400 Bad Request"));
}

TEST_CASE("compress: another version or algorithm is refused, naming both") {
    auto v2 = check_hello("corkscrew++ compress/2 zstd\n");
    CHECK(v2.state == hello_check::refused);
    CHECK(contains(v2.why, "2"));
    CHECK(contains(v2.why, std::to_string(compress_protocol_version)));
    CHECK(contains(v2.why, "protocol 2"));

    auto lz4 = check_hello("corkscrew++ compress/1 lz4\n");
    CHECK(lz4.state == hello_check::refused);
    CHECK(contains(lz4.why, "lz4"));
    CHECK(contains(lz4.why, std::string(compress_algorithm)));
}

TEST_CASE("compress: malformed hellos are refused") {
    for (const char* bad :
         {"corkscrew++ compress/x zstd\n", "corkscrew++ compress/1\n", "corkscrew++ compress/1 \n",
          "corkscrew++ compress/ zstd\n", "corkscrew++ compress/\n", "corkscrew++\n", "\n"}) {
        CAPTURE(bad);
        auto c = check_hello(bad);
        CHECK(c.state == hello_check::refused);
        CHECK_FALSE(c.why.empty());
    }
}

TEST_CASE("compress: a line of max_hello_bytes without a newline is refused") {
    std::string almost = "corkscrew++ compress/1 ";
    almost.resize(max_hello_bytes - 1, 'z');
    CHECK(check_hello(almost).state == hello_check::incomplete);
    auto full = check_hello(almost + "z");
    CHECK(full.state == hello_check::refused);
    CHECK_FALSE(full.why.empty());
    // More bytes than the limit, all at once, are no better.
    CHECK(check_hello(almost + std::string(100, 'z')).state == hello_check::refused);
}

// --- frames --------------------------------------------------------------------------------------

TEST_CASE("compress: frame headers are the type and a big-endian length") {
    using namespace std::string_literals;
    CHECK(frame_header(frame_type::raw, 0x01020304) == "R\x01\x02\x03\x04"s);
    CHECK(frame_header(frame_type::zstd, 0) == "Z\0\0\0\0"s);
    CHECK(frame_header(frame_type::end, 0) == "E\0\0\0\0"s);
    CHECK(frame_header(frame_type::zstd, 256) == "Z\0\0\x01\0"s);
    CHECK(frame_header(frame_type::raw, 0xffffffff) == "R\xff\xff\xff\xff"s);
    CHECK(frame_header(frame_type::raw, 1).size() == frame_header_bytes);
}

// --- encoder and decoder -------------------------------------------------------------------------

TEST_CASE("compress: compressible text goes as zstd frames, smaller, and decodes intact") {
    const auto data = compressible(1 << 20);
    auto e = new_encoder();
    const auto wire = encode(e, data);

    CHECK(e.counts().plain == data.size());
    CHECK(e.counts().wire == wire.size());
    CHECK(e.counts().zstd_frames > 0);
    CHECK(e.counts().wire < e.counts().plain / 4);
    for (const auto& f : split_frames(wire))
        CHECK(f.type == 'Z');

    auto d = new_decoder();
    auto r = decode(d, wire);
    CHECK_FALSE(r.ec);
    CHECK_FALSE(r.stalled);
    CHECK(r.bytes == data);
    CHECK(d.counts().plain == data.size());
    CHECK(d.counts().wire == wire.size());
    CHECK(d.counts().zstd_frames == e.counts().zstd_frames);
}

TEST_CASE("compress: random bytes go raw at 5 bytes a frame and decode intact") {
    const auto data = random_bytes(1 << 20, 7);
    auto e = new_encoder();
    const auto wire = encode(e, data);

    const auto& c = e.counts();
    const auto frames = c.raw_frames + c.zstd_frames;
    CHECK(c.raw_frames > 0);
    CHECK(c.plain == data.size());
    CHECK(c.wire == wire.size());
    CHECK(c.wire <= c.plain + frame_header_bytes * frames);
    CHECK(c.wire * 100 < c.plain * 101);
    auto split = split_frames(wire);
    CHECK(split.size() == frames);
    // zstd cannot shrink any of it by 1/32, so every frame is raw: the write's bytes as they are.
    std::string raw_payloads;
    for (const auto& f : split) {
        CHECK(f.type == 'R');
        raw_payloads += f.payload;
    }
    CHECK(raw_payloads == data);

    auto d = new_decoder();
    auto r = decode(d, wire);
    CHECK_FALSE(r.ec);
    CHECK(r.bytes == data);
    CHECK(d.counts().raw_frames == c.raw_frames);
}

TEST_CASE("compress: compressible, random, compressible again: both ends stay in step") {
    const auto first = compressible(256 * 1024);
    const auto noise = random_bytes(256 * 1024, 11);
    std::string last = compressible(1 << 20);
    // Different text from the first part, so it cannot be matched against stale history.
    for (auto& c : last)
        if (c == 'o')
            c = '0';
    auto e = new_encoder();
    std::string wire;
    for (std::string_view part :
         {std::string_view(first), std::string_view(noise), std::string_view(last)})
        e.encode(part, wire);

    // The layer went raw for the noise and back to zstd after it: a 'Z' after an 'R'.
    std::string types;
    for (const auto& f : split_frames(wire))
        types += f.type;
    CAPTURE(types);
    const auto first_raw = types.find('R');
    REQUIRE(first_raw != std::string::npos);
    CHECK(types.find('Z', first_raw) != std::string::npos);

    auto r = decode_fresh(wire);
    CHECK_FALSE(r.ec);
    CHECK(r.bytes == first + noise + last);
}

TEST_CASE("compress: many 1-byte writes each decode on their own (flushed per write)") {
    auto e = new_encoder();
    auto d = new_decoder();
    const std::string text = "ls -la\rexit\r" + std::string(200, 'x');
    for (char c : text) {
        auto wire = encode(e, std::string(1, c));
        REQUIRE_FALSE(wire.empty());
        auto r = decode(d, wire);
        CHECK_FALSE(r.ec);
        CHECK_FALSE(r.stalled);
        REQUIRE(r.bytes == std::string(1, c));
    }
    CHECK(e.counts().plain == text.size());
    CHECK(d.counts().plain == text.size());
}

TEST_CASE("compress: an empty write sends nothing that decodes to bytes") {
    auto e = new_encoder();
    auto d = new_decoder();
    auto wire = encode(e, "");
    CHECK(wire.size() <= frame_header_bytes);
    auto r = decode(d, wire);
    CHECK_FALSE(r.ec);
    CHECK(r.bytes.empty());
    CHECK(e.counts().plain == 0);
    // And the stream goes on.
    auto after = decode(d, encode(e, "after"));
    CHECK(after.bytes == "after");

    // Empty frames of either kind, made by hand, are harmless too.
    auto hand = decode_fresh(frame_header(frame_type::raw, 0) + frame_header(frame_type::zstd, 0) +
                             frame_header(frame_type::raw, 2) + "ok");
    CHECK_FALSE(hand.ec);
    CHECK(hand.bytes == "ok");
}

TEST_CASE("compress: a write larger than max_frame_input_bytes is split into frames") {
    for (const auto& data : {compressible(2 * max_frame_input_bytes + 1),
                             random_bytes(3 * max_frame_input_bytes + 17, 3)}) {
        auto e = new_encoder();
        const auto wire = encode(e, data);
        auto frames = split_frames(wire);
        const auto expected = (data.size() + max_frame_input_bytes - 1) / max_frame_input_bytes;
        CHECK(frames.size() == expected);
        CHECK(e.counts().raw_frames + e.counts().zstd_frames == expected);
        for (const auto& f : frames) {
            CHECK(f.payload.size() <= max_frame_payload_bytes);
            if (f.type == 'R')
                CHECK(f.payload.size() <= max_frame_input_bytes);
        }
        CHECK(decode_fresh(wire).bytes == data);
    }
}

TEST_CASE("compress: decoding with any output buffer size and input a byte at a time") {
    // Both kinds of frame, one of them ending exactly on a buffer boundary.
    std::string data = compressible(100 * 1000);
    const auto noise = random_bytes(3000, 5);
    auto e = new_encoder();
    std::string wire;
    e.encode(data, wire);
    e.encode(noise, wire);
    e.encode("tail 4096 bytes of text", wire);
    e.finish(wire);
    const std::string all = data + noise + "tail 4096 bytes of text";

    for (std::size_t buffer_size : {std::size_t{1}, std::size_t{2}, std::size_t{7},
                                    std::size_t{4096}, std::size_t{1 << 20}}) {
        for (std::size_t feed_step :
             {std::size_t{1}, std::size_t{5}, std::size_t{4099}, std::size_t{1 << 30}}) {
            // Byte-at-a-time in, byte-at-a-time out is slow and proves nothing more.
            if (buffer_size == 1 && feed_step == 1)
                continue;
            CAPTURE(buffer_size);
            CAPTURE(feed_step);
            auto d = new_decoder();
            auto r = decode(d, wire, feed_step, buffer_size);
            CHECK_FALSE(r.ec);
            CHECK_FALSE(r.stalled);
            CHECK(r.ended);
            CHECK(r.bytes == all);
        }
    }
    // A byte at a time both ways, over a shorter stream.
    auto short_encoder = new_encoder();
    std::string short_wire;
    const auto text = compressible(3000);
    short_encoder.encode(text, short_wire);
    short_encoder.encode(noise, short_wire);
    short_encoder.finish(short_wire);
    auto d = new_decoder();
    auto r = decode(d, short_wire, 1, 1);
    CHECK_FALSE(r.ec);
    CHECK_FALSE(r.stalled);
    CHECK(r.ended);
    CHECK(r.bytes == text + noise);
}

// --- the end of a stream -------------------------------------------------------------------------

TEST_CASE("compress: the 'E' frame ends the stream; without it the stream was cut off") {
    auto e = new_encoder();
    std::string wire;
    e.encode("last words", wire);
    const auto without_end = wire;
    e.finish(wire);
    CHECK(wire.substr(without_end.size()) == frame_header(frame_type::end, 0));
    CHECK(e.counts().wire == wire.size());

    auto d = new_decoder();
    CHECK(d.at_eof() == compress_errc::cut_off); // nothing came at all
    auto r = decode(d, wire);
    CHECK_FALSE(r.ec);
    CHECK(r.ended);
    CHECK(r.bytes == "last words");
    CHECK_FALSE(d.at_eof());
    CHECK_FALSE(d.needs_input());
    // What follows the end mark is not read.
    char byte;
    auto again = d.take(&byte, 1);
    CHECK(again.ended);
    CHECK(again.bytes == 0);
    CHECK_FALSE(again.ec);

    // Between frames.
    auto between = new_decoder();
    auto cut = decode(between, without_end);
    CHECK(cut.bytes == "last words");
    CHECK_FALSE(cut.ended);
    CHECK(between.at_eof() == compress_errc::cut_off);

    // In the middle of a header, and of a payload.
    for (std::size_t keep : {std::size_t{3}, without_end.size() - 1, wire.size() - 1}) {
        CAPTURE(keep);
        auto mid = new_decoder();
        auto m = decode(mid, std::string_view(wire).substr(0, keep));
        CHECK_FALSE(m.ended);
        CHECK_FALSE(m.ec);
        CHECK(mid.at_eof() == compress_errc::cut_off);
    }
    CHECK(make_error_code(compress_errc::cut_off).category() == compress_category());
    CHECK_FALSE(make_error_code(compress_errc::cut_off).message().empty());
}

// --- corrupt input -------------------------------------------------------------------------------

// The decoder stays failed: no more bytes, the same error, no appetite for input.
void check_stays_failed(frame_decoder& d, error_code ec) {
    char buffer[16];
    auto t = d.take(buffer, sizeof buffer);
    CHECK(t.ec == ec);
    CHECK(t.bytes == 0);
    CHECK_FALSE(d.needs_input());
}

TEST_CASE("compress: bad frame headers are a clean error, at once") {
    using namespace std::string_literals;
    struct bad {
        const char* name;
        std::string wire;
    };
    const std::vector<bad> cases = {
        {"unknown type", "X\0\0\0\0"s},
        {"lowercase type", frame_header(frame_type::raw, 1).replace(0, 1, "r") + "a"},
        {"length over the limit",
         frame_header(frame_type::raw, static_cast<std::uint32_t>(max_frame_payload_bytes + 1))},
        {"length of 4 GiB", frame_header(frame_type::zstd, 0xffffffff)},
        {"end mark with a length", frame_header(frame_type::end, 1) + "x"},
        {"after a good frame", frame_header(frame_type::raw, 2) + "ok" + "\0\0\0\0\0"s},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auto d = new_decoder();
        // The header alone is judged: the decoder does not wait for a payload it will refuse.
        auto r = decode(d, c.wire);
        CHECK(r.ec == compress_errc::bad_frame);
        CHECK(r.bytes.size() <= 2);
        check_stays_failed(d, compress_errc::bad_frame);
    }

    // The largest allowed length is no error: the decoder waits for the payload.
    auto d = new_decoder();
    auto r = decode(
        d, frame_header(frame_type::raw, static_cast<std::uint32_t>(max_frame_payload_bytes)));
    CHECK_FALSE(r.ec);
    CHECK(d.needs_input());
}

TEST_CASE("compress: a 'Z' frame of garbage is a clean error") {
    const std::string garbage = "this is not a zstd stream, not even close";
    auto d = new_decoder();
    auto r = decode(d, frame_header(frame_type::zstd, static_cast<std::uint32_t>(garbage.size())) +
                           garbage);
    CHECK(r.ec == compress_errc::bad_data);
    CHECK(r.bytes.empty());
    check_stays_failed(d, compress_errc::bad_data);
    CHECK(d.at_eof() == compress_errc::cut_off);
}

TEST_CASE("compress: a real 'Z' frame with flipped bytes never crashes nor runs away") {
    const auto data = compressible(20000) + "end";
    auto e = new_encoder();
    const auto wire = encode(e, data);
    REQUIRE(wire[0] == 'Z');
    for (std::size_t at = frame_header_bytes; at < wire.size(); at += 3) {
        CAPTURE(at);
        auto broken = wire;
        broken[at] = static_cast<char>(broken[at] ^ 0x5a);
        auto d = new_decoder();
        auto r = decode(d, broken, 1 << 30, 4096);
        CHECK_FALSE(r.stalled);
        // zstd's blocks are at most 128 KiB, and the frame was one write.
        CHECK(r.bytes.size() <= data.size() + max_frame_input_bytes);
    }
}

TEST_CASE("compress: a 'Z' frame cut short, then EOF, is cut_off") {
    const auto data = compressible(50000);
    auto e = new_encoder();
    const auto wire = encode(e, data);
    auto d = new_decoder();
    auto r = decode(d, std::string_view(wire).substr(0, wire.size() / 2));
    CHECK_FALSE(r.ec);
    CHECK_FALSE(r.ended);
    CHECK(r.bytes.size() < data.size());
    CHECK(data.starts_with(r.bytes));
    CHECK(d.needs_input());
    CHECK(d.at_eof() == compress_errc::cut_off);
}

// --- compressed_stream ---------------------------------------------------------------------------

TEST_CASE("compress: handshake with frames right behind the hello, in one read or byte by byte") {
    const std::string payload = "SSH-2.0-OpenSSH_9.2p1\r\n" + compressible(5000);
    const std::string incoming = make_hello() + peer_frames(payload, true);
    for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{1 << 20}}) {
        CAPTURE(step);
        stream_fixture f(incoming, step);
        auto failed = handshake(*f.stream);
        REQUIRE_MESSAGE(!failed, (failed ? failed->message : ""));
        CHECK(f.written == make_hello());
        auto r = read_all(*f.stream, 1000);
        CHECK(r.bytes == payload);
        CHECK(r.ec == net::error::eof);
    }
}

TEST_CASE("compress: handshake with a peer that does not speak the layer") {
    auto run_start = [](const std::string& incoming) {
        std::string written;
        int shutdowns = 0;
        std::optional<result<std::unique_ptr<compressed_stream>>> started;
        run([&]() -> net::awaitable<void> {
            started = co_await start_compression(
                std::make_unique<script_stream>(split_pieces(incoming, 1 << 20), written, false,
                                                &shutdowns),
                "the relay on gateway gw");
        });
        REQUIRE(started);
        CHECK(written == make_hello()); // both ends speak first
        return std::move(*started);
    };

    auto ssh = run_start("SSH-2.0-OpenSSH_9.2p1\r\n");
    REQUIRE_FALSE(ssh);
    CHECK(ssh.err().kind == failure::compression);
    CHECK(contains(ssh.err().message, "the relay on gateway gw"));
    CHECK(contains(ssh.err().message, "SSH-2.0-OpenSSH_9.2p1"));

    auto silent = run_start("");
    REQUIRE_FALSE(silent);
    CHECK(silent.err().kind == failure::compression);
    CHECK(contains(silent.err().message, "closed before"));

    auto half = run_start(make_hello().substr(0, 10));
    REQUIRE_FALSE(half);
    CHECK(half.err().kind == failure::compression);
    CHECK(contains(half.err().message, "middle"));

    auto other_version = run_start("corkscrew++ compress/2 zstd\n");
    REQUIRE_FALSE(other_version);
    CHECK(other_version.err().kind == failure::compression);
    CHECK(contains(other_version.err().message, "protocol 2"));
}

TEST_CASE("compress: the stream writes frames, ends with 'E', and reads what the peer sent") {
    const std::string payload = compressible(300 * 1000);
    stream_fixture f(make_hello() + peer_frames(payload, true), 64 * 1024);
    REQUIRE_FALSE(handshake(*f.stream));

    run([&]() -> net::awaitable<void> {
        auto w = co_await f.stream->write_all(net::buffer(std::string_view("hello, far end")));
        CHECK_FALSE(w.ec);
        CHECK(w.bytes == 14);
        CHECK_FALSE(co_await f.stream->shutdown_send());
        // A second shutdown sends no second end mark.
        CHECK_FALSE(co_await f.stream->shutdown_send());
    });
    CHECK(f.shutdowns == 1);
    const auto hello = make_hello();
    REQUIRE(f.written.starts_with(hello));
    CHECK(f.written.ends_with(frame_header(frame_type::end, 0)));
    auto sent = decode_fresh(std::string_view(f.written).substr(hello.size()));
    CHECK(sent.ended);
    CHECK(sent.bytes == "hello, far end");
    CHECK(f.stream->sent().plain == 14);

    auto r = read_all(*f.stream, 4096);
    CHECK(r.bytes == payload);
    CHECK(r.ec == net::error::eof);
    CHECK(f.stream->received().plain == payload.size());
    CHECK(contains(compression_summary(*f.stream), std::to_string(payload.size())));
}

TEST_CASE("compress: a peer cut off without 'E' makes read_some fail with cut_off") {
    const std::string payload = "some bytes, then the line drops";
    const auto frames = peer_frames(payload, false);

    // Between frames: the bytes come, then the error.
    stream_fixture between(make_hello() + frames, 1 << 20);
    REQUIRE_FALSE(handshake(*between.stream));
    auto r = read_all(*between.stream, 4096);
    CHECK(r.bytes == payload);
    CHECK(r.ec == compress_errc::cut_off);

    // In the middle of a frame.
    stream_fixture mid(make_hello() + frames.substr(0, frames.size() - 3), 1 << 20);
    REQUIRE_FALSE(handshake(*mid.stream));
    CHECK(read_all(*mid.stream, 4096).ec == compress_errc::cut_off);

    // A corrupt frame is an error too, not an end.
    stream_fixture corrupt(make_hello() + "X" + frame_header(frame_type::raw, 0) + "more", 1 << 20);
    REQUIRE_FALSE(handshake(*corrupt.stream));
    CHECK(read_all(*corrupt.stream, 4096).ec == compress_errc::bad_frame);
}

TEST_CASE("compress: bytes decoded before a corrupt frame reach the reader, then the error") {
    using namespace std::string_literals;
    stream_fixture s(make_hello() + frame_header(frame_type::raw, 2) + "ok" + "X\0\0\0\0"s,
                     1 << 20);
    REQUIRE_FALSE(handshake(*s.stream));
    auto r = read_all(*s.stream, 4096);
    CHECK(r.bytes == "ok");
    CHECK(r.ec == compress_errc::bad_frame);
}

TEST_CASE("compress: an empty read returns at once, taking nothing") {
    stream_fixture s(make_hello() + frame_header(frame_type::raw, 3) + "abc" +
                         frame_header(frame_type::end, 0),
                     1 << 20);
    REQUIRE_FALSE(handshake(*s.stream));
    run([&]() -> net::awaitable<void> {
        auto got = co_await s.stream->read_some(net::mutable_buffer());
        CHECK(got.bytes == 0);
        CHECK_FALSE(got.ec);
    });
    auto r = read_all(*s.stream, 4096);
    CHECK(r.bytes == "abc");
    CHECK(r.ec == net::error::eof);
}

TEST_CASE("compress: a hello line longer than the limit is refused however it arrives") {
    const std::string hello = "corkscrew++ compress/" + std::string(50, '0') + "1 zstd\n";
    REQUIRE(hello.size() > max_hello_bytes);
    CHECK(check_hello(hello).state == hello_check::refused);
    CHECK(check_hello(hello.substr(0, max_hello_bytes)).state == hello_check::refused);
}

TEST_SUITE_END();
