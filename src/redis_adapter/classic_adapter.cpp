#include "redis_adapter/classic_adapter.hpp"

#include "redis_adapter/random_id.hpp"

#include <atomic>

namespace ignis::redis::detail {
namespace json = boost::json;

classic_adapter::classic_adapter(socketio::namespace_& nsp,
                                 std::shared_ptr<adapter_link_state> link)
    : remote_adapter(nsp, std::move(link), uid2()),
      channels_(make_classic_channels(link_->options().key, nsp.name(), uid_)),
      pattern_(channels_.broadcast + "*") {
  link_->add_sink(this);
  auto& sub = link_->sub();
  sub.psubscribe(pattern_);
  sub.subscribe(channels_.request);
  sub.subscribe(channels_.response);
  sub.subscribe(channels_.specific_response);
}

classic_adapter::~classic_adapter() {
  link_->remove_sink(this);
  auto& sub = link_->sub();
  sub.punsubscribe(pattern_);
  sub.unsubscribe(channels_.request);
  sub.unsubscribe(channels_.response);
  sub.unsubscribe(channels_.specific_response);
}

bool classic_adapter::wants(std::string_view pattern, std::string_view channel) const {
  if (!pattern.empty()) return pattern == pattern_;
  return channel == channels_.request || channel == channels_.response ||
         channel == channels_.specific_response;
}

void classic_adapter::on_message(std::string_view pattern, std::string_view channel,
                                 std::string_view payload) {
  link_->count_message();
  if (!pattern.empty()) {
    on_broadcast(payload);
  } else if (channel == channels_.request) {
    on_request(payload);
  } else {
    on_response(payload);
  }
}

// -- Outgoing ---------------------------------------------------------------------------------

void classic_adapter::broadcast(socketio::packet p, const socketio::broadcast_options& opts) {
  if (!opts.flags.local) {
    auto channel = channels_.broadcast;
    if (opts.rooms.size() == 1) channel += opts.rooms[0] + "#";
    link_->publish(std::move(channel),
                   encode_classic_broadcast(uid_, p, opts, opts_layout::adapter));
  }
  broadcast_local(p, opts);
}

void classic_adapter::broadcast_with_ack(socketio::packet p,
                                         const socketio::broadcast_options& opts,
                                         std::function<void(std::size_t)> on_client_count,
                                         std::function<void(socketio::payload)> on_ack) {
  if (!opts.flags.local) {
    const auto id = uid2();
    await_acks(id, opts.flags.timeout.value_or(std::chrono::milliseconds(5000)), on_client_count,
               on_ack);
    json::object request{{"uid", uid_},
                         {"requestId", id},
                         {"type", type_number(request_type::broadcast)},
                         {"packet", encode_event(p, &p.nsp)},
                         {"opts", encode_opts(opts, opts_layout::adapter)}};
    link_->publish(channels_.request, to_msgpack(request, p.attachments));
  }
  broadcast_with_ack_local(p, opts, std::move(on_client_count), std::move(on_ack));
}

void classic_adapter::publish_operation(json::object request,
                                        std::function<void()> local_fallback) {
  if (!link_->publishing_possible()) {
    local_fallback();
    return;
  }
  link_->publish(channels_.request, to_json(request));
}

void classic_adapter::add_sockets(const socketio::broadcast_options& opts,
                                  std::vector<std::string> rooms) {
  if (opts.flags.local) return add_sockets_local(opts, std::move(rooms));
  json::object request{{"uid", uid_},
                       {"type", type_number(request_type::remote_join)},
                       {"opts", encode_opts(opts, opts_layout::without_flags)},
                       {"rooms", to_array(rooms)}};
  publish_operation(std::move(request), [this, opts, rooms] { add_sockets_local(opts, rooms); });
}

void classic_adapter::del_sockets(const socketio::broadcast_options& opts,
                                  std::vector<std::string> rooms) {
  if (opts.flags.local) return del_sockets_local(opts, std::move(rooms));
  json::object request{{"uid", uid_},
                       {"type", type_number(request_type::remote_leave)},
                       {"opts", encode_opts(opts, opts_layout::without_flags)},
                       {"rooms", to_array(rooms)}};
  publish_operation(std::move(request), [this, opts, rooms] { del_sockets_local(opts, rooms); });
}

void classic_adapter::disconnect_sockets(const socketio::broadcast_options& opts, bool close) {
  if (opts.flags.local) return disconnect_sockets_local(opts, close);
  json::object request{{"uid", uid_},
                       {"type", type_number(request_type::remote_disconnect)},
                       {"opts", encode_opts(opts, opts_layout::without_flags)},
                       {"close", close}};
  publish_operation(std::move(request),
                    [this, opts, close] { disconnect_sockets_local(opts, close); });
}

void classic_adapter::fetch_sockets(const socketio::broadcast_options& opts, sockets_done done) {
  fetch_sockets_local(
      opts, [this, opts, done = std::move(done)](std::vector<socketio::socket_info> local) mutable {
        if (opts.flags.local) return done(std::move(local));
        server_count([this, opts, done = std::move(done),
                      local = std::move(local)](std::size_t servers) mutable {
          if (servers <= 1) return done(std::move(local));
          const auto id = uid2();
          // This server counts as the first answer.
          await_sockets(id, servers - 1, std::move(local), std::move(done));
          json::object request{{"uid", uid_},
                               {"requestId", id},
                               {"type", type_number(request_type::remote_fetch)},
                               {"opts", encode_opts(opts, opts_layout::without_flags)}};
          link_->publish(channels_.request, to_json(request));
        });
      });
}

void classic_adapter::server_side_emit(socketio::payload args, replies_done on_replies) {
  if (!on_replies) {
    json::object request{{"uid", uid_},
                         {"type", type_number(request_type::server_side_emit)},
                         {"data", std::move(args.args)}};
    link_->publish(channels_.request, to_json(request));
    return;
  }
  server_count([this, args = std::move(args),
                on_replies = std::move(on_replies)](std::size_t servers) mutable {
    if (servers <= 1) return on_replies({}, {});
    const auto id = uid2();
    await_replies(id, servers - 1, std::move(on_replies));
    json::object request{{"uid", uid_},
                         {"requestId", id},
                         {"type", type_number(request_type::server_side_emit)},
                         {"data", std::move(args.args)}};
    link_->publish(channels_.request, to_json(request));
  });
}

void classic_adapter::server_count(std::function<void(std::size_t)> done) {
  link_->count_subscribers(channels_.request, std::move(done));
}

void classic_adapter::publish_response(const std::string& requester_uid, std::string bytes) {
  auto channel = link_->options().publish_on_specific_response_channel
                     ? channels_.response + requester_uid + "#"
                     : channels_.response;
  link_->publish(std::move(channel), std::move(bytes));
}

// -- Incoming ---------------------------------------------------------------------------------

void classic_adapter::on_broadcast(std::string_view payload) {
  auto b = decode_classic_broadcast(payload);
  if (!b) return link_->count_malformed();
  if (b->uid == uid_ || b->packet.nsp != nsp().name()) return;
  b->opts.flags.local = true;  // never published again
  broadcast_local(b->packet, b->opts);
}

void classic_adapter::on_request(std::string_view payload) {
  auto w = decode_message(payload);
  if (!w || !w->value.is_object()) return link_->count_malformed();
  const auto& r = w->value.get_object();
  const auto type = integer_member(r, "type");
  if (!type) return link_->count_malformed();
  const auto request_id = string_member(r, "requestId");
  const auto requester = string_member(r, "uid");
  const auto* opts_value = r.if_contains("opts");
  auto opts = decode_opts(opts_value);
  opts.flags = {};

  switch (static_cast<request_type>(*type)) {
    case request_type::sockets: {
      if (is_own_request(request_id)) return;
      opts.rooms = string_list(r, "rooms");
      fetch_sockets_local(
          opts, [this, request_id, requester](std::vector<socketio::socket_info> found) {
            json::array ids;
            for (const auto& s : found)
              ids.emplace_back(s.id);
            publish_response(requester,
                             to_json(json::object{{"requestId", request_id}, {"sockets", ids}}));
          });
      return;
    }
    case request_type::all_rooms: {
      if (is_own_request(request_id)) return;
      // Every room with a member here, socket ids included (as Node's rooms map has them).
      fetch_sockets_local(
          {}, [this, request_id, requester](std::vector<socketio::socket_info> found) {
            std::vector<std::string> rooms;
            for (const auto& s : found) {
              for (const auto& room : s.rooms) {
                if (std::find(rooms.begin(), rooms.end(), room) == rooms.end())
                  rooms.push_back(room);
              }
            }
            publish_response(requester, to_json(json::object{{"requestId", request_id},
                                                             {"rooms", to_array(rooms)}}));
          });
      return;
    }
    case request_type::remote_join:
    case request_type::remote_leave:
    case request_type::remote_disconnect: {
      const auto kind = static_cast<request_type>(*type);
      std::vector<std::string> rooms = string_list(r, "rooms");
      const auto* close_value = r.if_contains("close");
      const bool close = close_value && close_value->is_bool() && close_value->get_bool();
      if (!opts_value) {
        // The 7.x form: one socket by id, answered.
        const auto sid = string_member(r, "sid");
        if (sid.empty()) return;
        opts.rooms = {sid};
        rooms = {string_member(r, "room")};
      }
      if (kind == request_type::remote_join) {
        add_sockets_local(opts, rooms);
      } else if (kind == request_type::remote_leave) {
        del_sockets_local(opts, rooms);
      } else {
        disconnect_sockets_local(opts, close);
      }
      if (!opts_value && !request_id.empty())
        publish_response(requester, to_json(json::object{{"requestId", request_id}}));
      return;
    }
    case request_type::remote_fetch: {
      if (is_own_request(request_id)) return;
      fetch_sockets_local(
          opts, [this, request_id, requester](std::vector<socketio::socket_info> found) {
            json::array sockets;
            for (const auto& s : found)
              sockets.push_back(encode_socket(s));
            publish_response(requester, to_json(json::object{{"requestId", request_id},
                                                             {"sockets", std::move(sockets)}}));
          });
      return;
    }
    case request_type::server_side_emit: {
      if (requester == uid_) return;
      const auto* data = r.if_contains("data");
      if (!data || !data->is_array()) return link_->count_malformed();
      socketio::payload args(data->get_array(), w->attachments);
      if (!r.contains("requestId")) return deliver_server_side_emit(std::move(args), {});
      auto answered = std::make_shared<std::atomic<bool>>(false);
      std::weak_ptr<adapter_link_state> link = link_;
      auto channel = channels_.response;  // acks always use the general channel
      deliver_server_side_emit(
          std::move(args), [answered, link, channel, request_id](socketio::payload answer) {
            if (answered->exchange(true)) return;
            auto l = link.lock();
            if (!l) return;
            json::object response{{"type", type_number(request_type::server_side_emit)},
                                  {"requestId", request_id}};
            if (auto v = first_arg(answer)) response["data"] = std::move(*v);
            l->publish(channel, to_json(response));
          });
      return;
    }
    case request_type::broadcast: {
      if (is_own_ack_request(request_id)) return;
      const auto* packet_value = r.if_contains("packet");
      if (!packet_value) return link_->count_malformed();
      auto p = decode_event(*packet_value, w->attachments, nsp().name());
      if (!p || p->nsp != nsp().name()) return;
      p->id = nsp().next_ack_id();
      opts.flags.local = true;
      std::weak_ptr<adapter_link_state> link = link_;
      auto response_channel = link_->options().publish_on_specific_response_channel
                                  ? channels_.response + requester + "#"
                                  : channels_.response;
      broadcast_with_ack_local(
          *p, opts,
          [link, response_channel, request_id](std::size_t n) {
            if (auto l = link.lock()) {
              l->publish(
                  response_channel,
                  to_json(json::object{{"type", type_number(request_type::broadcast_client_count)},
                                       {"requestId", request_id},
                                       {"clientCount", n}}));
            }
          },
          [link, response_channel, request_id](socketio::payload answer) {
            auto l = link.lock();
            if (!l) return;
            json::object response{{"type", type_number(request_type::broadcast_ack)},
                                  {"requestId", request_id}};
            if (auto v = first_arg(answer)) response["packet"] = std::move(*v);
            l->publish(response_channel, to_msgpack(response, answer.attachments));
          });
      return;
    }
    default:
      return;  // unknown types are ignored, as in Node
  }
}

void classic_adapter::on_response(std::string_view payload) {
  auto w = decode_message(payload);
  if (!w || !w->value.is_object()) return link_->count_malformed();
  const auto& r = w->value.get_object();
  const auto request_id = string_member(r, "requestId");
  if (request_id.empty()) return;
  const auto type = integer_member(r, "type");
  if (is_own_ack_request(request_id)) {
    if (type == type_number(request_type::broadcast_client_count)) {
      const auto n = integer_member(r, "clientCount");
      on_client_count(request_id, n && *n > 0 ? static_cast<std::size_t>(*n) : 0);
    } else if (type == type_number(request_type::broadcast_ack)) {
      on_ack(request_id, payload_of(r.if_contains("packet"), w->attachments));
    }
    return;
  }
  if (const auto* sockets = r.if_contains("sockets"); sockets && sockets->is_array()) {
    std::vector<socketio::socket_info> found;
    for (const auto& s : sockets->get_array()) {
      if (auto info = decode_socket(s)) found.push_back(std::move(*info));
    }
    on_sockets_answer(request_id, std::move(found));
    return;
  }
  if (type == type_number(request_type::server_side_emit))
    on_reply(request_id, payload_of(r.if_contains("data"), w->attachments));
}

}  // namespace ignis::redis::detail
