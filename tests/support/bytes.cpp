#include "bytes.hpp"

#include <algorithm>
#include <random>
#include <sstream>

namespace corkscrew_test {

std::string base64_encode(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[i + k]); };
        const std::uint32_t v = (b(0) << 16) | (b(1) << 8) | b(2);
        for (int shift : {18, 12, 6, 0}) {
            out += alphabet[(v >> shift) & 0x3f];
        }
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) {
            v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        }
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += rest == 2 ? alphabet[(v >> 6) & 0x3f] : '=';
        out += '=';
    }
    return out;
}

std::string random_bytes(std::size_t size, std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
        const std::uint64_t word = generator();
        for (std::size_t k = 0; k < 8 && i + k < size; ++k) {
            out[i + k] = static_cast<char>((word >> (8 * k)) & 0xff);
        }
    }
    // Make sure the zero byte is there early, where a C-string copy would stop.
    for (std::size_t i = 0; i < std::min<std::size_t>(size, 256); i += 7) {
        out[i] = '\0';
    }
    return out;
}

std::string byte_diff(std::string_view got, std::string_view want) {
    if (got == want) {
        return "";
    }
    const auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
    std::ostringstream os;
    os << "got " << got.size() << " bytes, want " << want.size() << "; first difference at offset "
       << (g - got.begin());
    return os.str();
}

} // namespace corkscrew_test
