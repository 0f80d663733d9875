#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ignis {

/// Transparent hash for std::string keys, so lookups by string_view allocate nothing.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace ignis
