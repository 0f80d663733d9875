#pragma once

// What the sharded and the streams adapter share: socket.io-adapter's ClusterAdapter operations
// (joins, leaves and disconnects of sockets anywhere, fetching sockets, server-side emits, the
// server count), each one message to the other servers. The subclass says how a message goes
// out: a request always by pub/sub on the namespace's channel, a change to sockets by pub/sub or
// through the stream.
#include "redis_adapter/messages.hpp"
#include "redis_adapter/remote_adapter.hpp"

namespace ignis::redis::detail {

class cluster_adapter : public remote_adapter {
 public:
  cluster_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link);

  void add_sockets(const socketio::broadcast_options& opts,
                   std::vector<std::string> rooms) override;
  void del_sockets(const socketio::broadcast_options& opts,
                   std::vector<std::string> rooms) override;
  void disconnect_sockets(const socketio::broadcast_options& opts, bool close) override;
  void fetch_sockets(const socketio::broadcast_options& opts, sockets_done done) override;
  void server_side_emit(socketio::payload args, replies_done on_replies) override;
  /// Every server of the namespace, Node's and ours, is subscribed to its channel.
  void server_count(std::function<void(std::size_t)> done) override;

 protected:
  /// A request (fetch, server-side emit) on the namespace's channel.
  virtual void send_request(cluster_type type, boost::json::object data,
                            const std::vector<socketio::attachment>& attachments = {}) = 0;
  /// A change every server applies to its sockets (join, leave, disconnect).
  virtual void send_change(cluster_type type, boost::json::object data) = 0;
  /// Applies another server's change to this server's sockets (join, leave, disconnect); false
  /// when `type` is not one.
  bool on_change(cluster_type type, const socketio::broadcast_options& opts,
                 const boost::json::object& d);
  /// Takes an answer to one of this server's requests (sockets, server-side emit replies, a
  /// broadcast's client count and acks); false when `type` is not an answer.
  bool on_answer(cluster_type type, const std::string& request_id, const boost::json::object& d,
                 const std::vector<socketio::attachment>& attachments);

  sharded_channels channels_;
};

}  // namespace ignis::redis::detail
