#include "common/sha1.hpp"

#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using ignis::detail::sha1;

std::string hex(const sha1::digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const auto byte : d) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xF]);
  }
  return out;
}

std::string digest_of(std::string_view text) {
  sha1 h;
  h.update(text);
  return hex(h.finish());
}

TEST(Sha1, FipsExamples) {
  // FIPS 180-2 appendix A (one block, two blocks) and the empty message.
  EXPECT_EQ(digest_of(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(digest_of("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, MillionAsInUnevenPieces) {
  // FIPS 180-2 appendix A.3, fed in pieces that straddle block boundaries.
  sha1 h;
  const std::string piece(997, 'a');
  std::size_t left = 1'000'000;
  while (left > 0) {
    const auto n = std::min(left, piece.size());
    h.update(std::string_view(piece).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(hex(h.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, AgreesWithOpenSslAroundEveryPaddingBoundary) {
  // Lengths 0..300 cover 55/56/63/64 bytes (padding in the same block or a new one) several
  // times over; each message is also split at a random point to exercise the pending buffer.
  std::mt19937 rng(20261207);
  for (std::size_t length = 0; length <= 300; ++length) {
    std::vector<std::uint8_t> message(length);
    for (auto& b : message)
      b = static_cast<std::uint8_t>(rng());
    sha1::digest expected{};
    SHA1(message.data(), message.size(), expected.data());

    sha1 whole;
    whole.update(message);
    EXPECT_EQ(hex(whole.finish()), hex(expected)) << "length " << length;

    const std::size_t split = length == 0 ? 0 : rng() % (length + 1);
    sha1 pieces;
    pieces.update(std::span(message).first(split));
    pieces.update(std::span(message).subspan(split));
    EXPECT_EQ(hex(pieces.finish()), hex(expected)) << "length " << length << " split " << split;
  }
}

}  // namespace
