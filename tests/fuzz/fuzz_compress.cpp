// Fuzzes the compression layer's framing (compress.hpp): the far end's hello, and the frame
// decoder fed as the relay feeds it, in reads cut where the input says, into buffers of every
// size, compared with the same bytes decoded at once; and the encoder's frames decoded back.
//
// Input: one byte of options (the bits below), two bytes for split_plan (fuzz_support.hpp), a byte
// for the size of the decoder's output buffer, a byte for the size of the writes encoded; then
// the received bytes (the hello, then frames) or, with round_trip_bit, the bytes to encode.
#include "compress.hpp"

#include "fuzz_support.hpp"

#include <vector>

using namespace corkscrew;
using fuzz::require;

namespace {

// The bits of the options byte.
enum options_byte : std::uint8_t {
    round_trip_bit = 1 << 0, // encode the rest as writes, then decode the frames
    no_hello_bit = 1 << 1,   // the rest is frames, without a hello first
    scramble_bit = 1 << 2,   // round trip: make the writes incompressible (the raw-frame path)
};

// Decoded bytes past which an input is not worth comparing: a small zstd frame can stand for
// megabytes, which only cost the fuzzer time.
constexpr std::size_t max_decoded_bytes = 4 * 1024 * 1024;
// The decoder's output buffer when everything is taken at once: the relay's read size.
constexpr std::size_t whole_buffer_bytes = 64 * 1024;

struct decoded {
    std::string bytes;
    bool ended = false;
    boost::system::error_code ec; // a corrupt stream, or at the end of the input, at_eof()'s
    bool too_long = false;
};

// Decodes `pieces` as compressed_stream::read_some does: takes what the decoder gives, and feeds
// the next read only when it gives nothing.
decoded decode(frame_decoder& d, const std::vector<std::string>& pieces, std::size_t buffer_size) {
    decoded r;
    std::vector<char> buffer(buffer_size);
    std::size_t next = 0;
    for (;;) {
        auto t = d.take(buffer.data(), buffer.size());
        require(t.bytes <= buffer.size(), "take() writes only into its buffer");
        require(!(t.ended && t.bytes > 0), "the end comes with no bytes");
        r.bytes.append(buffer.data(), t.bytes);
        if (r.bytes.size() > max_decoded_bytes) {
            r.too_long = true;
            return r;
        }
        if (t.ec) {
            require(t.bytes == 0, "an error comes with no bytes");
            require(t.ec.category() == compress_category(), "decoding fails with compress_errc");
            require(fuzz::is_printable(t.ec.message()), "decoding errors are printable");
            r.ec = t.ec;
            return r;
        }
        if (t.bytes > 0)
            continue;
        if (t.ended) {
            require(!d.at_eof(), "after the end mark, the end of the input is no error");
            r.ended = true;
            return r;
        }
        // compress.hpp: needs_input() says whether take() can give nothing more before more bytes
        // are fed; a reader that trusts it must not wait for bytes the decoder does not want.
        require(d.needs_input(), "take() gives nothing only when the decoder needs input");
        if (next == pieces.size()) {
            r.ec = d.at_eof();
            require(bool(r.ec), "the input ending before the end mark is cut_off");
            return r;
        }
        d.feed(pieces[next++]);
    }
}

std::size_t buffer_size(std::uint8_t shape) {
    return (shape & 0x80) ? whole_buffer_bytes : 1u + (shape & 0x7f);
}

void check_hello_of(std::string_view received, fuzz::split_plan& plan, hello_check& verdict) {
    // The verdict as the bytes arrive: once given, more bytes do not change it.
    std::size_t seen = 0;
    verdict = check_hello({});
    require(verdict.state == hello_check::incomplete, "nothing received is no verdict");
    while (seen < received.size() && verdict.state == hello_check::incomplete) {
        seen += plan.next(received.size() - seen);
        verdict = check_hello(received.substr(0, seen));
    }
    // (Only the reason may differ: a refusal quotes the bytes that had come.)
    auto at_once = check_hello(received);
    require(at_once.state == verdict.state && at_once.length == verdict.length,
            "the hello's verdict does not depend on how it arrives");
    switch (verdict.state) {
    case hello_check::incomplete:
        require(verdict.why.empty() && received.size() < max_hello_bytes &&
                    received.find('\n') == std::string_view::npos,
                "no verdict only on a short start of a line");
        break;
    case hello_check::refused:
        require(!verdict.why.empty() && fuzz::is_printable(verdict.why),
                "a refusal says why, printably");
        break;
    case hello_check::agreed: {
        require(verdict.length <= max_hello_bytes && verdict.length <= received.size(),
                "an agreed hello is one short line");
        auto line = received.substr(0, verdict.length);
        require(line.starts_with("corkscrew++ compress/") && line.ends_with(" zstd\n") &&
                    line.find('\n') == line.size() - 1,
                "an agreed hello names the protocol and zstd");
        break;
    }
    }
}

// The frames of `wire`, read by compress.hpp's format independently of the decoder.
void check_frames(std::string_view wire, const compress_counts& counts) {
    std::uint64_t raw = 0, zstd = 0;
    bool ended = false;
    while (!wire.empty()) {
        require(!ended, "nothing follows the end frame");
        require(wire.size() >= frame_header_bytes, "frames are whole");
        std::uint32_t length = 0;
        for (std::size_t i = 1; i < frame_header_bytes; ++i)
            length = length << 8 | static_cast<unsigned char>(wire[i]);
        require(length <= max_frame_payload_bytes && wire.size() >= frame_header_bytes + length,
                "a frame's payload is within the limit and there");
        switch (static_cast<frame_type>(wire[0])) {
        case frame_type::raw:
            require(length <= max_frame_input_bytes, "a raw frame holds one write's piece");
            ++raw;
            break;
        case frame_type::zstd:
            ++zstd;
            break;
        case frame_type::end:
            require(length == 0, "the end frame is empty");
            ended = true;
            break;
        default:
            require(false, "the encoder writes only R, Z and E frames");
        }
        wire.remove_prefix(frame_header_bytes + length);
    }
    require(ended, "the stream ends with the end frame");
    require(counts.raw_frames == raw && counts.zstd_frames == zstd, "the encoder counts frames");
}

void round_trip(std::string_view data, std::uint8_t options, fuzz::split_plan& plan,
                std::uint8_t write_scale, std::size_t take_size) {
    auto encoder = frame_encoder::create();
    auto decoder = frame_decoder::create();
    if (!encoder || !decoder)
        return; // a build without zstd
    // Writes of up to 64 * 2 KiB: short ones (keystrokes) and ones over the 512 bytes from which
    // the encoder judges whether compression pays.
    const std::size_t scale = 1 + (write_scale & 0x3f) * 32u;
    std::string plain(data);
    if (options & scramble_bit) {
        fuzz::split_plan noise(0x3f, write_scale);
        for (auto& c : plain)
            c = static_cast<char>(c ^ static_cast<char>(noise.next(256)));
    }
    std::string wire;
    std::string_view left = plain;
    while (!left.empty()) {
        auto n = std::min(left.size(), plan.next(left.size()) * scale);
        encoder->encode(left.substr(0, n), wire);
        left.remove_prefix(n);
    }
    encoder->finish(wire);
    require(encoder->counts().plain == plain.size() && encoder->counts().wire == wire.size(),
            "the encoder counts bytes");
    check_frames(wire, encoder->counts());

    auto r = decode(*decoder, plan.pieces(wire), take_size);
    require(!r.ec && r.ended && r.bytes == plain, "what is encoded decodes to the same bytes");
    require(decoder->counts().plain == plain.size() && decoder->counts().wire == wire.size(),
            "the decoder counts bytes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto options = in.byte();
    const auto shape = in.byte();
    fuzz::split_plan plan(shape, in.byte());
    const auto take_size = buffer_size(in.byte());
    const auto write_scale = in.byte();
    std::string_view received = in.rest();

    if (options & round_trip_bit) {
        round_trip(received, options, plan, write_scale, take_size);
        return 0;
    }
    if (!(options & no_hello_bit)) {
        hello_check verdict;
        check_hello_of(received, plan, verdict);
        if (verdict.state != hello_check::agreed)
            return 0;
        received.remove_prefix(verdict.length);
    }
    auto split = frame_decoder::create();
    auto whole = frame_decoder::create();
    if (!split || !whole)
        return 0; // a build without zstd
    auto by_reads = decode(*split, plan.pieces(received), take_size);
    auto at_once = decode(*whole, {std::string(received)}, whole_buffer_bytes);
    if (by_reads.too_long || at_once.too_long)
        return 0;
    require(bool(by_reads.ec) == bool(at_once.ec) && by_reads.ended == at_once.ended,
            "a stream ends alike however it is split");
    if (by_reads.ec) {
        require(by_reads.ec == at_once.ec, "the same fault however the stream is split");
        const auto shorter = std::min(by_reads.bytes.size(), at_once.bytes.size());
        require(by_reads.bytes.compare(0, shorter, at_once.bytes, 0, shorter) == 0,
                "the bytes before a fault are the same however the stream is split");
    } else {
        require(by_reads.bytes == at_once.bytes, "the same bytes however the stream is split");
    }
    return 0;
}
