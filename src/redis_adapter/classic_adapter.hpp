#pragma once

// @socket.io/redis-adapter 8.3's createAdapter: broadcasts on `<key>#<nsp>#[room#]` (msgpack),
// requests and responses on their own channels (JSON, msgpack when binary may travel).
#include "redis_adapter/messages.hpp"
#include "redis_adapter/remote_adapter.hpp"

namespace ignis::redis::detail {

class classic_adapter final : public remote_adapter {
 public:
  classic_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link);
  ~classic_adapter() override;

  void broadcast(socketio::packet p, const socketio::broadcast_options& opts) override;
  void broadcast_with_ack(socketio::packet p, const socketio::broadcast_options& opts,
                          std::function<void(std::size_t)> on_client_count,
                          std::function<void(socketio::payload)> on_ack) override;
  void add_sockets(const socketio::broadcast_options& opts,
                   std::vector<std::string> rooms) override;
  void del_sockets(const socketio::broadcast_options& opts,
                   std::vector<std::string> rooms) override;
  void disconnect_sockets(const socketio::broadcast_options& opts, bool close) override;
  void fetch_sockets(const socketio::broadcast_options& opts, sockets_done done) override;
  void server_side_emit(socketio::payload args, replies_done on_replies) override;
  void server_count(std::function<void(std::size_t)> done) override;

  bool wants(std::string_view pattern, std::string_view channel) const override;
  void on_message(std::string_view pattern, std::string_view channel,
                  std::string_view payload) override;

 private:
  void on_broadcast(std::string_view payload);
  void on_request(std::string_view payload);
  void on_response(std::string_view payload);
  void publish_response(const std::string& requester_uid, std::string bytes);
  /// Sends a rooms operation to every server (this one included: it hears its own request);
  /// with Redis unreachable, applies it here at least.
  void publish_operation(boost::json::object request, std::function<void()> local_fallback);

  classic_channels channels_;
  std::string pattern_;
};

}  // namespace ignis::redis::detail
