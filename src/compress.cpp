#include "compress.hpp"

#include "text.hpp"

#ifdef CORKSCREW_HAVE_ZSTD
#include "library.hpp"

#include <zstd.h>
#endif

#include <algorithm>
#include <charconv>

namespace corkscrew {

namespace {

constexpr std::string_view hello_prefix = "corkscrew++ compress/";

// After a write that did not compress, this many more are sent raw without trying, doubling with
// each further miss up to the limit: 64 frames are 8 MiB of an incompressible stream between two
// tries, so trying costs under 2 % of the time zstd would spend on all of it, and a stream that
// turns compressible again is noticed within 8 MiB.
constexpr unsigned max_skipped_frames = 64;
// Writes this short are compressed without judging them: zstd's flush costs a few bytes, more
// than it saves on a keystroke, but the history it keeps pays back on the next similar write.
// Counting them as misses would stop compression of the bulk data that follows.
constexpr std::size_t min_judged_bytes = 512;

class compress_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "corkscrew++ compression"; }
    std::string message(int value) const override {
        switch (static_cast<compress_errc>(value)) {
        case compress_errc::bad_frame:
            return "corrupt compressed stream (a frame of unknown type or too large)";
        case compress_errc::bad_data:
            return "corrupt compressed stream (zstd cannot decode it)";
        case compress_errc::cut_off:
            return "the compressed stream was cut off (the far end ended without its end mark)";
        }
        return "compressed stream error";
    }
};

void put_u32(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>(v >> 16 & 0xff);
    out += static_cast<char>(v >> 8 & 0xff);
    out += static_cast<char>(v & 0xff);
}

std::uint32_t get_u32(std::string_view in) {
    auto b = [&](std::size_t i) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
    };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

#ifdef CORKSCREW_HAVE_ZSTD
// The zstd functions the layer uses, loaded on first use (library.hpp).
struct zstd_functions {
    decltype(&ZSTD_createCCtx) create_cctx = nullptr;
    decltype(&ZSTD_freeCCtx) free_cctx = nullptr;
    decltype(&ZSTD_CCtx_setParameter) cctx_set = nullptr;
    decltype(&ZSTD_CCtx_reset) cctx_reset = nullptr;
    decltype(&ZSTD_compressStream2) compress = nullptr;
    decltype(&ZSTD_compressBound) bound = nullptr;
    decltype(&ZSTD_createDCtx) create_dctx = nullptr;
    decltype(&ZSTD_freeDCtx) free_dctx = nullptr;
    decltype(&ZSTD_DCtx_setParameter) dctx_set = nullptr;
    decltype(&ZSTD_DCtx_reset) dctx_reset = nullptr;
    decltype(&ZSTD_decompressStream) decompress = nullptr;
    decltype(&ZSTD_isError) is_error = nullptr;
};

result<zstd_functions> load_zstd() {
    auto zstd = library::open(CORKSCREW_LIBZSTD);
    if (!zstd)
        return fail(failure::compression, "--compress: " + zstd.err().message);
    const library& lib = **zstd;
    zstd_functions f;
    if (!lib.bind(f.create_cctx, "ZSTD_createCCtx") || !lib.bind(f.free_cctx, "ZSTD_freeCCtx") ||
        !lib.bind(f.cctx_set, "ZSTD_CCtx_setParameter") ||
        !lib.bind(f.cctx_reset, "ZSTD_CCtx_reset") ||
        !lib.bind(f.compress, "ZSTD_compressStream2") || !lib.bind(f.bound, "ZSTD_compressBound") ||
        !lib.bind(f.create_dctx, "ZSTD_createDCtx") || !lib.bind(f.free_dctx, "ZSTD_freeDCtx") ||
        !lib.bind(f.dctx_set, "ZSTD_DCtx_setParameter") ||
        !lib.bind(f.dctx_reset, "ZSTD_DCtx_reset") ||
        !lib.bind(f.decompress, "ZSTD_decompressStream") || !lib.bind(f.is_error, "ZSTD_isError"))
        return fail(failure::compression,
                    "--compress: " + lib.soname() + " lacks a function the layer needs");
    return f;
}

const result<zstd_functions>& zstd() {
    static const result<zstd_functions> loaded = load_zstd();
    return loaded;
}
#endif

} // namespace

