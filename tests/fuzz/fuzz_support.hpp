// What the fuzz targets share: reading their input, splitting it where the input says, and
// failing loudly when an invariant breaks. Header-only, so each target stays one translation unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace corkscrew::fuzz {

// An invariant that does not hold is a finding: abort, so libFuzzer saves the input and the
// replay test fails. `what` says which invariant, as the stack trace alone may not.
inline void require(bool holds, const char* what) {
    if (holds)
        return;
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

// What text.hpp's printable() leaves: no control characters, so a message or log line cannot move
// the terminal's cursor or split a line.
inline bool is_printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            return false;
    return true;
}

// Whether `s` has CR, LF or NUL, the bytes that could end or split a request line.
inline bool has_line_breaking_byte(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// The fuzz input, consumed from the front: option bytes first, then the text under test.
class input {
public:
    input(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    // The next byte, or 0 once the input is used up.
    std::uint8_t byte() {
        if (rest_.empty())
            return 0;
        auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }

    // Up to the next `separator` (which is consumed), or everything left.
    std::string_view until(std::string_view separator) {
        auto at = rest_.find(separator);
        auto part = rest_.substr(0, at);
        rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + separator.size());
        return part;
    }

    std::string_view rest() const { return rest_; }

private:
    std::string_view rest_;
};

// Where a byte stream is cut into reads, chosen by two option bytes: the first's low bits give
// the longest piece (1 to 64 bytes; with its top bit set, everything arrives in one piece), the
// second seeds the lengths. The same input always splits the same way, so a crash replays.
class split_plan {
public:
    split_plan(std::uint8_t shape, std::uint8_t seed)
        : whole_((shape & 0x80) != 0), longest_((shape & 0x3f) + 1u),
          state_(0x9e3779b97f4a7c15u ^ (std::uint64_t{seed} << 8 | shape)) {}

    // The length of the next piece of `left` bytes, at least 1 while any are left.
    std::size_t next(std::size_t left) {
        if (whole_ || left == 0)
            return left;
        // splitmix64: tiny, and good enough to spread the cuts.
        state_ += 0x9e3779b97f4a7c15u;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        auto n = static_cast<std::size_t>(z % longest_) + 1;
        return n < left ? n : left;
    }

    // `text` cut into pieces.
    std::vector<std::string> pieces(std::string_view text) {
        std::vector<std::string> out;
        while (!text.empty()) {
            auto n = next(text.size());
            out.emplace_back(text.substr(0, n));
            text.remove_prefix(n);
        }
        return out;
    }

private:
    bool whole_;
    std::uint64_t longest_;
    std::uint64_t state_;
};

} // namespace corkscrew::fuzz
