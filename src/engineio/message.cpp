#include <ignis/engineio/message.hpp>
#include <ignis/net/websocket.hpp>

namespace ignis::engineio {

std::shared_ptr<const message> message::text(packet_type type, std::string_view data) {
  auto m = std::make_shared<message>();
  // Framed in place: the packet type and the data go straight after the header, in a buffer of
  // exactly the frame's size.
  const std::size_t size = 1 + data.size();
  m->header_size_ = static_cast<std::uint8_t>(net::ws::frame_header_size(size, false));
  m->frame_.reserve(m->header_size_ + size);
  net::ws::encode_frame_header(m->frame_, net::ws::opcode::text, size);
  m->frame_.push_back(static_cast<char>('0' + static_cast<int>(type)));
  m->frame_.append(data);
  return m;
}

std::shared_ptr<const message> message::binary(std::string_view data) {
  auto m = std::make_shared<message>();
  m->binary_ = true;
  m->header_size_ = static_cast<std::uint8_t>(net::ws::frame_header_size(data.size(), false));
  net::ws::encode_frame(m->frame_, net::ws::opcode::binary, data);
  return m;
}

std::shared_ptr<const message> message::control(std::string bytes) {
  auto m = std::make_shared<message>();
  m->frame_ = std::move(bytes);
  return m;
}

}  // namespace ignis::engineio
