#include "redis_adapter/sharded_adapter.hpp"

#include "redis_adapter/random_id.hpp"

#include <atomic>

namespace ignis::redis::detail {
namespace json = boost::json;

namespace {

// Node's "looks like a socket id" test of the dynamic mode.
bool looks_like_socket_id(const std::string& room) {
  return room.size() == 20;
}

}  // namespace

sharded_adapter::sharded_adapter(socketio::namespace_& nsp,
                                 std::shared_ptr<adapter_link_state> link)
    : cluster_adapter(nsp, std::move(link)) {
  link_->add_sink(this);
  link_->sub().ssubscribe(channels_.main);
  link_->sub().ssubscribe(channels_.response);
}

sharded_adapter::~sharded_adapter() {
  link_->remove_sink(this);
  link_->sub().sunsubscribe(channels_.main);
  link_->sub().sunsubscribe(channels_.response);
  std::lock_guard lock(rooms_mutex_);
  for (const auto& [room, n] : room_shards_)
    link_->sub().sunsubscribe(channels_.main + room + "#");
}

bool sharded_adapter::wants(std::string_view pattern, std::string_view channel) const {
  // The namespace's channel, its response channel and its room channels share one prefix.
  return pattern.empty() && channel.starts_with(channels_.main);
}

bool sharded_adapter::per_room_channel(const std::string& room) const {
  switch (link_->options().subscription) {
    case subscription_mode::static_:
      return false;
    case subscription_mode::dynamic:
      return !looks_like_socket_id(room);
    case subscription_mode::dynamic_private:
      return true;
  }
  return false;
}

void sharded_adapter::room_created(unsigned, const std::string& room) {
  if (link_->options().subscription == subscription_mode::static_) return;
  std::lock_guard lock(rooms_mutex_);
  // A room of the dynamic mode: subscribed while some shard has members (the socket-id rooms
  // never come here, they are implicit).
  if (room_shards_[room]++ == 0) link_->sub().ssubscribe(channels_.main + room + "#");
}

void sharded_adapter::room_deleted(unsigned, const std::string& room) {
  if (link_->options().subscription == subscription_mode::static_) return;
  std::lock_guard lock(rooms_mutex_);
  auto it = room_shards_.find(room);
  if (it == room_shards_.end()) return;
  if (--it->second == 0) {
    room_shards_.erase(it);
    link_->sub().sunsubscribe(channels_.main + room + "#");
  }
}

void sharded_adapter::publish(cluster_type type, json::object data,
                              const std::vector<socketio::attachment>& attachments,
                              const std::string* channel) {
  link_->publish(channel ? *channel : channels_.main,
                 encode_cluster(type, std::move(data), uid_, nsp().name(), attachments));
}

void sharded_adapter::respond(const std::string& requester, cluster_type type, json::object data,
                              const std::vector<socketio::attachment>& attachments) {
  link_->publish(channels_.main + requester + "#",
                 encode_cluster(type, std::move(data), uid_, nsp().name(), attachments));
}

// -- Outgoing ---------------------------------------------------------------------------------

void sharded_adapter::broadcast(socketio::packet p, const socketio::broadcast_options& opts) {
  if (!opts.flags.local) {
    json::object data{{"packet", encode_event(p, nullptr)},
                      {"opts", encode_opts(opts, opts_layout::adapter)}};
    std::string room_channel;
    const bool to_room = opts.rooms.size() == 1 && per_room_channel(opts.rooms[0]) &&
                         link_->options().subscription != subscription_mode::static_;
    if (to_room) room_channel = channels_.main + opts.rooms[0] + "#";
    publish(cluster_type::broadcast, std::move(data), p.attachments,
            to_room ? &room_channel : nullptr);
  }
  broadcast_local(p, opts);
}

void sharded_adapter::broadcast_with_ack(socketio::packet p,
                                         const socketio::broadcast_options& opts,
                                         std::function<void(std::size_t)> on_client_count,
                                         std::function<void(socketio::payload)> on_ack) {
  if (!opts.flags.local) {
    const auto id = random_hex_id();
    await_acks(id, opts.flags.timeout.value_or(std::chrono::milliseconds(5000)), on_client_count,
               on_ack);
    json::object data{{"packet", encode_event(p, nullptr)},
                      {"requestId", id},
                      {"opts", encode_opts(opts, opts_layout::adapter)}};
    publish(cluster_type::broadcast, std::move(data), p.attachments);
  }
  broadcast_with_ack_local(p, opts, std::move(on_client_count), std::move(on_ack));
}

// -- Incoming ---------------------------------------------------------------------------------

void sharded_adapter::on_message(std::string_view, std::string_view, std::string_view payload) {
  link_->count_message();
  auto m = decode_cluster(payload);
  if (!m) return link_->count_malformed();
  if (m->uid == uid_ || m->nsp != nsp().name()) return;
  on_cluster_message(std::move(*m));
}

void sharded_adapter::on_cluster_message(cluster_message m) {
  const auto& d = m.data;
  const auto request_id = string_member(d, "requestId");
  auto opts = decode_opts(d.if_contains("opts"));
  switch (m.type) {
    case cluster_type::broadcast: {
      const auto* packet_value = d.if_contains("packet");
      if (!packet_value) return link_->count_malformed();
      auto p = decode_event(*packet_value, m.attachments, nsp().name());
      if (!p) return link_->count_malformed();
      p->nsp = nsp().name();
      opts.flags.local = true;  // never published again
      if (!d.contains("requestId")) return broadcast_local(*p, opts);
      p->id = nsp().next_ack_id();
      std::weak_ptr<adapter_link_state> link = link_;
      const auto channel = channels_.main + m.uid + "#";
      const auto uid = uid_;
      const auto nsp_name = nsp().name();
      broadcast_with_ack_local(
          *p, opts,
          [link, channel, request_id, uid, nsp_name](std::size_t n) {
            if (auto l = link.lock()) {
              l->publish(channel,
                         encode_cluster(cluster_type::broadcast_client_count,
                                        json::object{{"requestId", request_id}, {"clientCount", n}},
                                        uid, nsp_name));
            }
          },
          [link, channel, request_id, uid, nsp_name](socketio::payload answer) {
            auto l = link.lock();
            if (!l) return;
            json::object data{{"requestId", request_id}};
            if (auto v = first_arg(answer)) data["packet"] = std::move(*v);
            l->publish(channel, encode_cluster(cluster_type::broadcast_ack, std::move(data), uid,
                                               nsp_name, answer.attachments));
          });
      return;
    }
    case cluster_type::fetch_sockets: {
      const auto requester = m.uid;
      fetch_sockets_local(
          opts, [this, requester, request_id](std::vector<socketio::socket_info> found) {
            json::array sockets;
            for (const auto& s : found)
              sockets.push_back(encode_socket(s));
            respond(requester, cluster_type::fetch_sockets_response,
                    json::object{{"requestId", request_id}, {"sockets", std::move(sockets)}});
          });
      return;
    }
    case cluster_type::server_side_emit: {
      const auto* packet = d.if_contains("packet");
      if (!packet || !packet->is_array()) return link_->count_malformed();
      socketio::payload args(packet->get_array(), m.attachments);
      if (!d.contains("requestId")) return deliver_server_side_emit(std::move(args), {});
      auto answered = std::make_shared<std::atomic<bool>>(false);
      std::weak_ptr<adapter_link_state> link = link_;
      const auto channel = channels_.main + m.uid + "#";
      const auto uid = uid_;
      const auto nsp_name = nsp().name();
      deliver_server_side_emit(std::move(args), [answered, link, channel, request_id, uid,
                                                 nsp_name](socketio::payload answer) {
        if (answered->exchange(true)) return;
        auto l = link.lock();
        if (!l) return;
        json::object data{{"requestId", request_id}};
        if (auto v = first_arg(answer)) data["packet"] = std::move(*v);
        l->publish(channel, encode_cluster(cluster_type::server_side_emit_response, std::move(data),
                                           uid, nsp_name, answer.attachments));
      });
      return;
    }
    default:
      // Changes to sockets and answers to this server's requests; anything else (heartbeats,
      // ADAPTER_CLOSE) means nothing to this adapter.
      if (!on_change(m.type, opts, d)) on_answer(m.type, request_id, d, m.attachments);
      return;
  }
}

}  // namespace ignis::redis::detail
