#include "client/random.hpp"

#include <ignis/common/random.hpp>

namespace ignis::client::detail {

net::ws::mask_key mask_source::next() {
  if (used_ + 4 > pool_.size()) {
    random_bytes(pool_);
    used_ = 0;
  }
  net::ws::mask_key key{pool_[used_], pool_[used_ + 1], pool_[used_ + 2], pool_[used_ + 3]};
  used_ += 4;
  return key;
}

}  // namespace ignis::client::detail
