#include <ignis/socketio/payload.hpp>

namespace ignis::socketio {

bool operator==(const payload& a, const payload& b) noexcept {
  if (a.args != b.args || a.attachments.size() != b.attachments.size()) return false;
  for (std::size_t i = 0; i < a.attachments.size(); ++i) {
    if (*a.attachments[i] != *b.attachments[i]) return false;
  }
  return true;
}

}  // namespace ignis::socketio
