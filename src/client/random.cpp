#include "client/random.hpp"

#include <climits>

#include <openssl/rand.h>

#include <random>

namespace ignis::client::detail {

void random_bytes(std::uint8_t* out, std::size_t n) {
  if (n <= INT_MAX && RAND_bytes(out, static_cast<int>(n)) == 1) return;
  std::random_device rd;  // the kernel's CSPRNG on Linux
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(rd());
}

net::ws::mask_key mask_source::next() {
  if (used_ + 4 > pool_.size()) {
    random_bytes(pool_.data(), pool_.size());
    used_ = 0;
  }
  net::ws::mask_key key{pool_[used_], pool_[used_ + 1], pool_[used_ + 2], pool_[used_ + 3]};
  used_ += 4;
  return key;
}

}  // namespace ignis::client::detail
