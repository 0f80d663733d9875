// Stream entries as other servers (or anything with write access to the stream) leave them:
// any field values must decode to a message or be refused, never crash. The input is split at
// NUL bytes into the flat [field, value, ...] list of one entry, and also read whole as a session
// key's value and as an entry id. What decodes must survive our own encoding unchanged.
#include "redis_adapter/stream_entries.hpp"

#include <cstdlib>
#include <string_view>

namespace {

using namespace ignis::redis::detail;
using ignis::redis::reply;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (const auto id = parse_stream_id(bytes)) {
    if (parse_stream_id(id->str()) != id) std::abort();
    if (!(*id < next_stream_id(*id)) && id->ms != UINT64_MAX) std::abort();
  }

  if (auto s = decode_session(bytes)) {
    auto again = decode_session(encode_session(*s));
    if (!again || again->sid != s->sid || again->pid != s->pid || again->rooms != s->rooms)
      std::abort();
  }

  std::vector<reply> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == '\0') {
      reply r;
      r.type = reply::kind::string;
      r.str = std::string(bytes.substr(start, i - start));
      fields.push_back(std::move(r));
      start = i + 1;
    }
  }
  auto m = decode_stream_fields(fields);
  if (!m) return 0;
  (void)decode_stream_broadcast(*m, m->nsp);
  // Our XADD of the decoded message reads back as the same message.
  const auto args = xadd_command("s", 10, *m);
  std::vector<reply> written;
  for (std::size_t i = 6; i < args.size(); ++i) {
    reply r;
    r.type = reply::kind::string;
    r.str = args[i];
    written.push_back(std::move(r));
  }
  auto back = decode_stream_fields(written);
  if (!back || back->type != m->type || back->nsp != m->nsp || back->uid != m->uid ||
      back->data.has_value() != m->data.has_value()) {
    std::abort();
  }
  return 0;
}
