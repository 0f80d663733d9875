#pragma once

// The one XREAD BLOCK loop of a server in streams mode, on a connection of its own (a blocked
// XREAD holds its connection). It starts after the stream's last entry as it finds it at start
// (XREVRANGE + - COUNT 1), not at "$": an entry added between two XREADs is never skipped. It
// always asks for what follows the last id it read, so after a Redis outage it resumes where it
// stopped and the entries written meanwhile (still within MAXLEN) are delivered.
//
// Each entry goes, on the reader's strand and in stream order, to the adapter of its namespace;
// an entry that makes no message is counted and skipped, and still moves the reader on.
#include "redis_adapter/stream_entries.hpp"

#include <ignis/redis/client.hpp>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ignis::redis::detail {

/// A namespace's adapter as the reader sees it.
class stream_sink {
 public:
  virtual ~stream_sink() = default;
  virtual const std::string& stream_nsp() const = 0;
  /// The reader hands this sink every entry after `id` from now on. Called once (at add() when
  /// the start is known, otherwise when it is found), under the reader's lock.
  virtual void on_stream_floor(const stream_id& id) = 0;
  /// An entry of this namespace, on the reader's strand, in stream order.
  virtual void on_stream_entry(const stream_entry& e, const stream_message& m) = 0;
};

class stream_reader : public std::enable_shared_from_this<stream_reader> {
 public:
  struct settings {
    std::string stream;
    std::size_t count = 100;
    std::chrono::milliseconds block{5000};
  };
  /// `commands` answers XREVRANGE; `reader` is used for XREAD only.
  stream_reader(std::shared_ptr<connection> commands, std::shared_ptr<connection> reader,
                boost::asio::any_io_executor ex, settings s);

  void start();
  void close();

  void add(stream_sink* sink);
  void remove(stream_sink* sink);

  std::uint64_t entries() const noexcept { return entries_.load(std::memory_order_relaxed); }
  std::uint64_t malformed() const noexcept { return malformed_.load(std::memory_order_relaxed); }
  std::uint64_t read_errors() const noexcept {
    return read_errors_.load(std::memory_order_relaxed);
  }
  std::string position() const;
  /// How late the last entry read was read: this host's clock minus the time in its id, in ms
  /// (0 when the clocks say it came from the future); -1 before the first entry.
  std::int64_t lag_ms() const noexcept { return lag_ms_.load(std::memory_order_relaxed); }

 private:
  void find_start();
  void read();
  void on_read(error_code ec, const reply& r);
  void retry_later(void (stream_reader::*what)());

  std::shared_ptr<connection> commands_;
  std::shared_ptr<connection> reader_;
  settings settings_;
  boost::asio::steady_timer retry_;
  std::chrono::milliseconds backoff_{100};
  std::atomic<bool> closed_{false};
  // Held while an entry is handed on, so that a sink being removed waits for it, and so that a
  // sink added meanwhile gets a floor that matches what it will be handed. Recursive: a
  // handler may create a namespace.
  mutable std::recursive_mutex mutex_;
  std::vector<stream_sink*> sinks_;
  std::optional<stream_id> last_;
  std::atomic<std::uint64_t> entries_{0}, malformed_{0}, read_errors_{0};
  std::atomic<std::int64_t> lag_ms_{-1};
};

}  // namespace ignis::redis::detail
