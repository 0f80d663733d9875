#pragma once

// Connection state recovery (Node's connectionStateRecovery): what a namespace keeps so that a
// client that lost its connection gets back its socket (id, rooms, data) and every packet it
// missed. Shared by the namespace's shards, behind one lock:
// - every recoverable packet (an EVENT without ack and not volatile) gets the next offset, which
//   travels as its last argument, and is kept, encoded, with the rooms it went to, for
//   max_disconnection_duration and within max_bytes (the oldest go first);
// - its deliveries are queued per shard in offset order, so that each shard, and so each client,
//   receives recoverable packets in offset order whichever shard sent them;
// - a socket that disconnects for a recoverable reason leaves a session under its private id
//   (pid); a CONNECT carrying that pid and an offset still kept takes the session (once), and the
//   packets after that offset that its rooms would have received.
#include <ignis/engineio/message.hpp>
#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/packet.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ignis::socketio::detail {

using messages_ptr = std::shared_ptr<const std::vector<engineio::message_ptr>>;

struct recovery_session : session_state {};

/// A recoverable packet to deliver on one shard.
struct recoverable_delivery {
  messages_ptr messages;
  std::shared_ptr<const broadcast_options> opts;
  std::shared_ptr<const packet> observed;  ///< the packet, for the server's observer (if any)
};

class recovery_store {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  struct limits {
    std::chrono::milliseconds max_disconnection_duration;
    std::size_t max_bytes;
  };
  recovery_store(limits l, std::size_t shards);

  /// Gives `p` (an EVENT) the next offset as its last argument, encodes and keeps it, and queues
  /// its delivery on every shard (with a copy of the packet when `observed`). Returns the shards
  /// whose queue was empty: a drain must be scheduled there.
  std::vector<unsigned> stamp(packet& p, const broadcast_options& opts, time_point now,
                              bool observed = false);
  /// As stamp, with the offset a shared log gave it (Redis stream). The store then keeps packets
  /// in that order: the adapter stamps them in log order.
  std::vector<unsigned> stamp(packet& p, const broadcast_options& opts, time_point now,
                              const log_position& at, bool observed = false);
  /// Shared log: this store holds every packet after `p` that it was given from now on; what it
  /// drops later (time, bytes) moves the floor forward.
  void set_floor(const log_position& p);
  std::optional<log_position> floor() const;
  /// What is queued for `shard`, oldest first (called on that shard).
  std::deque<recoverable_delivery> take_pending(unsigned shard);

  /// A socket left for a recoverable reason.
  void persist(recovery_session s, time_point now);
  /// The session `pid`, taken (a second restore fails), if it has not expired and `offset` is
  /// still kept.
  std::optional<recovery_session> take_session(const std::string& pid, const std::string& offset,
                                               time_point now);
  /// The packets after `offset` that `rooms` would have received, and (in `queued`) what is queued
  /// for `shard`, in one step: what is stamped later is not among them and is delivered through
  /// the queue. nullopt when `offset` is no longer kept.
  /// As packets_after for a shared log: the packets after `after`, which must not be below the
  /// floor (nullopt then).
  std::optional<std::vector<messages_ptr>> packets_after(const log_position& after,
                                                         const std::vector<std::string>& rooms,
                                                         unsigned shard,
                                                         std::deque<recoverable_delivery>& queued);
  std::optional<std::vector<messages_ptr>> packets_after(const std::string& offset,
                                                         const std::vector<std::string>& rooms,
                                                         unsigned shard,
                                                         std::deque<recoverable_delivery>& queued);

  struct counts {
    std::size_t packets = 0;
    std::size_t bytes = 0;
    std::size_t sessions = 0;
    std::uint64_t evicted = 0;   ///< packets dropped for max_bytes before their time
    std::uint64_t restored = 0;  ///< sessions handed back
    std::uint64_t missed = 0;    ///< restores asked for that found nothing to restore
  };
  counts stats() const;

 private:
  struct kept_packet {
    std::string offset;
    time_point at;
    std::vector<std::string> rooms;
    std::vector<std::string> except;
    messages_ptr messages;
    std::size_t bytes = 0;
    log_position position{};  // shared log only
  };
  struct kept_session {
    recovery_session session;
    time_point disconnected_at;
  };
  std::string next_offset();
  void keep(std::string offset, const broadcast_options& opts, time_point now,
            messages_ptr messages);
  void expire(time_point now);
  void drop_oldest();
  std::vector<unsigned> queue(const messages_ptr& messages,
                              const std::shared_ptr<const broadcast_options>& opts,
                              std::shared_ptr<const packet> observed);
  std::deque<kept_packet>::const_iterator find(const std::string& offset) const;

  limits limits_;
  mutable std::mutex mutex_;
  std::deque<kept_packet> packets_;
  std::size_t bytes_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t restored_ = 0;
  std::uint64_t missed_ = 0;
  std::unordered_map<std::string, kept_session> sessions_;
  std::vector<std::deque<recoverable_delivery>> pending_;  // per shard
  std::optional<log_position> floor_;                      // shared log only
  time_point swept_{};
  // Offsets: the wall clock in ms as Node's yeast() writes it, and a counter within the same ms.
  std::int64_t last_ms_ = 0;
  std::uint32_t same_ms_ = 0;
};

}  // namespace ignis::socketio::detail
