// Polling payloads: decode at once and in two pieces, and check that what decodes re-encodes to a
// body that decodes to the same packets.
#include <ignis/engineio/packet.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ignis::engineio;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto whole = decode_payload(body, {.max_packets = 1000});

  payload_decoder decoder({.max_packets = 1000});
  std::vector<packet> pieces;
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  auto ec = decoder.feed(body.substr(0, cut), pieces);
  if (!ec) ec = decoder.feed(body.substr(cut), pieces);
  if (!ec) ec = decoder.finish(pieces);
  if (whole.has_value() != !ec) std::abort();
  if (!whole) return 0;
  if (*whole != pieces) std::abort();

  auto again = decode_payload(encode_payload(*whole), {.max_packets = 1000});
  if (!again || *again != *whole) std::abort();
  if (auto h = decode_handshake(body)) {
    if (decode_handshake(encode_handshake(*h)).value() != *h) std::abort();
  }
  return 0;
}
