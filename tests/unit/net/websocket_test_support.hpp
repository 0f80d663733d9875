#pragma once

// Helpers shared by the WebSocket codec tests: byte literals, and decoding one wire input whole,
// cut at every position and byte by byte, checking that every way gives the same result.
#include "support/split.hpp"

#include <ignis/net/websocket.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::net::ws {

inline std::ostream& operator<<(std::ostream& os, const event& e) {
  static constexpr const char* kinds[] = {"text", "binary", "ping", "pong", "close"};
  os << kinds[static_cast<int>(e.kind)] << '(';
  if (e.payload.size() <= 64) {
    os << '"' << e.payload << '"';
  } else {
    os << e.payload.size() << " bytes";
  }
  if (e.kind == event_kind::close) os << ", code " << e.close_code;
  return os << ')';
}

}  // namespace ignis::net::ws

namespace ignis::test {

/// A string from byte values: wire({0x81, 0x05}) == "\x81\x05".
inline std::string wire(std::initializer_list<int> bytes) {
  std::string out;
  for (const int b : bytes)
    out.push_back(static_cast<char>(b));
  return out;
}

struct decoded {
  std::vector<net::ws::event> events;
  error_code ec;
  bool idle = true;
};

inline decoded decode_pieces(net::ws::role r, const std::vector<std::string_view>& pieces,
                             net::ws::decoder_limits limits = {}) {
  net::ws::frame_decoder decoder(r, limits);
  decoded d;
  for (const auto piece : pieces) {
    d.ec = decoder.feed(as_bytes(piece), d.events);
    if (d.ec) break;
  }
  d.idle = decoder.idle();
  return d;
}

/// Decodes `input` whole, then at every split and byte by byte; every way must give the same
/// events, error and idle state. Returns the whole-input result.
inline decoded decode_every_way(net::ws::role r, std::string_view input,
                                net::ws::decoder_limits limits = {}) {
  auto whole = decode_pieces(r, {input}, limits);
  for_each_split(input, [&](const std::vector<std::string_view>& pieces) {
    const auto d = decode_pieces(r, pieces, limits);
    ASSERT_EQ(d.ec, whole.ec) << "pieces: " << pieces.size() << ", first " << pieces[0].size();
    ASSERT_EQ(d.events, whole.events)
        << "pieces: " << pieces.size() << ", first " << pieces[0].size();
    ASSERT_EQ(d.idle, whole.idle);
  });
  return whole;
}

}  // namespace ignis::test