bool compression_built() {
#ifdef CORKSCREW_HAVE_ZSTD
    return true;
#else
    return false;
#endif
}

std::string compression_description() {
#ifdef CORKSCREW_HAVE_ZSTD
    return std::string("zstd (") + CORKSCREW_LIBZSTD + ", loaded when used)";
#else
    return "none (built without zstd)";
#endif
}

std::string make_hello() {
    return std::string(hello_prefix) + std::to_string(compress_protocol_version) + " " +
           std::string(compress_algorithm) + "\n";
}

hello_check check_hello(std::string_view received) {
    hello_check c;
    const auto newline = received.find('\n');
    const auto seen = received.substr(0, std::min(received.size(), max_hello_bytes));
    // Judged as soon as the bytes so far cannot be the start of a hello.
    const auto common = std::min(seen.size(), hello_prefix.size());
    if (seen.substr(0, common) != hello_prefix.substr(0, common) ||
        (newline == std::string_view::npos && seen.size() == max_hello_bytes) ||
        (newline != std::string_view::npos && newline >= max_hello_bytes) ||
        (newline != std::string_view::npos && newline < hello_prefix.size())) {
        auto shown = seen.substr(0, std::min(seen.find_first_of("\r\n"), seen.size()));
        c.state = hello_check::refused;
        c.why = "the far end does not speak corkscrew++'s compression (its first bytes: \"" +
                printable(shown) + "\"): run it with --compress too";
        return c;
    }
    if (newline == std::string_view::npos)
        return c;
    // "corkscrew++ compress/VERSION ALGORITHM"
    auto rest = received.substr(hello_prefix.size(), newline - hello_prefix.size());
    int version = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), version);
    std::string_view algorithm;
    if (ec == std::errc() && end < rest.data() + rest.size() && *end == ' ')
        algorithm = rest.substr(static_cast<std::size_t>(end - rest.data()) + 1);
    c.state = hello_check::refused;
    if (ec != std::errc() || algorithm.empty())
        c.why = "the far end's compression hello is malformed: \"" + printable(rest) + "\"";
    else if (version != compress_protocol_version)
        c.why = "the far end speaks compression protocol " + std::to_string(version) +
                ", this corkscrew++ " + std::to_string(compress_protocol_version) +
                ": use the same version of corkscrew++ on both ends";
    else if (algorithm != compress_algorithm)
        c.why = "the far end compresses with " + printable(algorithm) + ", this one with " +
                std::string(compress_algorithm);
    else {
        c.state = hello_check::agreed;
        c.length = newline + 1;
        c.why.clear();
    }
    return c;
}

std::string frame_header(frame_type type, std::uint32_t length) {
    std::string h(1, static_cast<char>(type));
    put_u32(h, length);
    return h;
}

const boost::system::error_category& compress_category() noexcept {
    static const compress_category_impl category;
    return category;
}

boost::system::error_code make_error_code(compress_errc e) noexcept {
    return {static_cast<int>(e), compress_category()};
}

// --- encoder -------------------------------------------------------------------------------------

#ifdef CORKSCREW_HAVE_ZSTD
struct frame_encoder::state {
    const zstd_functions& z;
    ZSTD_CCtx* cctx;
    std::string scratch; // one compressed piece
    bool dirty = false;  // the context holds history the decoder's may lack
    unsigned misses = 0; // pieces in a row that did not compress
    unsigned skip = 0;   // pieces still to send raw without trying
    ~state() { z.free_cctx(cctx); }
};
#else
struct frame_encoder::state {};
#endif

frame_encoder::frame_encoder(std::unique_ptr<state> s) : s_(std::move(s)) {}
frame_encoder::frame_encoder(frame_encoder&&) noexcept = default;
frame_encoder& frame_encoder::operator=(frame_encoder&&) noexcept = default;
frame_encoder::~frame_encoder() = default;

result<frame_encoder> frame_encoder::create() {
#ifdef CORKSCREW_HAVE_ZSTD
    const auto& z = zstd();
    if (!z)
        return z.err();
    ZSTD_CCtx* cctx = z->create_cctx();
    if (!cctx)
        return fail(failure::internal, "--compress: cannot create a zstd context");
    auto s = std::unique_ptr<state>(new state{*z, cctx, {}});
    z->cctx_set(cctx, ZSTD_c_compressionLevel, compress_level);
    z->cctx_set(cctx, ZSTD_c_windowLog, compress_window_log);
    return frame_encoder(std::move(s));
#else
    return fail(failure::usage, "--compress: this build has no zstd");
#endif
}

