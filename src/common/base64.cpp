#include <ignis/common/base64.hpp>

#include <array>
#include <cstdint>

namespace ignis::base64 {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t invalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_reverse() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table)
    v = invalid;
  for (std::uint8_t i = 0; i < 64; ++i)
    table[static_cast<std::uint8_t>(alphabet[i])] = i;
  return table;
}

constexpr auto reverse = make_reverse();

}  // namespace

void encode(byte_span in, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + encoded_size(in.size()));
  char* dst = out.data() + start;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    *dst++ = alphabet[(v >> 18) & 63];
    *dst++ = alphabet[(v >> 12) & 63];
    *dst++ = alphabet[(v >> 6) & 63];
    *dst++ = alphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    *dst++ = alphabet[(v >> 18) & 63];
    *dst++ = alphabet[(v >> 12) & 63];
    *dst++ = '=';
    *dst++ = '=';
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    *dst++ = alphabet[(v >> 18) & 63];
    *dst++ = alphabet[(v >> 12) & 63];
    *dst++ = alphabet[(v >> 6) & 63];
    *dst++ = '=';
  }
}

bool decode(std::string_view in, std::string& out) {
  // Strip at most two '=' of padding; padding must then leave a length that a full encoder could
  // have produced.
  std::size_t len = in.size();
  std::size_t padding = 0;
  while (len > 0 && in[len - 1] == '=' && padding < 2) {
    --len;
    ++padding;
  }
  if (padding > 0 && in.size() % 4 != 0) return false;
  if (len % 4 == 1) return false;  // one leftover character carries fewer than 8 bits

  out.reserve(out.size() + len / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint8_t v = reverse[static_cast<unsigned char>(in[i])];
    if (v == invalid) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace ignis::base64
