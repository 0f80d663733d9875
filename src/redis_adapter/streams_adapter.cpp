#include "redis_adapter/streams_adapter.hpp"

#include "redis_adapter/random_id.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <unordered_map>

namespace ignis::redis::detail {
namespace json = boost::json;

namespace {

void xadd(adapter_link_state& link, stream_message m, std::function<void(error_code)> done = {}) {
  const auto& o = link.options();
  link.command(
      xadd_command(o.stream_name, o.stream_max_len, m),
      [done = std::move(done)](error_code ec, const reply&) {
        if (done) done(ec);
      },
      true);
}

stream_message message(cluster_type type, std::optional<json::object> data, std::string uid,
                       std::string nsp, std::vector<socketio::attachment> attachments = {}) {
  stream_message m;
  m.type = type;
  m.uid = std::move(uid);
  m.nsp = std::move(nsp);
  m.data = std::move(data);
  m.attachments = std::move(attachments);
  return m;
}

socketio::log_position position_of(const stream_entry& e) {
  return {e.id_text, e.id.ms, e.id.seq};
}

}  // namespace

// Each connected, recoverable socket's session under <prefix><pid>, written by a timer: the
// sockets whose session changed since the last tick (at most max_writes per tick; the rest
// wait), then a slice of the others so that every session is rewritten about once per refresh
// period. A session is written with the TTL `ttl`: recovery's window plus two refresh periods, so
// that it lives the whole window after this server's last refresh.
class streams_adapter::live_sessions : public std::enable_shared_from_this<live_sessions> {
 public:
  static constexpr std::size_t max_writes = 1000;

  live_sessions(std::weak_ptr<adapter_link_state> link, boost::asio::any_io_executor ex,
                std::string prefix, std::chrono::milliseconds tick,
                std::chrono::milliseconds window)
      : link_(std::move(link)),
        timer_(std::move(ex)),
        prefix_(std::move(prefix)),
        tick_(std::max(tick, std::chrono::milliseconds(10))),
        refresh_(std::max(window / 2, std::chrono::milliseconds(1000))),
        ttl_(window + 2 * refresh_) {}

  void changed(const socketio::session_state& s) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    auto& e = sessions_[s.pid];
    e.state = s;
    if (!e.dirty) {
      e.dirty = true;
      dirty_.push_back(s.pid);
    }
    arm();
  }

  /// Forgets the session; deletes what was written of it when `erase` (otherwise the caller
  /// writes the key itself, as persist_session does).
  void ended(const std::string& pid, bool erase) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(pid);
    if (it == sessions_.end()) return;
    const bool written = it->second.written;
    sessions_.erase(it);
    if (erase && written) {
      if (auto l = link_.lock()) l->command({"DEL", prefix_ + pid}, {});
    }
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    timer_.cancel();
  }

 private:
  struct entry {
    socketio::session_state state;
    bool dirty = false;
    bool written = false;
    std::chrono::steady_clock::time_point written_at{};
  };

  void arm() {
    if (armed_ || closed_) return;
    armed_ = true;
    timer_.expires_after(tick_);
    std::weak_ptr<live_sessions> weak = shared_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->run();
    });
  }

  // Under the lock, so that a session that ends meanwhile is never written after its end.
  void write(adapter_link_state& l, entry& e, std::chrono::steady_clock::time_point now) {
    l.command(
        {"SET", prefix_ + e.state.pid, encode_session(e.state), "PX", std::to_string(ttl_.count())},
        {});
    e.written = true;
    e.written_at = now;
    l.count_session_write();
  }

  void run() {
    std::lock_guard lock(mutex_);
    armed_ = false;
    if (closed_) return;
    auto l = link_.lock();
    if (!l) return;
    const auto now = std::chrono::steady_clock::now();
    std::size_t budget = max_writes;
    while (budget > 0 && !dirty_.empty()) {
      auto it = sessions_.find(dirty_.front());
      dirty_.pop_front();
      if (it == sessions_.end() || !it->second.dirty) continue;
      it->second.dirty = false;
      write(*l, it->second, now);
      --budget;
    }
    // Refresh: one pass over every session per refresh period, spread over the first half of
    // it a slice per tick, each session skipped when it was written less than half a period ago.
    if (refresh_queue_.empty() && now - cycle_start_ >= refresh_) {
      cycle_start_ = now;
      for (const auto& [pid, e] : sessions_)
        refresh_queue_.push_back(pid);
      const auto ticks = std::max<std::int64_t>(1, (refresh_ / 2) / tick_);
      slice_ = (refresh_queue_.size() + static_cast<std::size_t>(ticks) - 1) /
               static_cast<std::size_t>(ticks);
    }
    for (std::size_t n = 0; n < slice_ && budget > 0 && !refresh_queue_.empty(); ++n) {
      auto it = sessions_.find(refresh_queue_.front());
      refresh_queue_.pop_front();
      if (it == sessions_.end() || it->second.dirty) continue;
      if (now - it->second.written_at < refresh_ / 2) continue;
      write(*l, it->second, now);
      --budget;
    }
    if (!sessions_.empty()) arm();
  }

  std::weak_ptr<adapter_link_state> link_;
  boost::asio::steady_timer timer_;
  std::string prefix_;
  std::chrono::milliseconds tick_, refresh_, ttl_;
  std::mutex mutex_;
  bool armed_ = false, closed_ = false;
  std::unordered_map<std::string, entry> sessions_;
  std::deque<std::string> dirty_, refresh_queue_;
  std::size_t slice_ = 0;
  std::chrono::steady_clock::time_point cycle_start_{};
};

