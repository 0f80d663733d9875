#pragma once

// What the adapters of one server share: the publishing connection, the subscriber (pub/sub
// modes) or the stream reader (streams mode), the routing of received messages to the namespace
// they address, and the counters.
#include "redis_adapter/stream_reader.hpp"

#include <ignis/net/runtime.hpp>
#include <ignis/redis/adapter.hpp>
#include <ignis/redis/client.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis::detail {

/// A namespace adapter as the link sees it: where its messages arrive.
class message_sink {
 public:
  virtual ~message_sink() = default;
  /// Whether `channel` (or, for pattern messages, `pattern`) is one of this adapter's.
  virtual bool wants(std::string_view pattern, std::string_view channel) const = 0;
  /// Runs on the subscriber's strand.
  virtual void on_message(std::string_view pattern, std::string_view channel,
                          std::string_view payload) = 0;
};

class adapter_link_state : public std::enable_shared_from_this<adapter_link_state> {
 public:
  adapter_link_state(net::runtime& rt, config redis, adapter_options options);

  void start();
  void close();

  void add_sink(message_sink* sink);
  void remove_sink(message_sink* sink);

  /// PUBLISH (classic) or SPUBLISH (sharded); counted; failures only counted.
  void publish(std::string channel, std::string payload);
  /// PUBSUB NUMSUB / SHARDNUMSUB of `channel`; 1 (this server alone) when Redis cannot answer.
  void count_subscribers(std::string channel, std::function<void(std::size_t)> done);

  /// Streams mode: a command on the publishing connection (XADD, SET, GETDEL, XRANGE); counted
  /// as a publish when `publish` is true.
  void command(std::vector<std::string> args, connection::completion done, bool publish = false);
  /// Streams mode only.
  stream_reader& reader() noexcept { return *reader_; }

  subscriber& sub() noexcept { return *sub_; }
  link_state state() const noexcept;
  adapter_stats stats() const noexcept;
  /// The nodes as the publishing connection and the subscriber see them, merged by address (a
  /// node is as healthy as the worse of the two views).
  cluster_status cluster() const;
  const adapter_options& options() const noexcept { return options_; }
  net::runtime& runtime() noexcept { return rt_; }
  bool publishing_possible() const noexcept { return pub_->state() == link_state::connected; }
  void count_message() noexcept { messages_.fetch_add(1, std::memory_order_relaxed); }
  void count_malformed() noexcept { malformed_.fetch_add(1, std::memory_order_relaxed); }
  void count_session_write() noexcept { session_writes_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void dispatch(std::string_view pattern, std::string_view channel, std::string_view payload);

  net::runtime& rt_;
  adapter_options options_;
  std::shared_ptr<connection> pub_;
  std::shared_ptr<subscriber> sub_;
  std::shared_ptr<connection> stream_conn_;  // streams mode: the blocked XREADs
  std::shared_ptr<stream_reader> reader_;    // streams mode
  std::atomic<bool> closed_{false};
  // Held while a message is handed to its adapter, so that an adapter being destroyed (on
  // another thread) waits for it; recursive because a handler may create a namespace.
  std::recursive_mutex sinks_mutex_;
  std::vector<message_sink*> sinks_;
  std::atomic<std::uint64_t> publishes_{0}, publish_errors_{0}, messages_{0}, malformed_{0},
      session_writes_{0};
};

}  // namespace ignis::redis::detail