void frame_encoder::encode(std::string_view data, std::string& out) {
    while (!data.empty()) {
        auto piece = data.substr(0, max_frame_input_bytes);
        encode_piece(piece, out);
        data.remove_prefix(piece.size());
    }
}

void frame_encoder::encode_piece(std::string_view piece, std::string& out) {
    counts_.plain += piece.size();
    auto raw = [&] {
        out += frame_header(frame_type::raw, static_cast<std::uint32_t>(piece.size()));
        out += piece;
        counts_.wire += frame_header_bytes + piece.size();
        ++counts_.raw_frames;
    };
#ifdef CORKSCREW_HAVE_ZSTD
    auto& s = *s_;
    const bool judged = piece.size() >= min_judged_bytes;
    if (s.skip > 0) {
        // Backing off after a miss: raw, untried (the decoder resets on 'R', so must we).
        if (judged)
            --s.skip;
        if (s.dirty)
            s.z.cctx_reset(s.cctx, ZSTD_reset_session_only);
        s.dirty = false;
        raw();
        return;
    }
    // Compress, flushed: the far end can decode this write without waiting for the next.
    s.scratch.resize(s.z.bound(piece.size()) + 64);
    ZSTD_inBuffer in{piece.data(), piece.size(), 0};
    ZSTD_outBuffer o{s.scratch.data(), s.scratch.size(), 0};
    s.dirty = true;
    bool compressed = true;
    for (;;) {
        auto left = s.z.compress(s.cctx, &o, &in, ZSTD_e_flush);
        if (s.z.is_error(left)) {
            compressed = false; // not seen with a valid context; the piece goes raw
            break;
        }
        if (left == 0)
            break;
        if (o.pos == o.size) {
            s.scratch.resize(s.scratch.size() * 2);
            o.dst = s.scratch.data();
            o.size = s.scratch.size();
        }
    }
    const bool pays = o.pos <= piece.size() - piece.size() / 32;
    if (compressed && (!judged || pays)) {
        if (judged)
            s.misses = 0;
        out += frame_header(frame_type::zstd, static_cast<std::uint32_t>(o.pos));
        out.append(s.scratch.data(), o.pos);
        counts_.wire += frame_header_bytes + o.pos;
        ++counts_.zstd_frames;
        return;
    }
    // Not worth it: raw, and the history that the decoder will not have is dropped.
    s.z.cctx_reset(s.cctx, ZSTD_reset_session_only);
    s.dirty = false;
    s.misses = std::min(s.misses + 1, 7u);
    s.skip = std::min(1u << (s.misses - 1), max_skipped_frames);
#endif
    raw();
}

void frame_encoder::finish(std::string& out) {
    out += frame_header(frame_type::end, 0);
    counts_.wire += frame_header_bytes;
}

// --- decoder -------------------------------------------------------------------------------------

struct frame_decoder::state {
#ifdef CORKSCREW_HAVE_ZSTD
    const zstd_functions& z;
    ZSTD_DCtx* dctx;
    ~state() {
        z.free_dctx(dctx);
    }
#endif
    std::string in;        // received, not yet decoded
    std::size_t at = 0;    // decoded up to here
    bool in_frame = false; // a frame's header has been read; `left` bytes of it remain
    frame_type type = frame_type::raw;
    std::size_t left = 0;
    bool flush_pending = false; // zstd may hold output of the current frame not yet given
    bool ended = false;
    boost::system::error_code failed;

    std::size_t available() const {
        return in.size() - at;
    }
};

frame_decoder::frame_decoder(std::unique_ptr<state> s) : s_(std::move(s)) {}
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;
frame_decoder::~frame_decoder() = default;

result<frame_decoder> frame_decoder::create() {
#ifdef CORKSCREW_HAVE_ZSTD
    const auto& z = zstd();
    if (!z)
        return z.err();
    ZSTD_DCtx* dctx = z->create_dctx();
    if (!dctx)
        return fail(failure::internal, "--compress: cannot create a zstd context");
    auto s = std::unique_ptr<state>(
        new state{*z, dctx, {}, 0, false, frame_type::raw, 0, false, false, {}});
    z->dctx_set(dctx, ZSTD_d_windowLogMax, compress_window_log);
    return frame_decoder(std::move(s));
#else
    return fail(failure::usage, "--compress: this build has no zstd");
#endif
}

