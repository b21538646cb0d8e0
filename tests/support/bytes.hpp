// Byte helpers for tests: independent base64, reproducible random data, readable diffs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corkscrew_test {

// RFC 4648 base64 with padding, written here so tests never trust the program's encoder.
std::string base64_encode(std::string_view bytes);

// size bytes from a fixed-seed generator; every byte value, zero included, occurs.
std::string random_bytes(std::size_t size, std::uint64_t seed);

// "" when equal, else the sizes and the first differing offset (never the whole buffers).
std::string byte_diff(std::string_view got, std::string_view want);

} // namespace corkscrew_test
