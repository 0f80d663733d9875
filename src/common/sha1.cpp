#include "common/sha1.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ignis::detail {
namespace {

std::uint32_t load_big_endian(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

void sha1::compress(const std::uint8_t* block) noexcept {
  // The message schedule as a 16-word ring (§6.1.2 step 1 computes W[t] from W[t-3], W[t-8],
  // W[t-14] and W[t-16], all within the last 16).
  std::array<std::uint32_t, 16> w{};
  for (std::size_t t = 0; t < 16; ++t)
    w[t] = load_big_endian(block + 4 * t);
  // Plain variables, not a structured binding: the lambda below captures them (clang before 16
  // cannot capture structured bindings).
  std::uint32_t a = state_[0];
  std::uint32_t b = state_[1];
  std::uint32_t c = state_[2];
  std::uint32_t d = state_[3];
  std::uint32_t e = state_[4];
  // The four 20-round stages as separate loops: no per-round branch on the stage.
  auto round = [&](std::size_t t, std::uint32_t f, std::uint32_t k) {
    if (t >= 16) {
      w[t % 16] = std::rotl(w[(t - 3) % 16] ^ w[(t - 8) % 16] ^ w[(t - 14) % 16] ^ w[t % 16], 1);
    }
    const std::uint32_t temp = std::rotl(a, 5) + f + e + k + w[t % 16];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = temp;
  };
  for (std::size_t t = 0; t < 20; ++t)
    round(t, (b & c) | (~b & d), 0x5A827999u);
  for (std::size_t t = 20; t < 40; ++t)
    round(t, b ^ c ^ d, 0x6ED9EBA1u);
  for (std::size_t t = 40; t < 60; ++t)
    round(t, (b & c) | (b & d) | (c & d), 0x8F1BBCDCu);
  for (std::size_t t = 60; t < 80; ++t)
    round(t, b ^ c ^ d, 0xCA62C1D6u);
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

void sha1::update(std::span<const std::uint8_t> bytes) noexcept {
  total_bytes_ += bytes.size();
  if (pending_size_ > 0) {
    const auto take = std::min(bytes.size(), pending_.size() - pending_size_);
    std::memcpy(pending_.data() + pending_size_, bytes.data(), take);
    pending_size_ += take;
    bytes = bytes.subspan(take);
    if (pending_size_ < pending_.size()) return;
    compress(pending_.data());
    pending_size_ = 0;
  }
  while (bytes.size() >= pending_.size()) {
    compress(bytes.data());
    bytes = bytes.subspan(pending_.size());
  }
  if (!bytes.empty()) std::memcpy(pending_.data(), bytes.data(), bytes.size());
  pending_size_ = bytes.size();
}

sha1::digest sha1::finish() noexcept {
  // §5.1.1: a 1 bit, zeros up to 56 bytes into the last block, the length in bits (big-endian).
  const std::uint64_t bits = total_bytes_ * 8;
  pending_[pending_size_++] = 0x80;
  if (pending_size_ > 56) {
    std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.end(), 0);
    compress(pending_.data());
    pending_size_ = 0;
  }
  std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.begin() + 56,
            0);
  for (std::size_t i = 0; i < 8; ++i)
    pending_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  compress(pending_.data());
  digest out{};
  for (std::size_t i = 0; i < state_.size(); ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      out[4 * i + j] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * j));
    }
  }
  return out;
}

}  // namespace ignis::detail
