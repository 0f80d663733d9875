#include "redis_adapter/random_id.hpp"

#include <ignis/common/random.hpp>

#include <cstdint>
#include <vector>

namespace ignis::redis::detail {

std::string uid2(std::size_t length) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::vector<std::uint8_t> bytes(length);
  random_bytes(bytes);
  std::string out;
  out.reserve(length);
  for (auto b : bytes)
    out.push_back(alphabet[b % 64]);
  return out;
}

std::string random_hex_id() {
  static constexpr char digits[] = "0123456789abcdef";
  std::uint8_t bytes[8];
  random_bytes(bytes);
  std::string out;
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace ignis::redis::detail
