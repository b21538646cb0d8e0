#include "compress_stream.hpp"

#include <cstdio>

namespace corkscrew {

namespace {

// One read from the stream below: a frame and a bit, so a bulk transfer takes one read a frame.
constexpr std::size_t compressed_read_bytes = max_frame_input_bytes + 4096;

std::string ratio_text(const compress_counts& c) {
    if (c.plain == 0)
        return std::to_string(c.wire) + " bytes of frames";
    auto percent = static_cast<double>(c.wire) * 100.0 / static_cast<double>(c.plain);
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", percent);
    return std::to_string(c.plain) + " bytes as " + std::to_string(c.wire) + " (" + text + " %, " +
           std::to_string(c.zstd_frames) + " zstd and " + std::to_string(c.raw_frames) +
           " raw frames)";
}

} // namespace

compressed_stream::compressed_stream(std::unique_ptr<byte_stream> inner, frame_encoder encoder,
                                     frame_decoder decoder)
    : inner_(std::move(inner)), encoder_(std::move(encoder)), decoder_(std::move(decoder)),
      in_(std::make_unique_for_overwrite<char[]>(compressed_read_bytes)) {}

net::awaitable<std::optional<error>> compressed_stream::handshake() {
    // Both ends speak first, so neither waits for the other's hello before sending its own.
    std::optional<error> failed;
    const std::string hello = make_hello();
    auto w = co_await inner_->write_all(net::buffer(hello));
    if (w.ec)
        failed = fail(failure::relay_io, "sending the compression hello: " + w.ec.message());
    std::string received;
    while (!failed) {
        const hello_check verdict = check_hello(received);
        if (verdict.state == hello_check::refused) {
            failed = fail(failure::compression, verdict.why);
            break;
        }
        if (verdict.state == hello_check::agreed) {
            // What came after the hello is the first frames.
            decoder_.feed(std::string_view(received).substr(verdict.length));
            break;
        }
        // Whatever follows the hello in this read is kept for the decoder.
        auto r = co_await inner_->read_some(net::buffer(in_.get(), compressed_read_bytes));
        if (r.ec == net::error::eof) {
            std::string why = received.empty() ? "the far end closed before its compression hello"
                                               : "the far end closed in the middle of its "
                                                 "compression hello";
            failed = fail(failure::compression, std::move(why));
        } else if (r.ec) {
            failed = fail(failure::relay_io, "reading the compression hello: " + r.ec.message());
        } else {
            received.append(in_.get(), r.bytes);
        }
    }
    co_return failed;
}

net::awaitable<error_code> compressed_stream::fill() {
    auto r = co_await inner_->read_some(net::buffer(in_.get(), compressed_read_bytes));
    if (r.ec == net::error::eof) {
        // The far end closed: a clean end only after its end mark.
        if (auto ec = decoder_.at_eof())
            co_return ec;
        co_return net::error::eof;
    }
    if (!r.ec)
        decoder_.feed(std::string_view(in_.get(), r.bytes));
    co_return r.ec;
}

net::awaitable<io_result> compressed_stream::read_some(net::mutable_buffer buffer) {
    if (buffer.size() == 0)
        co_return io_result{};
    for (;;) {
        auto t = decoder_.take(static_cast<char*>(buffer.data()), buffer.size());
        if (t.ec)
            co_return io_result{t.ec, 0};
        if (t.bytes > 0)
            co_return io_result{{}, t.bytes};
        if (t.ended)
            co_return io_result{net::error::eof, 0};
        if (auto ec = co_await fill())
            co_return io_result{ec, 0};
    }
}

net::awaitable<io_result> compressed_stream::write_all(net::const_buffer data) {
    out_.clear();
    encoder_.encode(std::string_view(static_cast<const char*>(data.data()), data.size()), out_);
    auto w = co_await inner_->write_all(net::buffer(out_));
    co_return io_result{w.ec, w.ec ? 0 : data.size()};
}

net::awaitable<error_code> compressed_stream::shutdown_send() {
    if (write_ended_)
        co_return error_code{};
    write_ended_ = true;
    out_.clear();
    encoder_.finish(out_);
    auto w = co_await inner_->write_all(net::buffer(out_));
    if (w.ec)
        co_return w.ec;
    co_return co_await inner_->shutdown_send();
}

void compressed_stream::close() {
    inner_->close();
}

net::awaitable<result<std::unique_ptr<compressed_stream>>>
start_compression(std::unique_ptr<byte_stream> inner, const std::string& far_end) {
    auto encoder = frame_encoder::create();
    if (!encoder)
        co_return encoder.err();
    auto decoder = frame_decoder::create();
    if (!decoder)
        co_return decoder.err();
    auto s = std::make_unique<compressed_stream>(std::move(inner), std::move(*encoder),
                                                 std::move(*decoder));
    if (auto e = co_await s->handshake())
        co_return fail(e->kind, "--compress with " + far_end + ": " + e->message);
    co_return std::move(s);
}

std::string compression_summary(const compressed_stream& s) {
    return "compression: sent " + ratio_text(s.sent()) + "; received " + ratio_text(s.received());
}

} // namespace corkscrew
