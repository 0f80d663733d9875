#pragma once

#include <ignis/net/websocket.hpp>

#include <array>
#include <cstdint>
#include <cstring>

namespace ignis::net::ws::detail {

/// XORs `data` with the masking key. `offset` is the position of data[0] in the frame payload: the
/// key repeats every 4 bytes from the start of the payload, so a payload that arrives in pieces is
/// unmasked piece by piece.
inline void apply_mask(char* data, std::size_t size, const mask_key& key,
                       std::uint64_t offset) noexcept {
  // The key rotated to start at data[0] and repeated to 8 bytes, in memory order, so the same code
  // is right on either endianness.
  std::array<unsigned char, 8> k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = key[(offset + i) & 3];
  std::uint64_t k64 = 0;
  std::memcpy(&k64, k.data(), sizeof k64);
  std::size_t i = 0;
  // 8 bytes per step; memcpy makes the unaligned loads and stores legal and compiles to plain
  // moves, which the optimiser also vectorises.
  for (; i + 8 <= size; i += 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, data + i, sizeof v);
    v ^= k64;
    std::memcpy(data + i, &v, sizeof v);
  }
  for (; i < size; ++i)
    data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ k[i & 7]);
}

}  // namespace ignis::net::ws::detail