streams_adapter::streams_adapter(socketio::namespace_& nsp,
                                 std::shared_ptr<adapter_link_state> link)
    : cluster_adapter(nsp, std::move(link)), nsp_name_(nsp.name()) {
  link_->reader().add(this);
  link_->add_sink(this);
  link_->sub().subscribe(channels_.main);
  link_->sub().subscribe(channels_.response);
  const auto window = nsp.srv().options().recovery.max_disconnection_duration;
  if (link_->options().live_sessions && nsp.srv().options().recovery.enabled()) {
    live_ = std::make_shared<live_sessions>(link_, link_->runtime().at(0).executor(),
                                            link_->options().session_key_prefix,
                                            link_->options().live_session_delay, window);
  }
}

streams_adapter::~streams_adapter() {
  if (live_) live_->close();
  link_->reader().remove(this);
  link_->remove_sink(this);
  link_->sub().unsubscribe(channels_.main);
  link_->sub().unsubscribe(channels_.response);
}

void streams_adapter::append(cluster_type type, std::optional<json::object> data,
                             const std::vector<socketio::attachment>& attachments,
                             std::function<void(error_code)> done) {
  xadd(*link_, message(type, std::move(data), uid_, nsp_name_, attachments), std::move(done));
}

void streams_adapter::publish(cluster_type type, json::object data,
                              const std::vector<socketio::attachment>& attachments) {
  link_->publish(channels_.main,
                 encode_cluster(type, std::move(data), uid_, nsp_name_, attachments, true));
}

namespace {
constexpr std::size_t max_unsure = 1024;
constexpr std::chrono::seconds unsure_for{60};
}  // namespace

void streams_adapter::remember_unsure(std::string data_field) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(unsure_mutex_);
  while (!unsure_.empty() &&
         (unsure_.size() >= max_unsure || now - unsure_.front().first > unsure_for)) {
    unsure_.pop_front();
  }
  unsure_.emplace_back(now, std::move(data_field));
}

bool streams_adapter::take_unsure(const stream_message& m) {
  std::lock_guard lock(unsure_mutex_);
  if (unsure_.empty() || !m.data) return false;
  const auto now = std::chrono::steady_clock::now();
  while (!unsure_.empty() && now - unsure_.front().first > unsure_for)
    unsure_.pop_front();
  const auto field = encode_stream_data(m.type, *m.data, m.attachments);
  for (auto it = unsure_.begin(); it != unsure_.end(); ++it) {
    if (it->second == field) {
      unsure_.erase(it);
      return true;
    }
  }
  return false;
}

