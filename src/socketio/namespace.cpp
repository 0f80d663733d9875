#include "common/block_pool.hpp"
#include "socketio/client.hpp"
#include "socketio/event_packet.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/recovery_store.hpp"

#include <ignis/net/shards.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <unordered_set>

namespace ignis::socketio {

namespace_::namespace_(server& srv, std::string name) : server_(srv), name_(std::move(name)) {
  for (std::size_t i = 0; i < srv.runtime().size(); ++i)
    shards_.push_back(std::make_unique<shard_state>());
  if (const auto& r = srv.options().recovery; r.enabled()) {
    recovery_ = std::make_unique<detail::recovery_store>(
        detail::recovery_store::limits{r.max_disconnection_duration, r.max_bytes},
        srv.runtime().size());
  }
  adapter_ = srv.make_adapter(*this);
}

namespace_::~namespace_() = default;

void namespace_::use(middleware m) {
  middlewares_.push_back(std::move(m));
}

void namespace_::server_side_emit(
    std::string_view event, payload args,
    std::function<void(error_code, std::vector<payload>)> on_replies) {
  auto p = event_packet(name_, event, std::move(args));  // checks the name like emit
  payload data;
  data.args = std::move(p.data->get_array());
  data.attachments = std::move(p.attachments);
  adapter_->server_side_emit(std::move(data), std::move(on_replies));
}
void namespace_::on_server_side_emit(std::string event, server_event_handler h) {
  std::lock_guard lock(server_events_mutex_);
  server_event_handlers_.emplace_back(std::move(event), std::move(h));
}

void namespace_::receive_server_side_emit(payload args, std::function<void(payload)> ack) {
  if (args.args.empty() || !args.args[0].is_string()) return;
  const std::string event(args.args[0].get_string());
  args.args.erase(args.args.begin());
  std::vector<server_event_handler> matching;
  {
    std::lock_guard lock(server_events_mutex_);
    for (const auto& [name, h] : server_event_handlers_) {
      if (name == event) matching.push_back(h);
    }
  }
  // Like Node's listeners: each gets the arguments; the first ack call answers.
  for (const auto& h : matching) {
    payload copy = args;
    h(copy, ack);
  }
}

void namespace_::for_each_local_socket(std::function<void(const socket_ptr&)> fn,
                                       std::function<void()> done) {
  net::for_each_shard(
      server_.runtime(),
      [this, fn = std::move(fn)](net::shard& sh) {
        // Collected first: fn may change the table (a socket disconnected).
        for (const auto& s : local(sh.index()).sockets.snapshot())
          fn(s);
      },
      std::move(done));
}

void namespace_::with_local_socket(std::string id, std::function<void(const socket_ptr&)> fn) {
  // Usually on the shard its id names; a socket restored by connection state recovery may live
  // on another one, so every shard is asked.
  auto shared_id = std::make_shared<const std::string>(std::move(id));
  net::gather_from_shards<socket_ptr>(
      server_.runtime(),
      [this, shared_id](net::shard& shard) {
        std::vector<socket_ptr> found;
        const auto* s = local(shard.index()).sockets.find(*shared_id);
        if (s && (*s)->connected()) found.push_back((*s)->shared_from_this());
        return found;
      },
      [this, fn = std::move(fn)](std::vector<socket_ptr> found) {
        auto& where = found.empty() ? server_.runtime().at(0) : found.front()->home();
        boost::asio::dispatch(where.executor(), [fn, found = std::move(found)] {
          fn(found.empty() || !found.front()->connected() ? nullptr : found.front());
        });
      });
}

std::optional<namespace_::recovery_stats> namespace_::recovery_state() const {
  if (!recovery_) return std::nullopt;
  const auto c = recovery_->stats();
  return recovery_stats{c.packets, c.bytes, c.sessions, c.evicted, c.restored, c.missed};
}

namespace_::room_stats namespace_::stats() const noexcept {
  room_stats out;
  for (const auto& sh : shards_) {
    out.joins += sh->joins.get();
    out.rooms += sh->room_count.get();
    out.sockets += sh->socket_count.get();
  }
  return out;
}

void namespace_::on_connection(connection_handler h) {
  connection_handlers_.push_back(std::move(h));
}

void namespace_::on_event(std::string event, event_handler h) {
  for (auto& [name, existing] : event_handlers_) {
    if (name == event) {
      existing = std::move(h);
      return;
    }
  }
  event_handlers_.emplace_back(std::move(event), std::move(h));
}

void namespace_::on_socket_disconnect(disconnect_handler h) {
  disconnect_handlers_.push_back(std::move(h));
}

void namespace_::copy_handlers_from(const namespace_& parent) {
  middlewares_ = parent.middlewares_;
  connection_handlers_ = parent.connection_handlers_;
  event_handlers_ = parent.event_handlers_;
  disconnect_handlers_ = parent.disconnect_handlers_;
}

socket_ptr namespace_::make_socket(const std::shared_ptr<client>& owner,
                                   std::shared_ptr<const handshake_info> handshake, inline_id id) {
  auto s = ignis::detail::make_pooled<socket>(*this, *owner, id, std::move(handshake));
  if (recovery_) {
    s->pid_ = std::make_unique<const inline_id>(server_.new_socket_id(owner->home().index()));
  }
  return s;
}

void namespace_::add(std::shared_ptr<client> owner, boost::json::object auth,
                     std::function<void(socket_ptr)> on_connected) {
  std::optional<detail::recovery_session> session;
  std::string offset;
  if (recovery_) {
    // socket.io-client sends {pid, offset, ...auth} after a connection it had recovery on; both
    // must be strings (Node's rule). The auth keeps them, as Node's handshake.auth does.
    const auto* pid = auth.if_contains("pid");
    const auto* off = auth.if_contains("offset");
    if (pid && pid->is_string() && off && off->is_string()) {
      offset = std::string(off->get_string());
      if (adapter_->shares_sessions()) {
        add_shared(std::move(owner), std::move(auth), std::string(pid->get_string()),
                   std::move(offset), std::move(on_connected));
        return;
      }
      session =
          recovery_->take_session(std::string(pid->get_string()), offset, owner->home().now());
    }
  }
  auto handshake = owner->make_handshake(std::move(auth));
  if (session) {
    restore(owner, std::move(handshake), std::move(*session), std::move(offset),
            std::move(on_connected));
    return;
  }
  auto s = make_socket(owner, std::move(handshake), server_.new_socket_id(owner->home().index()));
  run_middlewares(s, 0,
                  [this, s, on_connected = std::move(on_connected)] { accept(s, on_connected); });
}

void namespace_::add_shared(std::shared_ptr<client> owner, boost::json::object auth,
                            std::string pid, std::string offset,
                            std::function<void(socket_ptr)> on_connected) {
  auto ex = owner->home().executor();
  auto resume = [this, owner = std::move(owner), auth = std::move(auth),
                 on_connected =
                     std::move(on_connected)](std::optional<shared_restore> found) mutable {
    if (!owner->is_open()) return;
    auto handshake = owner->make_handshake(std::move(auth));
    if (found) {
      detail::recovery_session session;
      static_cast<session_state&>(session) = std::move(found->session);
      auto shared = std::make_shared<const shared_restore>(std::move(*found));
      auto resume_at = shared->resume.offset;
      restore(owner, std::move(handshake), std::move(session), std::move(resume_at),
              std::move(on_connected), std::move(shared));
      return;
    }
    auto s = make_socket(owner, std::move(handshake), server_.new_socket_id(owner->home().index()));
    run_middlewares(s, 0,
                    [this, s, on_connected = std::move(on_connected)] { accept(s, on_connected); });
  };
  adapter_->restore_session(
      std::move(pid), std::move(offset), recovery_->floor(),
      [ex, resume = std::move(resume)](std::optional<shared_restore> found) mutable {
        // Back on the client's shard, where its sockets live.
        boost::asio::dispatch(ex, [resume = std::move(resume), found = std::move(found)]() mutable {
          resume(std::move(found));
        });
      });
}

void namespace_::restore(const std::shared_ptr<client>& owner,
                         std::shared_ptr<const handshake_info> handshake,
                         detail::recovery_session session, std::string offset,
                         std::function<void(socket_ptr)> on_connected,
                         std::shared_ptr<const shared_restore> shared) {
  if (!inline_id::fits(session.sid) || !inline_id::fits(session.pid)) {
    // Ids no server makes (another server's store said so): nothing to restore.
    auto fresh =
        make_socket(owner, std::move(handshake), server_.new_socket_id(owner->home().index()));
    run_middlewares(fresh, 0, [this, fresh, on_connected = std::move(on_connected)] {
      accept(fresh, on_connected);
    });
    return;
  }
  auto s = ignis::detail::make_pooled<socket>(*this, *owner, inline_id(session.sid), handshake);
  s->pid_ = std::make_unique<const inline_id>(session.pid);
  auto shared_session = std::make_shared<const detail::recovery_session>(std::move(session));
  auto proceed = [this, s, owner, handshake, shared_session, offset = std::move(offset),
                  on_connected = std::move(on_connected), shared](bool allowed) mutable {
    if (!owner->is_open()) return;
    if (!allowed) {
      // Nothing is restored: a new socket, as if no recovery had been asked for.
      auto fresh =
          make_socket(owner, std::move(handshake), server_.new_socket_id(owner->home().index()));
      run_middlewares(fresh, 0, [this, fresh, on_connected = std::move(on_connected)] {
        accept(fresh, on_connected);
      });
      return;
    }
    if (server_.options().recovery.skip_middlewares) {
      finish_restore(s, *shared_session, offset, std::move(on_connected), shared);
      return;
    }
    // Unlike Node, nothing missed goes out before the middlewares let the socket in.
    run_middlewares(
        s, 0, [this, s, shared_session, offset, on_connected = std::move(on_connected), shared] {
          finish_restore(s, *shared_session, offset, on_connected, shared);
        });
  };
  auto& authorize = server_.options().recovery.authorize;
  if (!authorize) {
    proceed(true);
    return;
  }
  authorize(*s, [proceed = std::move(proceed), ex = s->home().executor()](bool allowed) mutable {
    boost::asio::dispatch(ex,
                          [proceed = std::move(proceed), allowed]() mutable { proceed(allowed); });
  });
}

void namespace_::finish_restore(const socket_ptr& s, const detail::recovery_session& session,
                                const std::string& offset,
                                std::function<void(socket_ptr)> on_connected,
                                const std::shared_ptr<const shared_restore>& shared) {
  // In one step: what is queued for this shard goes to the sockets already here, the packets
  // after the offset to this one; what is stamped from now on reaches it through the queue, as
  // it is in the tables (and its rooms) before this handler returns.
  const auto shard = s->home().index();
  std::deque<detail::recoverable_delivery> queued;
  auto missed = shared ? recovery_->packets_after(shared->resume, session.rooms, shard, queued)
                       : recovery_->packets_after(offset, session.rooms, shard, queued);
  deliver_queued(shard, queued);
  if (!missed) {
    // The offset was pushed out meanwhile: no partial replay, a new socket.
    auto fresh = make_socket(s->client_->self(), s->client_->copy_handshake(s->handshake()),
                             server_.new_socket_id(shard));
    accept(fresh, on_connected);
    return;
  }
  s->recovered_ = true;
  s->data = session.data;
  // Node's order: what was missed, then the CONNECT answer. What the shared store had comes
  // first: it is older than anything this server's store holds after shared->resume.
  if (shared) {
    for (const auto& p : shared->missed)
      s->client_->send_encoded(to_messages(p), false);
  }
  for (const auto& m : *missed)
    s->client_->send_encoded(*m, false);
  accept(s, [rooms = session.rooms, on_connected = std::move(on_connected)](socket_ptr restored) {
    for (const auto& r : rooms) {
      if (r != restored->id()) restored->join(r);
    }
    on_connected(std::move(restored));
  });
}

bool namespace_::deliver_recoverable(packet& p, const broadcast_options& opts,
                                     const log_position* at) {
  if (!recovery_ || p.type != packet_type::event || p.id || opts.flags.volatile_) return false;
  // With a shared log, only what went through it has an offset (as Node's cluster adapters:
  // a local-only broadcast has none).
  if (adapter_->shares_sessions() && !at) return false;
  auto& rt = server_.runtime();
  const bool observed = server_.observing() != nullptr;
  const auto to_drain = at ? recovery_->stamp(p, opts, rt.at(0).now(), *at, observed)
                           : recovery_->stamp(p, opts, rt.at(0).now(), observed);
  // The calling shard delivers at once (what a handler emits keeps its order); the others drain
  // their queue on their own thread.
  net::shard* here = nullptr;
  for (std::size_t i = 0; i < rt.size(); ++i) {
    if (rt.at(i).is_current()) here = &rt.at(i);
  }
  for (const auto shard : to_drain) {
    if (here && shard == here->index()) continue;
    boost::asio::post(rt.at(shard).executor(), [this, shard] { drain_recoverable(shard); });
  }
  if (here) drain_recoverable(here->index());
  return true;
}

void namespace_::drain_recoverable(unsigned shard) {
  deliver_queued(shard, recovery_->take_pending(shard));
}

void namespace_::deliver_queued(unsigned shard,
                                const std::deque<detail::recoverable_delivery>& queued) {
  auto* o = server_.observing();
  std::vector<socket*> recipients;
  for (const auto& d : queued) {
    for_each_local(
        shard, *d.opts,
        [&](socket& s) {
          s.send_encoded(*d.messages, false);
          if (o && d.observed) recipients.push_back(&s);
        },
        true);
    if (!recipients.empty()) {
      o->on_events_sent(*this, *d.observed, recipients);
      recipients.clear();
    }
  }
}

void namespace_::run_middlewares(const socket_ptr& s, std::size_t index,
                                 std::function<void()> passed) {
  if (index < middlewares_.size()) {
    auto next = [this, s, index, passed](std::optional<connect_error> err) mutable {
      auto resume = [this, s, index, passed = std::move(passed), err = std::move(err)]() mutable {
        if (err) {
          boost::json::object body{{"message", err->message}};
          if (err->data) body["data"] = *err->data;
          s->send_packet(packet{packet_type::connect_error,
                                name_,
                                std::nullopt,
                                boost::json::value(std::move(body)),
                                {}});
          return;
        }
        run_middlewares(s, index + 1, std::move(passed));
      };
      // An asynchronous middleware may answer from any thread; the socket's shard continues.
      boost::asio::dispatch(s->home().executor(), std::move(resume));
    };
    middlewares_[index](*s, std::move(next));
    return;
  }
  passed();
}

void namespace_::accept(const socket_ptr& s, const std::function<void(socket_ptr)>& on_connected) {
  // The connection may have closed while a middleware (or a shared store) was answering: then
  // nothing is admitted (the client, kept by the socket's handshake, is closed).
  if (!s->client_ || !s->client_->is_open()) return;
  auto shard_index = s->home().index();
  auto& st = local(shard_index);
  if (st.sockets.insert(s.get())) st.socket_count.add();
  s->on_connect_accepted();
  if (!s->connected()) return;
  if (auto* o = server_.observing()) {
    o->on_join(*s, s->id());
    o->on_connect(*s);
  }
  on_connected(s);
  for (const auto& h : connection_handlers_) {
    if (!s->connected()) break;
    h(s);
  }
}

void namespace_::remove(socket& s) {
  auto& st = local(s.home().index());
  if (st.sockets.erase(s)) st.socket_count.sub();
}

void namespace_::room_added(socket& s, const std::string& room) {
  if (room == s.id()) return;  // the socket's own room is implicit
  const auto shard = s.home().index();
  auto& st = local(shard);
  auto [it, created] = st.rooms.try_emplace(room);
  it->second.push_back(&s);
  st.joins.add();
  if (created) {
    st.room_count.add();
    if (adapter_) adapter_->room_created(shard, room);
  }
}

void namespace_::room_removed(socket& s, std::string_view room) {
  auto& st = local(s.home().index());
  auto& rooms = st.rooms;
  const auto it = rooms.find(room);
  if (it == rooms.end()) return;
  auto& members = it->second;
  for (auto m = members.begin(); m != members.end(); ++m) {
    if (*m == &s) {
      *m = members.back();  // order inside a room is not observable
      members.pop_back();
      break;
    }
  }
  if (members.empty()) {
    const std::string name = it->first;
    rooms.erase(it);
    st.room_count.sub();
    if (adapter_) adapter_->room_deleted(s.home().index(), name);
  }
}

void namespace_::for_each_local(unsigned shard_index, const broadcast_options& opts,
                                const std::function<void(socket&)>& fn, bool delivery) {
  auto& st = local(shard_index);
  // A muted socket gets only what is addressed to its own id.
  auto muted = [&](const socket& s) { return delivery && s.broadcasts_muted(); };
  auto excluded = [&](const socket& s) {
    for (const auto& r : opts.except) {
      if (s.in_room(r)) return true;
    }
    return false;
  };
  // Collect first: fn may change the tables (a socket disconnected, a room joined).
  std::vector<socket_ptr> targets;
  if (opts.rooms.empty()) {
    targets.reserve(st.sockets.size());
    st.sockets.for_each([&](socket* s) {
      if (s->connected() && !muted(*s) && !excluded(*s)) targets.push_back(s->shared_from_this());
    });
  } else {
    std::unordered_set<const socket*> seen;
    auto consider = [&](socket& s, bool by_id) {
      if (!s.connected() || (!by_id && muted(s)) || excluded(s)) return;
      if (opts.rooms.size() > 1 && !seen.insert(&s).second) return;
      targets.push_back(s.shared_from_this());
    };
    for (const auto& room : opts.rooms) {
      if (const auto* s = st.sockets.find(room)) consider(**s, true);
      if (auto it = st.rooms.find(room); it != st.rooms.end()) {
        for (socket* member : it->second)
          consider(*member, false);
      }
    }
  }
  for (const auto& s : targets)
    fn(*s);
}

}  // namespace ignis::socketio
