#pragma once

// @socket.io/redis-adapter 8.3's createShardedAdapter (socket.io-adapter's ClusterAdapter
// messages over SPUBLISH/SSUBSCRIBE): one channel per namespace, one per server for answers, and
// in the dynamic modes one per room that has members here.
#include "redis_adapter/cluster_adapter.hpp"

#include <unordered_map>

namespace ignis::redis::detail {

class sharded_adapter final : public cluster_adapter {
 public:
  sharded_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link);
  ~sharded_adapter() override;

  void broadcast(socketio::packet p, const socketio::broadcast_options& opts) override;
  void broadcast_with_ack(socketio::packet p, const socketio::broadcast_options& opts,
                          std::function<void(std::size_t)> on_client_count,
                          std::function<void(socketio::payload)> on_ack) override;
  void room_created(unsigned shard, const std::string& room) override;
  void room_deleted(unsigned shard, const std::string& room) override;

  bool wants(std::string_view pattern, std::string_view channel) const override;
  void on_message(std::string_view pattern, std::string_view channel,
                  std::string_view payload) override;

 protected:
  void send_request(cluster_type type, boost::json::object data,
                    const std::vector<socketio::attachment>& attachments) override {
    publish(type, std::move(data), attachments);
  }
  void send_change(cluster_type type, boost::json::object data) override {
    publish(type, std::move(data));
  }

 private:
  void publish(cluster_type type, boost::json::object data,
               const std::vector<socketio::attachment>& attachments = {},
               const std::string* channel = nullptr);
  void respond(const std::string& requester, cluster_type type, boost::json::object data,
               const std::vector<socketio::attachment>& attachments = {});
  bool per_room_channel(const std::string& room) const;
  void on_cluster_message(cluster_message m);

  std::mutex rooms_mutex_;
  std::unordered_map<std::string, unsigned> room_shards_;  // room -> shards where it has members
};

}  // namespace ignis::redis::detail