void frame_decoder::feed(std::string_view bytes) {
    auto& s = *s_;
    // Drop what is decoded before growing the buffer: it holds at most a frame and a read.
    if (s.at > 0 && s.at == s.in.size()) {
        s.in.clear();
        s.at = 0;
    } else if (s.at >= max_frame_payload_bytes) {
        s.in.erase(0, s.at);
        s.at = 0;
    }
    s.in.append(bytes);
    counts_.wire += bytes.size();
}

bool frame_decoder::needs_input() const {
    const auto& s = *s_;
    if (s.ended || s.failed)
        return false;
    if (!s.in_frame)
        return s.available() < frame_header_bytes;
    if (s.flush_pending)
        return false;
    return s.left > 0 && s.available() == 0;
}

frame_decoder::taken frame_decoder::take(char* buffer, std::size_t size) {
    auto& s = *s_;
    taken t;
    while (t.bytes < size) {
        if (s.failed) {
            // Bytes decoded before the fault are the reader's; the error comes with the next take.
            if (t.bytes == 0)
                t.ec = s.failed;
            return t;
        }
        if (s.ended)
            break;
        if (!s.in_frame) {
            if (s.available() < frame_header_bytes)
                break;
            auto head = std::string_view(s.in).substr(s.at, frame_header_bytes);
            auto type = static_cast<frame_type>(head[0]);
            auto length = get_u32(head.substr(1));
            const bool known =
                type == frame_type::raw || type == frame_type::zstd || type == frame_type::end;
            if (!known || length > max_frame_payload_bytes ||
                (type == frame_type::end && length != 0)) {
                s.failed = make_error_code(compress_errc::bad_frame);
                continue;
            }
            s.at += frame_header_bytes;
            s.in_frame = true;
            s.type = type;
            s.left = length;
            if (type == frame_type::end) {
                s.ended = true;
                s.in_frame = false;
                break;
            }
#ifdef CORKSCREW_HAVE_ZSTD
            // The sender's zstd stream ended before this raw write (see the header).
            if (type == frame_type::raw)
                s.z.dctx_reset(s.dctx, ZSTD_reset_session_only);
#endif
            if (type == frame_type::raw)
                ++counts_.raw_frames;
            else
                ++counts_.zstd_frames;
        }
        if (s.left == 0 && !s.flush_pending) {
            s.in_frame = false;
            continue;
        }
        if (s.type == frame_type::raw) {
            auto n = std::min({s.left, s.available(), size - t.bytes});
            if (n == 0)
                break;
            std::copy_n(s.in.data() + s.at, n, buffer + t.bytes);
            s.at += n;
            s.left -= n;
            t.bytes += n;
            counts_.plain += n;
            continue;
        }
#ifdef CORKSCREW_HAVE_ZSTD
        auto n = std::min(s.left, s.available());
        if (n == 0 && !s.flush_pending)
            break;
        ZSTD_inBuffer in{s.in.data() + s.at, n, 0};
        ZSTD_outBuffer o{buffer + t.bytes, size - t.bytes, 0};
        auto r = s.z.decompress(s.dctx, &o, &in);
        if (s.z.is_error(r)) {
            s.failed = make_error_code(compress_errc::bad_data);
            continue;
        }
        s.at += in.pos;
        s.left -= in.pos;
        t.bytes += o.pos;
        counts_.plain += o.pos;
        // A full output buffer may leave decoded bytes inside zstd: ask again before moving on.
        s.flush_pending = o.pos == o.size;
        if (in.pos == 0 && o.pos == 0 && !s.flush_pending) {
            // No progress with input at hand: the frame's bytes cannot be decoded.
            if (n > 0)
                s.failed = make_error_code(compress_errc::bad_data);
            else if (s.left > 0)
                break;
        }
#else
        s.failed = make_error_code(compress_errc::bad_data);
#endif
    }
    t.ended = s.ended && t.bytes == 0;
    return t;
}

boost::system::error_code frame_decoder::at_eof() const {
    if (s_->ended)
        return {};
    return make_error_code(compress_errc::cut_off);
}

} // namespace corkscrew