void streams_adapter::on_stream_floor(const stream_id& id) {
  set_log_floor({id.str(), id.ms, id.seq});
}

// -- Outgoing ---------------------------------------------------------------------------------

void streams_adapter::broadcast(socketio::packet p, const socketio::broadcast_options& opts) {
  if (opts.flags.local) return broadcast_local(p, opts);
  json::object data{{"packet", encode_event(p, nullptr)},
                    {"opts", encode_opts(opts, opts_layout::adapter)}};
  auto attachments = p.attachments;
  // Delivered here when the reader reads it back, with its entry id as offset; at once and
  // without one when the stream cannot take it.
  auto undelivered = std::make_shared<std::pair<socketio::packet, socketio::broadcast_options>>(
      std::move(p), opts);
  auto* self = this;
  auto alive = life_token();
  append(cluster_type::broadcast, std::move(data), attachments,
         [self, alive, undelivered](error_code ec) {
           if (!ec) return;
           std::lock_guard lock(alive->mutex);
           if (!alive->alive) return;
           if (ec == error::timeout || ec == error::disconnected) {
             // Perhaps in the stream after all: remembered, so that it is not delivered twice.
             const auto& [sent, o] = *undelivered;
             self->remember_unsure(
                 encode_stream_data(cluster_type::broadcast,
                                    json::object{{"packet", encode_event(sent, nullptr)},
                                                 {"opts", encode_opts(o, opts_layout::adapter)}},
                                    sent.attachments));
           }
           self->broadcast_local(undelivered->first, undelivered->second);
         });
}

void streams_adapter::broadcast_with_ack(socketio::packet p,
                                         const socketio::broadcast_options& opts,
                                         std::function<void(std::size_t)> on_client_count,
                                         std::function<void(socketio::payload)> on_ack) {
  if (!opts.flags.local) {
    const auto id = random_hex_id();
    await_acks(id, opts.flags.timeout.value_or(std::chrono::milliseconds(5000)), on_client_count,
               on_ack);
    // Ephemeral: pub/sub, never the stream.
    publish(cluster_type::broadcast,
            json::object{{"packet", encode_event(p, nullptr)},
                         {"requestId", id},
                         {"opts", encode_opts(opts, opts_layout::adapter)}},
            p.attachments);
  }
  broadcast_with_ack_local(p, opts, std::move(on_client_count), std::move(on_ack));
}

// -- Recovery -----------------------------------------------------------------------------------

void streams_adapter::session_changed(const socketio::session_state& s) {
  if (live_) live_->changed(s);
}

void streams_adapter::session_ended(const std::string& pid) {
  if (live_) live_->ended(pid, true);
}

void streams_adapter::persist_session(const socketio::session_state& s,
                                      std::chrono::milliseconds ttl) {
  if (live_) live_->ended(s.pid, false);
  link_->command({"SET", link_->options().session_key_prefix + s.pid, encode_session(s), "PX",
                  std::to_string(std::max<std::int64_t>(ttl.count(), 1))},
                 {});
}

namespace {

// One restore: the session taken and the offset checked (in parallel), then, when the offset is
// older than what this server's store holds, the stream read up to the store's floor.
struct restore_op : std::enable_shared_from_this<restore_op> {
  std::weak_ptr<adapter_link_state> link;
  std::string nsp;
  stream_id from;
  std::string offset;
  std::optional<socketio::log_position> floor;
  std::function<void(std::optional<socketio::shared_restore>)> done;
  int waiting = 2;
  std::optional<socketio::session_state> session;
  bool offset_found = false;
  std::vector<socketio::packet> missed;
  std::size_t read = 0;

  void fail() { done(std::nullopt); }

