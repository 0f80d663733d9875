#include "redis/key_slot.hpp"

namespace ignis::redis::detail {

std::uint16_t crc16(std::string_view bytes) noexcept {
  // CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection. Bitwise is plenty fast for
  // the few slot lookups a subscriber makes.
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    crc ^= static_cast<std::uint16_t>(static_cast<std::uint8_t>(c) << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) noexcept {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<std::uint16_t>(crc16(key) % slot_count);
}

}  // namespace ignis::redis::detail
