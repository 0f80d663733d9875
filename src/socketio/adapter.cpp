#include "socketio/client.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/recovery_store.hpp"

#include <ignis/net/shards.hpp>
#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/server.hpp>

namespace ignis::socketio {
namespace asio = boost::asio;

void adapter::broadcast(packet p, const broadcast_options& opts) {
  broadcast_local(p, opts);
}

void adapter::persist_session(const session_state&, std::chrono::milliseconds) {}
void adapter::session_changed(const session_state&) {}
void adapter::session_ended(const std::string&) {}

void adapter::restore_session(std::string, std::string, std::optional<log_position>,
                              std::function<void(std::optional<shared_restore>)> done) {
  done(std::nullopt);
}

void adapter::set_log_floor(const log_position& p) {
  if (auto* store = nsp_.recovery()) store->set_floor(p);
}

void adapter::broadcast_local_at(const packet& p, const broadcast_options& opts,
                                 const log_position& at) {
  if (nsp_.recovery()) {
    packet stamped = p;
    if (nsp_.deliver_recoverable(stamped, opts, &at)) return;
  }
  broadcast_local_plain(p, opts);
}

void adapter::broadcast_local(const packet& p, const broadcast_options& opts) {
  if (nsp_.recovery()) {
    // A recoverable packet gets its offset, is kept and delivered in offset order.
    packet stamped = p;
    if (nsp_.deliver_recoverable(stamped, opts, nullptr)) return;
  }
  broadcast_local_plain(p, opts);
}

void adapter::broadcast_local_plain(const packet& p, const broadcast_options& opts) {
  // Encoded and framed once; every recipient on every shard gets the same buffers.
  auto messages = std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
  auto shared_opts = std::make_shared<const broadcast_options>(opts);
  auto* nsp = &nsp_;
  if (auto* o = nsp_.srv().observing()) {
    // Observed: the observer learns who got it, per shard.
    auto observed = std::make_shared<const packet>(p);
    net::for_each_shard(nsp_.srv().runtime(),
                        [nsp, messages, shared_opts, observed, o](net::shard& shard) {
                          std::vector<socket*> recipients;
                          nsp->for_each_local(
                              shard.index(), *shared_opts,
                              [&](socket& s) {
                                s.send_encoded(*messages, shared_opts->flags.volatile_);
                                recipients.push_back(&s);
                              },
                              true);
                          if (!recipients.empty()) o->on_events_sent(*nsp, *observed, recipients);
                        });
    return;
  }
  auto deliver = [nsp, messages, shared_opts](net::shard& shard) {
    const bool droppable = shared_opts->flags.volatile_;
    nsp->for_each_local(
        shard.index(), *shared_opts, [&](socket& s) { s.send_encoded(*messages, droppable); },
        true);
  };
  net::for_each_shard(nsp_.srv().runtime(), deliver);
}

void adapter::broadcast_with_ack(packet p, const broadcast_options& opts,
                                 std::function<void(std::size_t)> on_client_count,
                                 std::function<void(payload)> on_ack) {
  broadcast_with_ack_local(p, opts, std::move(on_client_count), std::move(on_ack));
}

void adapter::broadcast_with_ack_local(const packet& p, const broadcast_options& opts,
                                       std::function<void(std::size_t)> on_client_count,
                                       std::function<void(payload)> on_ack) {
  auto messages = std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
  auto shared_opts = std::make_shared<const broadcast_options>(opts);
  const auto id = *p.id;
  auto* nsp = &nsp_;
  auto* o = nsp_.srv().observing();
  auto observed = o ? std::make_shared<const packet>(p) : nullptr;
  net::gather_from_shards<std::size_t>(
      nsp_.srv().runtime(),
      [nsp, messages, shared_opts, id, on_ack, o, observed](net::shard& shard) {
        std::size_t n = 0;
        std::vector<socket*> recipients;  // observed only
        nsp->for_each_local(
            shard.index(), *shared_opts,
            [&](socket& s) {
              s.add_pending_ack(id, [on_ack](payload answer) { on_ack(std::move(answer)); });
              s.send_encoded(*messages, shared_opts->flags.volatile_);
              ++n;
              if (o) recipients.push_back(&s);
            },
            true);
        if (!recipients.empty()) o->on_events_sent(*nsp, *observed, recipients);
        return std::vector<std::size_t>{n};
      },
      [on_client_count](std::vector<std::size_t> per_shard) {
        std::size_t total = 0;
        for (auto n : per_shard)
          total += n;
        on_client_count(total);
      });
}

void adapter::add_sockets(const broadcast_options& opts, std::vector<std::string> rooms) {
  add_sockets_local(opts, std::move(rooms));
}
void adapter::del_sockets(const broadcast_options& opts, std::vector<std::string> rooms) {
  del_sockets_local(opts, std::move(rooms));
}
void adapter::disconnect_sockets(const broadcast_options& opts, bool close) {
  disconnect_sockets_local(opts, close);
}
void adapter::fetch_sockets(const broadcast_options& opts,
                            std::function<void(std::vector<socket_info>)> done) {
  fetch_sockets_local(opts, std::move(done));
}

void adapter::add_sockets_local(const broadcast_options& opts, std::vector<std::string> rooms) {
  auto* nsp = &nsp_;
  net::for_each_shard(nsp_.srv().runtime(), [nsp, opts, rooms](net::shard& shard) {
    nsp->for_each_local(shard.index(), opts, [&](socket& s) { s.join(rooms); });
  });
}

void adapter::del_sockets_local(const broadcast_options& opts, std::vector<std::string> rooms) {
  auto* nsp = &nsp_;
  net::for_each_shard(nsp_.srv().runtime(), [nsp, opts, rooms](net::shard& shard) {
    nsp->for_each_local(shard.index(), opts, [&](socket& s) {
      for (const auto& r : rooms)
        s.leave(r);
    });
  });
}

void adapter::disconnect_sockets_local(const broadcast_options& opts, bool close) {
  auto* nsp = &nsp_;
  net::for_each_shard(nsp_.srv().runtime(), [nsp, opts, close](net::shard& shard) {
    nsp->for_each_local(shard.index(), opts, [&](socket& s) { s.disconnect(close); });
  });
}

void adapter::fetch_sockets_local(const broadcast_options& opts,
                                  std::function<void(std::vector<socket_info>)> done) {
  auto* nsp = &nsp_;
  net::gather_from_shards<socket_info>(
      nsp_.srv().runtime(),
      [nsp, opts](net::shard& shard) {
        std::vector<socket_info> found;
        nsp->for_each_local(shard.index(), opts, [&](socket& s) { found.push_back(s.info()); });
        return found;
      },
      std::move(done));
}

void adapter::server_side_emit(payload,
                               std::function<void(error_code, std::vector<payload>)> on_replies) {
  if (on_replies) on_replies({}, {});
}

void adapter::server_count(std::function<void(std::size_t)> done) {
  done(1);
}

void adapter::deliver_server_side_emit(payload args, std::function<void(payload)> ack) {
  nsp_.receive_server_side_emit(std::move(args), std::move(ack));
}

void adapter::room_created(unsigned, const std::string&) {}
void adapter::room_deleted(unsigned, const std::string&) {}

}  // namespace ignis::socketio