  void joined() {
    if (--waiting > 0) return;
    if (!session || !offset_found || !floor) return fail();
    const stream_id floor_id{floor->major, floor->minor};
    if (!(from < floor_id)) {
      // This server's store holds all of it.
      return done(socketio::shared_restore{std::move(*session), {}, {offset, from.ms, from.seq}});
    }
    next(next_stream_id(from));
  }

  void next(stream_id start) {
    auto l = link.lock();
    if (!l) return fail();
    const auto& o = l->options();
    auto self = shared_from_this();
    l->command({"XRANGE", o.stream_name, start.str(), floor->offset, "COUNT",
                std::to_string(o.stream_read_count)},
               [self, max = o.stream_max_len + o.stream_read_count](error_code ec, const reply& r) {
                 auto entries = ec ? result<entries_reply>(ec) : decode_xrange(r);
                 if (!entries) return self->fail();
                 for (const auto& e : entries->entries)
                   self->take(e);
                 self->read += entries->entries.size();
                 const stream_id floor_id{self->floor->major, self->floor->minor};
                 if (entries->entries.empty() || !(entries->entries.back().id < floor_id)) {
                   return self->done(socketio::shared_restore{
                       std::move(*self->session), std::move(self->missed), *self->floor});
                 }
                 // No partial replay: more than the stream can hold means something is wrong.
                 if (self->read > max) return self->fail();
                 self->next(next_stream_id(entries->entries.back().id));
               });
  }

  void take(const stream_entry& e) {
    if (!e.message || e.message->nsp != nsp || e.message->type != cluster_type::broadcast) return;
    auto b = decode_stream_broadcast(*e.message, nsp);
    if (!b || b->with_ack || b->opts.flags.volatile_) return;
    if (e.message->data->contains("requestId")) return;
    if (!session_would_receive(session->rooms, b->opts)) return;
    if (b->packet.data && b->packet.data->is_array())
      b->packet.data->get_array().emplace_back(e.id_text);
    missed.push_back(std::move(b->packet));
  }
};

}  // namespace

void streams_adapter::restore_session(
    std::string pid, std::string offset, std::optional<socketio::log_position> local_floor,
    std::function<void(std::optional<socketio::shared_restore>)> done) {
  // Node's rule: only a stream id is an offset here.
  const auto from = parse_stream_id(offset);
  if (!from) return done(std::nullopt);
  auto op = std::make_shared<restore_op>();
  op->link = link_;
  op->nsp = nsp_name_;
  op->from = *from;
  op->offset = offset;
  op->floor = std::move(local_floor);
  op->done = std::move(done);
  // Both answers come on the publishing connection's strand, one after the other.
  link_->command({"GETDEL", link_->options().session_key_prefix + pid},
                 [op](error_code ec, const reply& r) {
                   if (!ec && r.type == reply::kind::string) {
                     if (auto s = decode_session(r.str)) op->session = std::move(*s);
                   }
                   op->joined();
                 });
  link_->command({"XRANGE", link_->options().stream_name, offset, offset},
                 [op](error_code ec, const reply& r) {
                   if (!ec) {
                     auto entries = decode_xrange(r);
                     op->offset_found = entries && !entries->entries.empty();
                   }
                   op->joined();
                 });
}

// -- Incoming ---------------------------------------------------------------------------------

bool streams_adapter::wants(std::string_view pattern, std::string_view channel) const {
  return pattern.empty() && (channel == channels_.main || channel == channels_.response);
}

void streams_adapter::on_message(std::string_view, std::string_view, std::string_view payload) {
  link_->count_message();
  auto m = decode_cluster(payload);
  if (!m) return link_->count_malformed();
  if (m->uid == uid_ || m->nsp != nsp_name_) return;
  // A stream message that came by pub/sub would have no entry id: not taken this way.
  if (m->type == cluster_type::broadcast && !m->data.contains("requestId")) {
    return link_->count_malformed();
  }
  on_cluster_message(m->type, m->uid, m->data, m->attachments);
}

