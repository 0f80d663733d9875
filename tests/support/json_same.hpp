#pragma once

// Comparing JSON values as JavaScript would see them after a msgpack round trip.
#include <boost/json/value.hpp>

#include <cstddef>

namespace ignis::test {

/// Equal values, numbers compared by value: msgpack has no int/uint/double distinction that
/// survives JavaScript (the encoder writes whole doubles as integers, a positive signed number
/// comes back unsigned).
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same_json(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const auto* other = y.if_contains(kv.key());
      if (!other || !same_json(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace ignis::test
