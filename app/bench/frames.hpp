#pragma once

// The client's side of the wire, kept to what a load generator needs: masked text frames built
// from templates whose timestamp and sequence digits are patched in place (no encoding per
// message), and a reader of the server's unmasked frames.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ignis::bench {

/// Appends a masked WebSocket text frame. The masking key is zero, so the payload is copied as
/// is; the server still unmasks it as it would any client's frame.
void append_text_frame(std::string& out, std::string_view payload);

/// A pre-encoded Socket.IO EVENT frame `42["<event>","T<ts>S<seq>xxx…"]` (or `42<id>[…]` when it
/// asks for an acknowledgement) whose argument is `size` bytes long.
class message_template {
 public:
  message_template(std::string_view event, unsigned size, bool ack);
  /// Appends the frame with these values patched in.
  void append(std::string& out, std::uint64_t timestamp_ns, std::uint64_t seq,
              std::uint32_t ack_id);

 private:
  std::string frame_;
  std::size_t ts_at_ = 0;
  std::size_t seq_at_ = 0;
  std::size_t ack_at_ = std::string::npos;
};

/// The timestamp and sequence number a message_template put into a message, if found.
struct stamp {
  std::uint64_t timestamp_ns = 0;
  std::uint64_t seq = 0;
};
bool find_stamp(std::string_view message, stamp& out) noexcept;

enum class frame_opcode : std::uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10
};

/// Reads complete frames from `data`, calling on_frame(opcode, payload) for each; returns the
/// number of bytes consumed (the rest is an unfinished frame), or SIZE_MAX for a frame larger
/// than `max_payload`.
template <class OnFrame>
std::size_t read_frames(const char* data, std::size_t size, std::size_t max_payload,
                        OnFrame&& on_frame) {
  std::size_t at = 0;
  for (;;) {
    if (size - at < 2) return at;
    const auto* p = reinterpret_cast<const unsigned char*>(data + at);
    const auto opcode = static_cast<frame_opcode>(p[0] & 0x0f);
    const bool masked = (p[1] & 0x80) != 0;
    std::uint64_t length = p[1] & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (size - at < 4) return at;
      length = (std::uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (length == 127) {
      if (size - at < 10) return at;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | p[2 + i];
      header = 10;
    }
    if (length > max_payload) return SIZE_MAX;
    if (masked) header += 4;  // a server must not mask; tolerated, the payload is not unmasked
    if (size - at < header + length) return at;
    on_frame(opcode, std::string_view(data + at + header, static_cast<std::size_t>(length)));
    at += header + static_cast<std::size_t>(length);
  }
}

}  // namespace ignis::bench