void streams_adapter::on_stream_entry(const stream_entry& e, const stream_message& m) {
  link_->count_message();
  if (m.uid == uid_) {
    // Our own broadcasts are delivered here, in stream order; the rest was done when sent.
    if (m.type == cluster_type::broadcast && m.data && !m.data->contains("requestId") &&
        !take_unsure(m)) {
      on_broadcast(e, m);
    }
    return;
  }
  if (m.type == cluster_type::broadcast && m.data && !m.data->contains("requestId"))
    return on_broadcast(e, m);
  const json::object empty;
  on_cluster_message(m.type, m.uid, m.data ? *m.data : empty, m.attachments);
}

void streams_adapter::on_cluster_message(cluster_type type, const std::string& from,
                                         const json::object& d,
                                         const std::vector<socketio::attachment>& attachments) {
  const auto request_id = string_member(d, "requestId");
  auto opts = decode_opts(d.if_contains("opts"));
  // Answers go to the requester's own channel, always by pub/sub.
  std::weak_ptr<adapter_link_state> link = link_;
  const auto channel = channels_.main + from + "#";
  const auto uid = uid_;
  const auto nsp_name = nsp_name_;
  auto respond = [link, channel, uid, nsp_name](cluster_type t, json::object data,
                                                const std::vector<socketio::attachment>& att) {
    if (auto l = link.lock())
      l->publish(channel, encode_cluster(t, std::move(data), uid, nsp_name, att, true));
  };
  switch (type) {
    case cluster_type::broadcast: {
      const auto* packet_value = d.if_contains("packet");
      if (!packet_value) return link_->count_malformed();
      auto p = decode_event(*packet_value, attachments, nsp_name_);
      if (!p) return link_->count_malformed();
      p->nsp = nsp_name_;
      opts.flags.local = true;  // never published again
      p->id = nsp().next_ack_id();
      broadcast_with_ack_local(
          *p, opts,
          [respond, request_id](std::size_t n) {
            respond(cluster_type::broadcast_client_count,
                    json::object{{"requestId", request_id}, {"clientCount", n}}, {});
          },
          [respond, request_id](socketio::payload answer) {
            json::object data{{"requestId", request_id}};
            if (auto v = first_arg(answer)) data["packet"] = std::move(*v);
            respond(cluster_type::broadcast_ack, std::move(data), answer.attachments);
          });
      return;
    }
    case cluster_type::fetch_sockets:
      fetch_sockets_local(opts, [respond, request_id](std::vector<socketio::socket_info> found) {
        json::array sockets;
        for (const auto& s : found)
          sockets.push_back(encode_socket(s));
        respond(cluster_type::fetch_sockets_response,
                json::object{{"requestId", request_id}, {"sockets", std::move(sockets)}}, {});
      });
      return;
    case cluster_type::server_side_emit: {
      const auto* packet = d.if_contains("packet");
      if (!packet || !packet->is_array()) return link_->count_malformed();
      socketio::payload args(packet->get_array(), attachments);
      if (!d.contains("requestId")) return deliver_server_side_emit(std::move(args), {});
      auto answered = std::make_shared<std::atomic<bool>>(false);
      deliver_server_side_emit(
          std::move(args), [answered, respond, request_id](socketio::payload answer) {
            if (answered->exchange(true)) return;
            json::object data{{"requestId", request_id}};
            if (auto v = first_arg(answer)) data["packet"] = std::move(*v);
            respond(cluster_type::server_side_emit_response, std::move(data), answer.attachments);
          });
      return;
    }
    default:
      // Changes to sockets and answers to this server's requests; anything else (0.2's
      // heartbeats and ADAPTER_CLOSE) means nothing here.
      if (!on_change(type, opts, d)) on_answer(type, request_id, d, attachments);
      return;
  }
}

void streams_adapter::on_broadcast(const stream_entry& e, const stream_message& m) {
  auto b = decode_stream_broadcast(m, nsp_name_);
  if (!b) return link_->count_malformed();
  b->opts.flags.local = true;  // never published again
  broadcast_local_at(b->packet, b->opts, position_of(e));
}

}  // namespace ignis::redis::detail
