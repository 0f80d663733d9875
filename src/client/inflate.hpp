#pragma once

// Content-Encoding of polling responses: Node's engine.io gzips or deflates bodies of 1024 bytes
// and more when the request allows it.
#include <ignis/common/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace ignis::client::detail {

/// Inflates a "gzip" or "deflate" body (zlib-wrapped, or raw deflate as some servers send it) to
/// at most `max_size` bytes. Errors: client_error::bad_content_encoding, body_too_large.
result<std::string> inflate_body(std::string_view body, std::size_t max_size);

}  // namespace ignis::client::detail
