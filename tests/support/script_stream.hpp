#pragma once

// A connection played from a script, in memory, for the tests and the fuzzers that drive the
// program's stream code without sockets.

#include "stream.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

namespace corkscrew_test {

// Each read returns the next piece, then EOF. A peek returns what is left of the piece at hand,
// as a socket's returns what has arrived; a stream that cannot peek (a TLS hop's) refuses.
// Writes are appended to `written`; each shutdown_send() counts in `shutdowns`, when given.
class script_stream : public corkscrew::byte_stream {
public:
    script_stream(std::deque<std::string> pieces, std::string& written, bool can_peek = true,
                  int* shutdowns = nullptr)
        : pieces_(std::move(pieces)), written_(written), can_peek_(can_peek),
          shutdowns_(shutdowns) {}

    corkscrew::net::awaitable<corkscrew::io_result>
    peek_some(corkscrew::net::mutable_buffer buffer) override {
        if (!can_peek_)
            co_return corkscrew::io_result{corkscrew::net::error::operation_not_supported, 0};
        if (pieces_.empty())
            co_return corkscrew::io_result{corkscrew::net::error::eof, 0};
        auto n = std::min(pieces_.front().size(), buffer.size());
        std::memcpy(buffer.data(), pieces_.front().data(), n);
        co_return corkscrew::io_result{{}, n};
    }

    corkscrew::net::awaitable<corkscrew::io_result>
    read_some(corkscrew::net::mutable_buffer buffer) override {
        if (pieces_.empty())
            co_return corkscrew::io_result{corkscrew::net::error::eof, 0};
        auto& piece = pieces_.front();
        auto n = std::min(piece.size(), buffer.size());
        std::memcpy(buffer.data(), piece.data(), n);
        piece.erase(0, n);
        if (piece.empty())
            pieces_.pop_front();
        co_return corkscrew::io_result{{}, n};
    }

    corkscrew::net::awaitable<corkscrew::io_result>
    write_all(corkscrew::net::const_buffer data) override {
        written_.append(static_cast<const char*>(data.data()), data.size());
        co_return corkscrew::io_result{{}, data.size()};
    }

    corkscrew::net::awaitable<corkscrew::error_code> shutdown_send() override {
        if (shutdowns_)
            ++*shutdowns_;
        co_return corkscrew::error_code{};
    }
    void close() override {}

    // What has not been read yet.
    std::string rest() const {
        std::string out;
        for (const auto& p : pieces_)
            out += p;
        return out;
    }

private:
    std::deque<std::string> pieces_;
    std::string& written_;
    bool can_peek_;
    int* shutdowns_;
};

// `s` in pieces of `step` bytes (the last may be shorter).
inline std::deque<std::string> split_pieces(const std::string& s, std::size_t step) {
    std::deque<std::string> out;
    for (std::size_t at = 0; at < s.size(); at += step)
        out.push_back(s.substr(at, step));
    return out;
}

} // namespace corkscrew_test
