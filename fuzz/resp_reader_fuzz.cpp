// The RESP reader (hiredis' redisReader behind our wrapper). The first byte picks a split point;
// the rest is read whole and in two pieces, which must give the same replies and the same error.
// Every reply read is then written back as RESP and must read back identical.
#include "redis/resp_reader.hpp"

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ignis::redis::reply;
using ignis::redis::detail::resp_reader;

struct outcome {
  std::vector<reply> replies;
  bool failed = false;
};

outcome read(std::initializer_list<std::string_view> pieces) {
  // A small buffer limit, so the limit's own error path is reached too.
  resp_reader reader(1 << 16);
  outcome o;
  for (const auto piece : pieces) {
    if (reader.feed(piece)) {
      o.failed = true;
      break;
    }
    for (;;) {
      auto next = reader.next();
      if (!next) {
        o.failed = true;
        break;
      }
      if (!*next) break;
      o.replies.push_back(std::move(**next));
    }
    if (o.failed) break;
  }
  // Sticky: a failed reader fails again.
  if (o.failed && !reader.feed("+OK\r\n") && reader.next()) std::abort();
  return o;
}

bool same(const reply& a, const reply& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

void write(std::string& out, const reply& r) {
  switch (r.type) {
    case reply::kind::status:
      out += "+" + r.str + "\r\n";
      break;
    case reply::kind::error:
      out += "-" + r.str + "\r\n";
      break;
    case reply::kind::integer:
      out += ":" + std::to_string(r.integer) + "\r\n";
      break;
    case reply::kind::nil:
      out += "$-1\r\n";
      break;
    case reply::kind::array:
      out += "*" + std::to_string(r.elements.size()) + "\r\n";
      for (const auto& e : r.elements)
        write(out, e);
      break;
    default:
      out += "$" + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);

  const outcome whole = read({input});
  const outcome split = read({input.substr(0, cut), input.substr(cut)});
  if (whole.failed != split.failed || whole.replies.size() != split.replies.size()) std::abort();
  for (std::size_t i = 0; i < whole.replies.size(); ++i)
    if (!same(whole.replies[i], split.replies[i])) std::abort();

  // Status and error lines cannot hold CR or LF when written back; such replies only come from
  // inputs hiredis read leniently, so the round trip is checked for the others.
  std::string again;
  bool writable = true;
  for (const auto& r : whole.replies) {
    if ((r.type == reply::kind::status || r.type == reply::kind::error) &&
        r.str.find_first_of("\r\n") != std::string::npos) {
      writable = false;
    }
    write(again, r);
  }
  if (writable && !whole.replies.empty()) {
    const outcome back = read({again});
    if (back.failed || back.replies.size() != whole.replies.size()) std::abort();
    for (std::size_t i = 0; i < back.replies.size(); ++i)
      if (!same(back.replies[i], whole.replies[i])) std::abort();
  }
  return 0;
}
