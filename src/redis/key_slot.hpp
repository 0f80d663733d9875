#pragma once

// Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384.
#include <cstdint>
#include <string_view>

namespace ignis::redis::detail {

inline constexpr std::uint16_t slot_count = 16384;

std::uint16_t crc16(std::string_view bytes) noexcept;
/// The slot of a key or shard channel, honouring the first non-empty {hash tag}.
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace ignis::redis::detail
