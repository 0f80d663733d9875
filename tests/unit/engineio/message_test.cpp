#include <ignis/engineio/message.hpp>
#include <ignis/net/websocket.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using ignis::engineio::message;
using ignis::engineio::packet_type;
namespace ws = ignis::net::ws;

std::string frame_of(ws::opcode op, std::string_view payload) {
  std::string out;
  ws::encode_frame(out, op, payload);
  return out;
}

TEST(EngineIoMessage, TextIsTheTypeDigitAndTheDataInOneFrame) {
  // 124 and 125 bytes of data straddle the 126-byte payload where the length takes two more
  // bytes; 65534 and 65535 the 65536 where it takes eight.
  for (const std::size_t n : {0u, 5u, 124u, 125u, 1000u, 65534u, 65535u}) {
    const std::string data(n, 'd');
    const auto m = message::text(packet_type::message, data);
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->is_binary());
    EXPECT_EQ(m->payload(), "4" + data) << n;
    EXPECT_EQ(m->ws_frame(), frame_of(ws::opcode::text, "4" + data)) << n;
  }
  EXPECT_EQ(message::text(packet_type::pong, "probe")->payload(), "3probe");
  EXPECT_EQ(message::text(packet_type::noop, "")->ws_frame(), frame_of(ws::opcode::text, "6"));
}

TEST(EngineIoMessage, BinaryIsTheBytesAsTheyAre) {
  const std::string data("\x00\x01\xff", 3);
  const auto m = message::binary(data);
  EXPECT_TRUE(m->is_binary());
  EXPECT_EQ(m->payload(), data);
  EXPECT_EQ(m->ws_frame(), frame_of(ws::opcode::binary, data));
}

}  // namespace
