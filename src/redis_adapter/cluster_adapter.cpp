#include "redis_adapter/cluster_adapter.hpp"

#include "redis_adapter/random_id.hpp"

namespace ignis::redis::detail {

namespace json = boost::json;

cluster_adapter::cluster_adapter(socketio::namespace_& nsp,
                                 std::shared_ptr<adapter_link_state> link)
    : remote_adapter(nsp, std::move(link), random_hex_id()),
      channels_(make_sharded_channels(link_->options().key, nsp.name(), uid_)) {}

void cluster_adapter::add_sockets(const socketio::broadcast_options& opts,
                                  std::vector<std::string> rooms) {
  if (!opts.flags.local) {
    send_change(cluster_type::sockets_join,
                json::object{{"opts", encode_opts(opts, opts_layout::adapter)},
                             {"rooms", to_array(rooms)}});
  }
  add_sockets_local(opts, std::move(rooms));
}

void cluster_adapter::del_sockets(const socketio::broadcast_options& opts,
                                  std::vector<std::string> rooms) {
  if (!opts.flags.local) {
    send_change(cluster_type::sockets_leave,
                json::object{{"opts", encode_opts(opts, opts_layout::adapter)},
                             {"rooms", to_array(rooms)}});
  }
  del_sockets_local(opts, std::move(rooms));
}

void cluster_adapter::disconnect_sockets(const socketio::broadcast_options& opts, bool close) {
  if (!opts.flags.local) {
    send_change(cluster_type::disconnect_sockets,
                json::object{{"opts", encode_opts(opts, opts_layout::adapter)}, {"close", close}});
  }
  disconnect_sockets_local(opts, close);
}

void cluster_adapter::fetch_sockets(const socketio::broadcast_options& opts, sockets_done done) {
  fetch_sockets_local(
      opts, [this, opts, done = std::move(done)](std::vector<socketio::socket_info> local) mutable {
        if (opts.flags.local) return done(std::move(local));
        server_count([this, opts, done = std::move(done),
                      local = std::move(local)](std::size_t servers) mutable {
          if (servers <= 1) return done(std::move(local));
          const auto id = random_hex_id();
          await_sockets(id, servers - 1, std::move(local), std::move(done));
          send_request(
              cluster_type::fetch_sockets,
              json::object{{"opts", encode_opts(opts, opts_layout::adapter)}, {"requestId", id}});
        });
      });
}

void cluster_adapter::server_side_emit(socketio::payload args, replies_done on_replies) {
  if (!on_replies) {
    send_request(cluster_type::server_side_emit, json::object{{"packet", args.args}},
                 args.attachments);
    return;
  }
  server_count([this, args = std::move(args),
                on_replies = std::move(on_replies)](std::size_t servers) mutable {
    if (servers <= 1) return on_replies({}, {});
    const auto id = random_hex_id();
    await_replies(id, servers - 1, std::move(on_replies));
    send_request(cluster_type::server_side_emit,
                 json::object{{"requestId", id}, {"packet", args.args}}, args.attachments);
  });
}

bool cluster_adapter::on_change(cluster_type type, const socketio::broadcast_options& opts,
                                const json::object& d) {
  switch (type) {
    case cluster_type::sockets_join:
      add_sockets_local(opts, string_list(d, "rooms"));
      return true;
    case cluster_type::sockets_leave:
      del_sockets_local(opts, string_list(d, "rooms"));
      return true;
    case cluster_type::disconnect_sockets: {
      const auto* close = d.if_contains("close");
      disconnect_sockets_local(opts, close && close->is_bool() && close->get_bool());
      return true;
    }
    default:
      return false;
  }
}

bool cluster_adapter::on_answer(cluster_type type, const std::string& request_id,
                                const json::object& d,
                                const std::vector<socketio::attachment>& attachments) {
  switch (type) {
    case cluster_type::fetch_sockets_response: {
      std::vector<socketio::socket_info> found;
      if (const auto* s = d.if_contains("sockets"); s && s->is_array()) {
        for (const auto& v : s->get_array()) {
          if (auto info = decode_socket(v)) found.push_back(std::move(*info));
        }
      }
      on_sockets_answer(request_id, std::move(found));
      return true;
    }
    case cluster_type::server_side_emit_response:
      on_reply(request_id, payload_of(d.if_contains("packet"), attachments));
      return true;
    case cluster_type::broadcast_client_count: {
      const auto n = integer_member(d, "clientCount");
      on_client_count(request_id, n && *n > 0 ? static_cast<std::size_t>(*n) : 0);
      return true;
    }
    case cluster_type::broadcast_ack:
      on_ack(request_id, payload_of(d.if_contains("packet"), attachments));
      return true;
    default:
      return false;
  }
}

void cluster_adapter::server_count(std::function<void(std::size_t)> done) {
  link_->count_subscribers(channels_.main, std::move(done));
}

}  // namespace ignis::redis::detail
