#pragma once

// SHA-1 (FIPS 180-4 §6.1), for the one place the protocols need it: a WebSocket handshake's
// Sec-WebSocket-Accept (RFC 6455 §4.2.2), where it is a fixed transform, not a security boundary.
// Computed here rather than by OpenSSL: the first use of its digest API initialises its
// providers, which pages ~2 MB of libcrypto into every server, also one that never uses TLS
// (docs/performance.md, "Seventh round"), and each use needs a digest context.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ignis::detail {

class sha1 {
 public:
  using digest = std::array<std::uint8_t, 20>;

  void update(std::span<const std::uint8_t> bytes) noexcept;
  void update(std::string_view text) noexcept {
    update({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  /// The digest of everything given to update(); the object is spent afterwards.
  digest finish() noexcept;

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 5> state_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                      0xC3D2E1F0u};
  std::array<std::uint8_t, 64> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace ignis::detail
