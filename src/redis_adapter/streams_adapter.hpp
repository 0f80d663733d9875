#pragma once

// @socket.io/redis-streams-adapter 0.3 (socket.io-adapter's ClusterAdapter over one Redis stream
// and pub/sub): broadcasts without acks, socketsJoin/Leave and disconnectSockets are XADDed to
// the stream and read back by every server's XREAD loop; the ephemeral requests (broadcasts with
// acks, fetchSockets, serverSideEmit) are PUBLISHed as msgpack on <prefix>#<nsp># and answered on
// the requester's <prefix>#<nsp>#<uid>#; servers are counted with PUBSUB NUMSUB of the shared
// channel. Connection state recovery keeps sessions in Redis and finds missed packets in the
// stream, so a client recovers on any server, Node's or ours.
//
// Differences from Node, on purpose:
// - this server's own broadcasts reach its clients when the reader reads them back (Node
//   delivers them when XADD answers): every client then sees every recoverable packet in stream
//   order, which a restore relies on to hand over from the stream to this server's store without
//   a gap or a duplicate. When XADD fails, the broadcast is delivered locally at once, without
//   an offset, as the pub/sub adapters do while Redis is away;
// - a restore leaves out the stream's volatile packets and those sent with an ack (Node replays
//   them as plain events: a packet the client never had an offset for, or a duplicate);
// - the session is taken with GETDEL (Redis 6.2) rather than MULTI GET DEL EXEC, one command
//   that a Redis Cluster routes like any other;
// - with live_sessions, the session of every connected, recoverable socket is kept in Redis too
//   (Node writes it only when the socket leaves), so that a crash of this server loses none.
#include "redis_adapter/cluster_adapter.hpp"
#include "redis_adapter/stream_reader.hpp"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

namespace ignis::redis::detail {

class streams_adapter final : public cluster_adapter, public stream_sink {
 public:
  streams_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link);
  ~streams_adapter() override;

  void broadcast(socketio::packet p, const socketio::broadcast_options& opts) override;
  void broadcast_with_ack(socketio::packet p, const socketio::broadcast_options& opts,
                          std::function<void(std::size_t)> on_client_count,
                          std::function<void(socketio::payload)> on_ack) override;

  bool shares_sessions() const override { return true; }
  void persist_session(const socketio::session_state& s, std::chrono::milliseconds ttl) override;
  void session_changed(const socketio::session_state& s) override;
  void session_ended(const std::string& pid) override;
  void restore_session(std::string pid, std::string offset,
                       std::optional<socketio::log_position> local_floor,
                       std::function<void(std::optional<socketio::shared_restore>)> done) override;

  // Pub/sub: the ephemeral requests and the answers to ours.
  bool wants(std::string_view pattern, std::string_view channel) const override;
  void on_message(std::string_view pattern, std::string_view channel,
                  std::string_view payload) override;

  const std::string& stream_nsp() const override { return nsp_name_; }
  void on_stream_floor(const stream_id& id) override;
  void on_stream_entry(const stream_entry& e, const stream_message& m) override;

 protected:
  void send_request(cluster_type type, boost::json::object data,
                    const std::vector<socketio::attachment>& attachments) override {
    publish(type, std::move(data), attachments);
  }
  /// Through the stream, as Node's 0.3: a server that was away reads it when it is back.
  void send_change(cluster_type type, boost::json::object data) override {
    append(type, std::move(data));
  }

 private:
  /// XADDs a message of this adapter; `done` (optional) gets the entry id or the failure.
  void append(cluster_type type, std::optional<boost::json::object> data,
              const std::vector<socketio::attachment>& attachments = {},
              std::function<void(error_code)> done = {});
  /// PUBLISHes an ephemeral message (msgpack) on the namespace's channel.
  void publish(cluster_type type, boost::json::object data,
               const std::vector<socketio::attachment>& attachments = {});
  void on_broadcast(const stream_entry& e, const stream_message& m);
  /// A message of another server, from the stream or pub/sub.
  void on_cluster_message(cluster_type type, const std::string& from, const boost::json::object& d,
                          const std::vector<socketio::attachment>& attachments);

  /// A broadcast whose XADD failed without telling whether Redis took it (a timeout, a lost
  /// connection) was delivered here at once; if the stream has it after all, it is not delivered
  /// again when read back. Bounded in number and age.
  void remember_unsure(std::string data_field);
  bool take_unsure(const stream_message& m);

  std::string nsp_name_;
  std::mutex unsure_mutex_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> unsure_;
  // The sessions of the connected sockets, kept in Redis; apart from the adapter so that its
  // timer never touches an adapter being destroyed.
  class live_sessions;
  std::shared_ptr<live_sessions> live_;
};

}  // namespace ignis::redis::detail
