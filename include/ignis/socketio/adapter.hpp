#pragma once

// The adapter decides which sockets a broadcast reaches: on this server only (the in-memory
// adapter, this base class) or on every server of a cluster (the Redis adapter, derived from it).
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/socket_info.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ignis::socketio {

class namespace_;

/// What connection state recovery keeps of a socket that left (Node's Session): its id, private
/// id, rooms (its own id included) and data.
struct session_state {
  std::string sid;
  std::string pid;
  std::vector<std::string> rooms;
  boost::json::value data;
};

/// A packet's place in a log the servers share (a Redis stream entry id): the offset clients see
/// and the two numbers that order it.
struct log_position {
  std::string offset;
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  bool operator<(const log_position& o) const noexcept {
    return major != o.major ? major < o.major : minor < o.minor;
  }
};

/// What a shared store gives back to a recovering client: its session, the packets it missed
/// up to `resume` (each with its offset as last argument), and where this server's own store
/// takes over.
struct shared_restore {
  session_state session;
  std::vector<packet> missed;
  log_position resume;
};

class adapter {
 public:
  explicit adapter(namespace_& nsp) : nsp_(nsp) {}
  virtual ~adapter() = default;
  adapter(const adapter&) = delete;
  adapter& operator=(const adapter&) = delete;

  namespace_& nsp() const noexcept { return nsp_; }

  /// Sends `p` (an EVENT) to the matching sockets, encoded once for all of them.
  virtual void broadcast(packet p, const broadcast_options& opts);
  /// As broadcast, with one ack id for all recipients. on_client_count runs once per server with
  /// the number of sockets the packet went to; on_ack once per answer. Both may run on any thread.
  virtual void broadcast_with_ack(packet p, const broadcast_options& opts,
                                  std::function<void(std::size_t)> on_client_count,
                                  std::function<void(payload)> on_ack);
  virtual void add_sockets(const broadcast_options& opts, std::vector<std::string> rooms);
  virtual void del_sockets(const broadcast_options& opts, std::vector<std::string> rooms);
  virtual void disconnect_sockets(const broadcast_options& opts, bool close);
  /// `done` runs once, on any thread.
  virtual void fetch_sockets(const broadcast_options& opts,
                             std::function<void(std::vector<socket_info>)> done);
  /// Emits to the other servers' namespaces; with `on_replies`, collects their acknowledgements
  /// (the in-memory adapter has no other servers: no replies, at once).
  virtual void server_side_emit(payload args,
                                std::function<void(error_code, std::vector<payload>)> on_replies);
  /// Number of servers sharing this namespace (1 for the in-memory adapter).
  virtual void server_count(std::function<void(std::size_t)> done);

  /// A room got its first member on shard `shard` / lost its last one there (socket ids, the
  /// implicit own rooms, excluded). Called on that shard; for adapters that subscribe per room.
  virtual void room_created(unsigned shard, const std::string& room);
  virtual void room_deleted(unsigned shard, const std::string& room);

  /// Connection state recovery through a store the servers share (sessions and packets in
  /// Redis) rather than this server's memory alone: sessions go to persist_session and come back
  /// through restore_session, and a recoverable packet gets its offset from the shared log
  /// (broadcast_local_at) instead of this server.
  virtual bool shares_sessions() const { return false; }
  virtual void persist_session(const session_state& s, std::chrono::milliseconds ttl);
  /// With shares_sessions(): the session of a connected, recoverable socket, each time it may
  /// have changed (it connected, was restored, became recoverable, its rooms changed), so that
  /// the adapter can keep it where another server finds it if this one dies. Any thread.
  virtual void session_changed(const session_state& s);
  /// That socket left, or stopped being recoverable, leaving nothing to recover (a recoverable
  /// disconnect comes to persist_session instead). Any thread.
  virtual void session_ended(const std::string& pid);
  /// `done` runs once, on any thread, with nullopt when nothing can be restored. `local_floor`:
  /// this server's store holds every recoverable packet of the log after it (nullopt: unknown).
  virtual void restore_session(std::string pid, std::string offset,
                               std::optional<log_position> local_floor,
                               std::function<void(std::optional<shared_restore>)> done);

 protected:
  /// broadcast_local for a packet of the shared log: with recovery on, a recoverable packet
  /// takes `at` as its offset and is kept under it.
  void broadcast_local_at(const packet& p, const broadcast_options& opts, const log_position& at);
  /// This server will see every packet of the shared log after `p`.
  void set_log_floor(const log_position& p);
  // The local half of every operation, across this server's shards.
  void broadcast_local(const packet& p, const broadcast_options& opts);
  void broadcast_with_ack_local(const packet& p, const broadcast_options& opts,
                                std::function<void(std::size_t)> on_client_count,
                                std::function<void(payload)> on_ack);
  void add_sockets_local(const broadcast_options& opts, std::vector<std::string> rooms);
  void del_sockets_local(const broadcast_options& opts, std::vector<std::string> rooms);
  void disconnect_sockets_local(const broadcast_options& opts, bool close);
  void fetch_sockets_local(const broadcast_options& opts,
                           std::function<void(std::vector<socket_info>)> done);
  /// Hands an event another server emitted (args = [event, ...]) to this namespace's handlers.
  void deliver_server_side_emit(payload args, std::function<void(payload)> ack);

 private:
  void broadcast_local_plain(const packet& p, const broadcast_options& opts);
  namespace_& nsp_;
};

}  // namespace ignis::socketio
