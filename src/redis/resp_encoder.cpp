#include "redis/resp_encoder.hpp"

#include <charconv>

namespace ignis::redis::detail {
namespace {

void append_header(std::string& out, char type, std::size_t n) {
  char digits[24];
  const auto res = std::to_chars(digits, digits + sizeof digits, n);
  out.push_back(type);
  out.append(digits, res.ptr);
  out.append("\r\n", 2);
}

template <class Arg>
void encode(std::string& out, std::span<const Arg> args) {
  append_header(out, '*', args.size());
  for (const auto& arg : args) {
    append_header(out, '$', arg.size());
    out.append(arg.data(), arg.size());
    out.append("\r\n", 2);
  }
}

}  // namespace

void encode_command(std::string& out, std::span<const std::string> args) {
  encode(out, args);
}

void encode_command(std::string& out, std::span<const std::string_view> args) {
  encode(out, args);
}

}  // namespace ignis::redis::detail
