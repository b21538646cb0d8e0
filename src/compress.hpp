// The compression layer's wire format (-z/--compress), as plain values and codecs without I/O:
// the hello each end sends first, and the frames that follow it.
//
// A stream between two corkscrew++ ends, each way:
//   hello   "corkscrew++ compress/1 zstd\n"  (version and algorithm; both ends must agree)
//   frames  TYPE (1 byte) LENGTH (4 bytes, big-endian) PAYLOAD (LENGTH bytes)
//             'Z'  a flushed piece of one ongoing zstd stream: decodes to exactly the bytes of one
//                  write, using the history of the 'Z' frames since the last 'R'
//             'R'  the bytes of one write, stored as they are; the zstd stream ends here, and the
//                  next 'Z' starts a new one (both ends reset their contexts)
//             'E'  the sender's direction is finished (no payload); what follows is not read
// Every write becomes frames at once (flushed), so interactive traffic is not held back. A write
// of 512 bytes or more that zstd would not shrink by at least 1/32 goes as 'R', and after such a
// miss the encoder stops trying for a while (doubling, bounded), so bulk incompressible data (an
// scp inside ssh, a compressed pack) costs 5 bytes a frame and almost no CPU. Shorter writes
// (keystrokes) are always compressed: a few bytes more each, and a history that pays back on
// the next similar write.
//
// zstd itself is loaded on first use (library.hpp), like libcrypto: runs without --compress
// never load it.
#pragma once

#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace corkscrew {

// The protocol version in the hello; a change to the framing or to its meaning bumps it.
inline constexpr int compress_protocol_version = 1;
inline constexpr std::string_view compress_algorithm = "zstd";

// Bytes of one write that become one frame; a larger write is split. The relay reads this much
// at a time, so each read is one frame.
inline constexpr std::size_t max_frame_input_bytes = 128 * 1024;
// The largest payload a decoder accepts: a compressed frame of max_frame_input_bytes stays well
// below it (zstd's bound adds under 1 %). A larger length is a corrupt or hostile stream, and
// must not make the decoder wait for, or hold, megabytes.
inline constexpr std::size_t max_frame_payload_bytes = 256 * 1024;
inline constexpr std::size_t frame_header_bytes = 5;
// A hello is one short line; the peer's first bytes are judged once this many have come, or a
// newline.
inline constexpr std::size_t max_hello_bytes = 64;
// zstd's window (history) on both ends: 1 MiB. The decoder refuses streams that need more, so a
// peer cannot make it allocate more memory than this.
inline constexpr int compress_window_log = 20;
// zstd's level: its default, fast enough for a link slower than ~300 MB/s, which is where
// compression is worth having.
inline constexpr int compress_level = 3;

// Whether this build has the compression layer (CORKSCREW_ZSTD at build time).
bool compression_built();
// For --version: "zstd (libzstd.so.1, loaded when used)", or why there is none.
std::string compression_description();

// The hello this end sends.
std::string make_hello();

// The verdict on the first bytes received from the far end.
struct hello_check {
    enum { incomplete, agreed, refused } state = incomplete;
    std::size_t length = 0; // of the hello line, newline included, when agreed
    std::string why;        // when refused: one sentence for the user
};
hello_check check_hello(std::string_view received);

enum class frame_type : char { raw = 'R', zstd = 'Z', end = 'E' };

// The 5 bytes that start a frame.
std::string frame_header(frame_type type, std::uint32_t length);

// How a compressed stream went wrong, as error codes (compress_category()): the relay reports
// them like any I/O error, with their own exit status (failure::compression).
enum class compress_errc {
    bad_frame = 1, // an unknown frame type, or a length over max_frame_payload_bytes
    bad_data,      // zstd cannot decode a 'Z' frame
    cut_off,       // the stream ended without its 'E' frame (mid-frame or between frames)
};
const boost::system::error_category& compress_category() noexcept;
boost::system::error_code make_error_code(compress_errc e) noexcept;

struct compress_counts {
    std::uint64_t plain = 0; // bytes before encoding / after decoding
    std::uint64_t wire = 0;  // bytes of frames, headers included
    std::uint64_t zstd_frames = 0;
    std::uint64_t raw_frames = 0;
};

// Turns writes into frames. Holds a zstd compression context.
class frame_encoder {
public:
    // Loads zstd (the first time) and sets up a context; fails when the library is missing.
    static result<frame_encoder> create();
    frame_encoder(frame_encoder&&) noexcept;
    frame_encoder& operator=(frame_encoder&&) noexcept;
    ~frame_encoder();

    // Appends to `out` the frames for one write of `data`.
    void encode(std::string_view data, std::string& out);
    // Appends the 'E' frame.
    void finish(std::string& out);

    const compress_counts& counts() const { return counts_; }

private:
    struct state;
    explicit frame_encoder(std::unique_ptr<state> s);
    void encode_piece(std::string_view piece, std::string& out);

    std::unique_ptr<state> s_;
    compress_counts counts_;
};

// Turns frames back into bytes. Holds a zstd decompression context.
class frame_decoder {
public:
    static result<frame_decoder> create();
    frame_decoder(frame_decoder&&) noexcept;
    frame_decoder& operator=(frame_decoder&&) noexcept;
    ~frame_decoder();

    // Adds received bytes. Keep giving bytes only while needs_input().
    void feed(std::string_view bytes);
    // Whether take() can give nothing more before more bytes are fed.
    bool needs_input() const;

    struct taken {
        std::size_t bytes = 0; // written to the buffer
        bool ended = false;    // the 'E' frame came: nothing follows
        boost::system::error_code
            ec; // a corrupt stream (compress_errc): nothing more can be decoded
    };
    // Decodes as much as fits into [buffer, buffer + size), which must not be empty.
    taken take(char* buffer, std::size_t size);
    // What the end of the received bytes means (the far end closed): cut_off unless 'E' came.
    boost::system::error_code at_eof() const;

    const compress_counts& counts() const { return counts_; }

private:
    struct state;
    explicit frame_decoder(std::unique_ptr<state> s);

    std::unique_ptr<state> s_;
    compress_counts counts_;
};

} // namespace corkscrew

template <>
struct boost::system::is_error_code_enum<corkscrew::compress_errc> : std::true_type {};
