#pragma once

// The adapter decides which sockets a broadcast reaches: on this server only (the in-memory
// adapter, this base class) or on every server of a cluster (the Redis adapter, derived from it).
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/socket_info.hpp>

#include <boost/json/value.hpp>

#include <functional>
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

 protected:
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
  namespace_& nsp_;
};

}  // namespace ignis::socketio
