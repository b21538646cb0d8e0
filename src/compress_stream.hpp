// The compression layer as a byte stream (-z/--compress): writes go out as frames of
// compress.hpp over the stream below, reads come back decoded. The relay runs over it like over
// any other stream, on its portable path (the bytes must pass through this process).
#pragma once

#include "compress.hpp"
#include "stream.hpp"

#include <optional>

namespace corkscrew {

class compressed_stream final : public byte_stream {
public:
    compressed_stream(std::unique_ptr<byte_stream> inner, frame_encoder encoder,
                      frame_decoder decoder);

    // Sends this end's hello and reads the far end's. Call once, before anything else; a
    // failure (kind failure::compression, or the stream's own error) ends the stream's use.
    net::awaitable<std::optional<error>> handshake();

    net::awaitable<io_result> read_some(net::mutable_buffer buffer) override;
    net::awaitable<io_result> write_all(net::const_buffer data) override;
    // Sends the end mark, then ends the stream below's sending direction.
    net::awaitable<error_code> shutdown_send() override;
    void close() override;

    const compress_counts& sent() const { return encoder_.counts(); }
    const compress_counts& received() const { return decoder_.counts(); }

private:
    net::awaitable<error_code> fill();

    std::unique_ptr<byte_stream> inner_;
    frame_encoder encoder_;
    frame_decoder decoder_;
    std::string out_;            // frames being written
    std::unique_ptr<char[]> in_; // one read from the stream below
    bool write_ended_ = false;
};

// Wraps `inner` and runs the handshake. `far_end` names the other end for messages ("the
// relay on gateway gw", "stdin").
net::awaitable<result<std::unique_ptr<compressed_stream>>>
start_compression(std::unique_ptr<byte_stream> inner, const std::string& far_end);

// The -v line on what the layer did: bytes each way before and after.
std::string compression_summary(const compressed_stream& s);

} // namespace corkscrew
