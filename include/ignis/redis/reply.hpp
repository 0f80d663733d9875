#pragma once

// A Redis reply as a plain value, independent of the parser that produced it.
#include <cstdint>
#include <string>
#include <vector>

namespace ignis::redis {

struct reply {
  /// RESP types. Connections speak RESP2, so only string, status, error, integer, nil and array
  /// occur today; the RESP3 kinds are here so that callers need not change when RESP3 arrives.
  enum class kind {
    string,
    status,
    error,
    integer,
    nil,
    array,
    double_,
    boolean,
    map,
    set,
    push,
    verbatim,
    bignum
  };
  kind type = kind::nil;
  /// Bulk string (binary safe), status text or error text.
  std::string str{};
  std::int64_t integer = 0;
  std::vector<reply> elements{};

  bool is_error() const noexcept { return type == kind::error; }
  bool is_nil() const noexcept { return type == kind::nil; }
};

}  // namespace ignis::redis
