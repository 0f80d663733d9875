#include "frames.hpp"

#include <cstring>

namespace ignis::bench {
namespace {

constexpr unsigned ts_digits = 16;
constexpr unsigned seq_digits = 10;
constexpr unsigned ack_digits = 7;  // ids 1000000…9999999 keep the frame's length fixed

void put_digits(char* at, std::uint64_t value, unsigned digits) noexcept {
  for (unsigned i = digits; i-- > 0;) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::uint64_t get_digits(const char* at, unsigned digits, bool& ok) noexcept {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < digits; ++i) {
    const char c = at[i];
    if (c < '0' || c > '9') {
      ok = false;
      return 0;
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

void append_text_frame(std::string& out, std::string_view payload) {
  const std::size_t n = payload.size();
  char header[14];
  std::size_t h = 0;
  header[h++] = static_cast<char>(0x81);  // FIN, text
  if (n < 126) {
    header[h++] = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    header[h++] = static_cast<char>(0x80 | 126);
    header[h++] = static_cast<char>(n >> 8);
    header[h++] = static_cast<char>(n & 0xff);
  } else {
    header[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      header[h++] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
  }
  for (int i = 0; i < 4; ++i)
    header[h++] = 0;  // masking key
  out.append(header, h);
  out.append(payload);
}

message_template::message_template(std::string_view event, unsigned size, bool ack) {
  std::string packet = "42";
  if (ack) {
    ack_at_ = packet.size();
    packet.append(ack_digits, '1');
  }
  packet += "[\"";
  packet += event;
  packet += "\",\"T";
  const std::size_t ts_in_packet = packet.size();
  packet.append(ts_digits, '0');
  packet += 'S';
  const std::size_t seq_in_packet = packet.size();
  packet.append(seq_digits, '0');
  const std::size_t stamp_size = 2 + ts_digits + seq_digits;
  if (size > stamp_size) packet.append(size - stamp_size, 'x');
  packet += "\"]";
  append_text_frame(frame_, packet);
  const std::size_t header = frame_.size() - packet.size();
  ts_at_ = header + ts_in_packet;
  seq_at_ = header + seq_in_packet;
  if (ack_at_ != std::string::npos) ack_at_ += header;
}

void message_template::append(std::string& out, std::uint64_t timestamp_ns, std::uint64_t seq,
                              std::uint32_t ack_id) {
  put_digits(frame_.data() + ts_at_, timestamp_ns, ts_digits);
  put_digits(frame_.data() + seq_at_, seq, seq_digits);
  if (ack_at_ != std::string::npos)
    put_digits(frame_.data() + ack_at_, 1'000'000 + ack_id % 9'000'000, ack_digits);
  out += frame_;
}

bool find_stamp(std::string_view message, stamp& out) noexcept {
  const char* p = static_cast<const char*>(::memmem(message.data(), message.size(), "\"T", 2));
  if (!p) return false;
  const std::size_t at = static_cast<std::size_t>(p - message.data()) + 2;
  if (message.size() - at < ts_digits + 1 + seq_digits) return false;
  bool ok = message[at + ts_digits] == 'S';
  out.timestamp_ns = get_digits(message.data() + at, ts_digits, ok);
  out.seq = get_digits(message.data() + at + ts_digits + 1, seq_digits, ok);
  return ok;
}

}  // namespace ignis::bench
