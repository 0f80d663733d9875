#pragma once

// Event arguments: JSON values plus binary attachments, Socket.IO's own wire model. A binary
// argument is a {"_placeholder":true,"num":N} object in `args` standing for attachments[N].
#include <ignis/socketio/packet.hpp>

#include <boost/json/array.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ignis::socketio {

struct payload {
  boost::json::array args;
  std::vector<attachment> attachments;

  payload() = default;
  payload(boost::json::array a) : args(std::move(a)) {}  // NOLINT: a JSON array is a payload
  payload(boost::json::array a, std::vector<attachment> b)
      : args(std::move(a)), attachments(std::move(b)) {}

  /// Adds `bytes` as an attachment and returns the placeholder to put where the value belongs.
  boost::json::value add_binary(std::string bytes) {
    attachments.push_back(make_attachment(std::move(bytes)));
    return make_placeholder(attachments.size() - 1);
  }
  /// The bytes `v` stands for, or nullptr when `v` is not a placeholder of this payload.
  const std::string* binary(const boost::json::value& v) const noexcept {
    const auto i = placeholder_index(v);
    return i && *i < attachments.size() ? attachments[*i].get() : nullptr;
  }

  friend bool operator==(const payload& a, const payload& b) noexcept;
};

/// Builds a payload from any values boost::json::value accepts: make_args("hello", 42, true).
template <class... T>
payload make_args(T&&... values) {
  boost::json::array a;
  a.reserve(sizeof...(T));
  (a.emplace_back(std::forward<T>(values)), ...);
  return payload(std::move(a));
}

}  // namespace ignis::socketio
