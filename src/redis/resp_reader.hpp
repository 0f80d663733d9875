#pragma once

// Incremental RESP2 parsing on hiredis' redisReader, sans I/O: bytes go in as they arrive, whole
// replies come out. hiredis stays inside the .cpp file; only its reader type is named here.
#include <ignis/common/result.hpp>
#include <ignis/redis/reply.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

struct redisReader;  // hiredis/read.h

namespace ignis::redis::detail {

class resp_reader {
 public:
  /// Unparsed bytes beyond `max_buffered` (one huge announced bulk string that never ends, say)
  /// are a protocol error rather than unbounded memory. Redis' own proto-max-bulk-len is 512 MiB.
  static constexpr std::size_t default_max_buffered = std::size_t{512} << 20;

  explicit resp_reader(std::size_t max_buffered = default_max_buffered);
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  /// Adds bytes. error::protocol_error once the stream is broken (sticky) or over the limit.
  error_code feed(std::string_view bytes);
  /// The next whole reply, std::nullopt if more bytes are needed, or error::protocol_error (sticky)
  /// if the stream is not RESP. `error_text()` then says why.
  result<std::optional<reply>> next();
  std::string_view error_text() const noexcept;
  /// Drops everything, for a new connection.
  void reset();

 private:
  struct reader_deleter {
    void operator()(redisReader* r) const noexcept;
  };
  std::unique_ptr<redisReader, reader_deleter> reader_;
  std::size_t max_buffered_;
  bool failed_ = false;
};

}  // namespace ignis::redis::detail
