#include "socketio/client.hpp"

#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/post.hpp>

#include <mutex>

namespace ignis::socketio {
namespace asio = boost::asio;

namespace {

// Runs fn(shard_index) on every shard: inline for the calling shard (so a handler's emits keep
// their order on its own sockets, as in Node), posted to the others.
void on_every_shard(net::runtime& rt, const std::function<void(unsigned)>& fn) {
  net::shard* current = net::current_shard();
  for (std::size_t i = 0; i < rt.size(); ++i) {
    auto& sh = rt.at(i);
    if (&sh == current) continue;
    asio::post(sh.executor(), [fn, i] { fn(static_cast<unsigned>(i)); });
  }
  if (current) fn(current->index());
}

// Gathers one result per shard, then calls `done` once.
template <class T>
struct shard_gather {
  std::mutex mutex;
  std::size_t remaining;
  std::vector<T> items;
  std::function<void(std::vector<T>)> done;
  void add(std::vector<T> part) {
    std::unique_lock lock(mutex);
    for (auto& item : part)
      items.push_back(std::move(item));
    if (--remaining != 0) return;
    auto all = std::move(items);
    lock.unlock();
    done(std::move(all));
  }
};

}  // namespace

void adapter::broadcast(packet p, const broadcast_options& opts) {
  broadcast_local(p, opts);
}

void adapter::broadcast_local(const packet& p, const broadcast_options& opts) {
  // Encoded and framed once; every recipient on every shard gets the same buffers.
  auto messages = std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
  auto shared_opts = std::make_shared<const broadcast_options>(opts);
  auto* nsp = &nsp_;
  on_every_shard(nsp_.srv().runtime(), [nsp, messages, shared_opts](unsigned shard) {
    const bool droppable = shared_opts->flags.volatile_;
    nsp->for_each_local(
        shard, *shared_opts, [&](socket& s) { s.send_encoded(*messages, droppable); }, true);
  });
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
  auto counts = std::make_shared<shard_gather<std::size_t>>();
  counts->remaining = nsp_.srv().runtime().size();
  counts->done = [on_client_count](std::vector<std::size_t> per_shard) {
    std::size_t total = 0;
    for (auto n : per_shard)
      total += n;
    on_client_count(total);
  };
  auto* nsp = &nsp_;
  on_every_shard(
      nsp_.srv().runtime(), [nsp, messages, shared_opts, id, counts, on_ack](unsigned shard) {
        std::size_t n = 0;
        nsp->for_each_local(
            shard, *shared_opts,
            [&](socket& s) {
              s.add_pending_ack(id, [on_ack](payload answer) { on_ack(std::move(answer)); });
              s.send_encoded(*messages, shared_opts->flags.volatile_);
              ++n;
            },
            true);
        counts->add({n});
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
  on_every_shard(nsp_.srv().runtime(), [nsp, opts, rooms](unsigned shard) {
    nsp->for_each_local(shard, opts, [&](socket& s) { s.join(rooms); });
  });
}

void adapter::del_sockets_local(const broadcast_options& opts, std::vector<std::string> rooms) {
  auto* nsp = &nsp_;
  on_every_shard(nsp_.srv().runtime(), [nsp, opts, rooms](unsigned shard) {
    nsp->for_each_local(shard, opts, [&](socket& s) {
      for (const auto& r : rooms)
        s.leave(r);
    });
  });
}

void adapter::disconnect_sockets_local(const broadcast_options& opts, bool close) {
  auto* nsp = &nsp_;
  on_every_shard(nsp_.srv().runtime(), [nsp, opts, close](unsigned shard) {
    nsp->for_each_local(shard, opts, [&](socket& s) { s.disconnect(close); });
  });
}

void adapter::fetch_sockets_local(const broadcast_options& opts,
                                  std::function<void(std::vector<socket_info>)> done) {
  auto gather = std::make_shared<shard_gather<socket_info>>();
  gather->remaining = nsp_.srv().runtime().size();
  gather->done = std::move(done);
  auto* nsp = &nsp_;
  on_every_shard(nsp_.srv().runtime(), [nsp, opts, gather](unsigned shard) {
    std::vector<socket_info> found;
    nsp->for_each_local(shard, opts, [&](socket& s) { found.push_back(s.info()); });
    gather->add(std::move(found));
  });
}

void adapter::server_side_emit(payload,
                               std::function<void(error_code, std::vector<payload>)> on_replies) {
  if (on_replies) on_replies({}, {});
}

void adapter::server_count(std::function<void(std::size_t)> done) {
  done(1);
}

void adapter::room_created(unsigned, const std::string&) {}
void adapter::room_deleted(unsigned, const std::string&) {}

}  // namespace ignis::socketio
