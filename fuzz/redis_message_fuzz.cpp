// Redis adapter messages as other servers publish them: any bytes must decode or be refused,
// never crash. A decoded msgpack value must re-encode to bytes that decode to the same value
// (the encoder's canonical form is a fixed point).
#include "redis_adapter/messages.hpp"
#include "redis_adapter/msgpack.hpp"
#include "support/json_same.hpp"

#include <cmath>
#include <cstdlib>
#include <string_view>

namespace {

using namespace ignis::redis::detail;
namespace json = boost::json;

// NaN never equals itself; such values are left out of the comparison.
bool has_nan(const json::value& v) {
  if (v.is_double()) return std::isnan(v.get_double());
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (has_nan(e)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (has_nan(kv.value())) return true;
    }
  }
  return false;
}

// Placeholders replaced by their bytes: the same value whatever the attachment numbering (the
// encoder writes only the attachments a value refers to, in order of appearance).
json::value render(const json::value& v, const std::vector<ignis::socketio::attachment>& att) {
  if (v.is_array()) {
    json::array a;
    for (const auto& e : v.get_array())
      a.push_back(render(e, att));
    return a;
  }
  if (v.is_object()) {
    if (const auto i = ignis::socketio::placeholder_index(v); i && *i < att.size())
      return json::object{{"$bin", *att[*i]}};
    json::object o;
    for (const auto& kv : v.get_object())
      o[kv.key()] = render(kv.value(), att);
    return o;
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)decode_classic_broadcast(bytes);
  (void)decode_cluster(bytes);
  std::vector<ignis::socketio::attachment> attachments;
  auto v = msgpack_decode(bytes, attachments);
  if (!v || has_nan(*v)) return 0;
  const auto again = to_msgpack(*v, attachments);
  std::vector<ignis::socketio::attachment> attachments2;
  auto w = msgpack_decode(again, attachments2);
  if (!w || !ignis::test::same_json(render(*v, attachments), render(*w, attachments2)))
    std::abort();
  if (to_msgpack(*w, attachments2) != again) std::abort();
  return 0;
}
