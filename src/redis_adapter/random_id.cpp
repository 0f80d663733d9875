#include "redis_adapter/random_id.hpp"

#include <sys/random.h>

#include <cstdint>
#include <vector>

namespace ignis::redis::detail {
namespace {

void fill_random(std::uint8_t* bytes, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const auto n = ::getrandom(bytes + got, size - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string uid2(std::size_t length) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::vector<std::uint8_t> bytes(length);
  fill_random(bytes.data(), bytes.size());
  std::string out;
  out.reserve(length);
  for (auto b : bytes)
    out.push_back(alphabet[b % 64]);
  return out;
}

std::string random_hex_id() {
  static constexpr char digits[] = "0123456789abcdef";
  std::uint8_t bytes[8];
  fill_random(bytes, sizeof bytes);
  std::string out;
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace ignis::redis::detail
