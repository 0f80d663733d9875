#include "client/inflate.hpp"

#include <ignis/client/error.hpp>

#include <zlib.h>

#include <array>

namespace ignis::client::detail {
namespace {

// window_bits: 15 + 32 reads gzip or zlib headers; -15 reads raw deflate.
result<std::string> run_inflate(std::string_view body, std::size_t max_size, int window_bits) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return client_error::bad_content_encoding;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  std::string out;
  std::array<char, 16 * 1024> chunk{};
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return client_error::bad_content_encoding;
    }
    const std::size_t produced = chunk.size() - zs.avail_out;
    if (out.size() + produced > max_size) {  // a decompression bomb stops here
      inflateEnd(&zs);
      return client_error::body_too_large;
    }
    out.append(chunk.data(), produced);
    if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {  // truncated stream
      inflateEnd(&zs);
      return client_error::bad_content_encoding;
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace

result<std::string> inflate_body(std::string_view body, std::size_t max_size) {
  if (body.size() > UINT_MAX) return client_error::body_too_large;
  auto r = run_inflate(body, max_size, 15 + 32);
  if (!r && r.error() == client_error::bad_content_encoding)
    return run_inflate(body, max_size, -15);
  return r;
}

}  // namespace ignis::client::detail
