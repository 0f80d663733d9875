#include <ignis/common/iso_time.hpp>
#include <ignis/common/utf8.hpp>
#include <ignis/helpers/server_helper.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <unordered_set>

namespace ignis::helpers {
namespace json = boost::json;

std::string_view to_string(client_state s) noexcept {
  switch (s) {
    case client_state::unauthorized:
      return "unauthorized";
    case client_state::authenticating:
      return "authenticating";
    case client_state::authenticated:
      return "authenticated";
  }
  return "unauthorized";
}

namespace {

// The bytes of the code point that starts at s[i]: as many as its lead byte announces when the
// continuation bytes follow, else 1 (a stray byte counts as one character); never past the end.
std::size_t code_point_size(std::string_view s, std::size_t i) noexcept {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t announced = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  std::size_t n = 1;
  while (n < announced && i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80)
    ++n;
  return n;
}

// Requests listing more rooms than this are ignored whole.
constexpr std::size_t max_rooms_per_request = 100;

}  // namespace

bool is_acceptable_room_name(std::string_view room) noexcept {
  return !room.empty() && room.size() <= 256 && utf8::is_valid(room);
}

bool is_socket_id_form(std::string_view room) noexcept {
  if (room.size() != 20) return false;
  for (const char c : room) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool glob_match(std::string_view pattern, std::string_view name) noexcept {
  // Iterative match with one backtrack point for the last '*': linear for typical patterns.
  // Positions are byte offsets at the start of a code point; '?' and the backtrack step move by
  // one code point, literals compare whole code points.
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
      continue;
    }
    if (p < pattern.size()) {
      const auto here = code_point_size(name, n);
      if (pattern[p] == '?') {
        ++p;
        n += here;
        continue;
      }
      const auto literal = code_point_size(pattern, p);
      if (literal == here && pattern.substr(p, literal) == name.substr(n, here)) {
        p += literal;
        n += here;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    mark += code_point_size(name, mark);
    n = mark;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

namespace {

// A join/leave request {rooms:[...]}: the names it lists (its string entries, first occurrence
// kept, in order), and whether it is ignored whole (`rooms` missing or not an array, or more
// than max_rooms_per_request entries).
struct room_request {
  std::vector<std::string> names;
  bool ignored = false;
};

room_request parse_room_request(const socketio::payload& args) {
  room_request out;
  const json::value* rooms = nullptr;
  if (!args.args.empty() && args.args[0].is_object())
    rooms = args.args[0].get_object().if_contains("rooms");
  if (!rooms || !rooms->is_array()) {
    out.ignored = true;
    return out;
  }
  const auto& list = rooms->get_array();
  out.ignored = list.size() > max_rooms_per_request;
  std::unordered_set<std::string_view> seen;
  for (const auto& r : list) {
    if (!r.is_string()) continue;
    const std::string_view name = r.get_string();
    if (seen.insert(name).second) out.names.emplace_back(name);
  }
  return out;
}

json::array string_array(const std::vector<std::string>& items) {
  json::array list;
  list.reserve(items.size());
  for (const auto& r : items)
    list.emplace_back(r);
  return list;
}

socketio::payload rooms_answer(const std::vector<std::string>& rooms) {
  return socketio::make_args(json::object{{"rooms", string_array(rooms)}});
}

// {rooms: the rooms joined, refused: the rest of what was requested, in the request's order}.
socketio::payload join_answer(const std::vector<std::string>& joined,
                              const std::vector<std::string>& requested) {
  std::vector<std::string> refused;
  for (const auto& r : requested) {
    if (std::find(joined.begin(), joined.end(), r) == joined.end()) refused.push_back(r);
  }
  return socketio::make_args(
      json::object{{"rooms", string_array(joined)}, {"refused", string_array(refused)}});
}

}  // namespace

/// Per-socket state, attached to the socket; its deadlines are linked into the shard's timer
/// wheel by the record itself (taken off it when the socket disconnects, on the socket's shard).
struct server_helper::client_record final : net::timer_hook {
  server_helper* helper = nullptr;
  std::weak_ptr<socketio::socket> target;
  net::shard* home = nullptr;
  client_state state = client_state::unauthorized;
  // Restored by connection state recovery: the first `authenticate` is answered at once.
  bool answer_next_authenticate = false;
  std::optional<std::vector<std::string>> room_patterns;
  // The rooms joined through join requests, while a per-socket limit is set (pruned of rooms the
  // socket has left some other way before each count).
  std::vector<std::string> requested_rooms;
  net::clock::time_point auth_deadline = net::clock::time_point::max();
  net::clock::time_point next_ping = net::clock::time_point::max();

  /// Links the record for the earlier of its deadlines.
  void rearm() {
    const auto when = std::min(auth_deadline, next_ping);
    if (when == net::clock::time_point::max()) return cancel();
    home->timers().schedule(*this, when);
  }

  void on_timer(net::clock::time_point now) override {
    auto s = target.lock();
    if (!s || !s->connected()) return;
    // The disconnect below lets the socket drop its attachments: this record among them.
    const auto self = s->attached<client_record>();
    const bool auth_timed_out = now >= auth_deadline;
    if (auth_timed_out) auth_deadline = net::clock::time_point::max();
    if (auth_timed_out && state != client_state::authenticated) {
      if (state == client_state::authenticating) {
        // authenticateFn never answered: a failure, told to the client before the disconnect.
        state = client_state::unauthorized;
        s->emit(event_unauthenticated,
                socketio::make_args(
                    json::object{{"message", message_auth_failed}, {"time", iso_time()}}));
      }
      // The connection goes too: a client that ignores the DISCONNECT must not keep an idle
      // Engine.IO session (and its memory) open forever.
      s->disconnect(true);
      return;
    }
    if (now >= next_ping) {
      next_ping = net::clock::time_point::max();
      if (state == client_state::authenticated) {
        s->emit(event_ping, socketio::make_args(json::object{{"time", iso_time()}}));
        next_ping = now + helper->options_.ping_interval;
      }
    }
    rearm();
  }
};

server_helper::server_helper(net::runtime& rt, server_helper_options options)
    : runtime_(rt), options_(std::move(options)) {
  // Upstream checks the runtime and its server first.
  switch (options_.runtime) {
    case server_runtime::standalone:
      if (!options_.listen)
        throw std::invalid_argument(
            "[SocketIOServerHelper] Invalid HTTP server for standalone runtime!");
      break;
    case server_runtime::embedded:
      if (!options_.host)
        throw std::invalid_argument(
            "[SocketIOServerHelper] Invalid HTTP server for embedded runtime!");
      break;
    default:
      throw std::invalid_argument("[SocketIOServerHelper] Unsupported runtime!");
  }
  if (!options_.authenticate)
    throw std::invalid_argument("[SocketIOServerHelper] Invalid authenticate function!");
  // A zero interval would re-arm the ping at once, forever: a flood of pings to every client.
  if (options_.ping_interval <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("[SocketIOServerHelper] Invalid ping interval!");
  if (options_.authenticate_timeout <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("[SocketIOServerHelper] Invalid authenticate timeout!");
}

server_helper::~server_helper() {
  // Work the application hands back later (an authentication's answer) checks this token on the
  // socket's shard before touching the helper. Once it is gone, one pass of every running shard's
  // queue lets any such work that saw it alive finish before the members go.
  alive_.reset();
  if (!runtime_.running()) return;
  net::shard* current = net::current_shard();
  for (std::size_t i = 0; i < runtime_.size(); ++i) {
    auto& shard = runtime_.at(i);
    if (&shard == current) continue;
    std::promise<void> passed;
    boost::asio::post(shard.executor(), [&passed] { passed.set_value(); });
    passed.get_future().wait();
  }
}

void server_helper::log(std::string_view level, std::string_view message) const {
  if (options_.log) options_.log(level, message);
}

socketio::server& server_helper::io() {
  if (!io_) throw std::logic_error("[SocketIOServerHelper] IOServer is not initialized yet!");
  return *io_;
}

std::shared_ptr<net::http_service> server_helper::http_service() {
  return io().engine();
}

void server_helper::configure() {
  if (io_) return;
  auto& recovery = options_.server.recovery;
  if (recovery.enabled() && !recovery.authorize) {
    // A session comes back only to a client whose credentials still pass (a token may have
    // expired, a user been banned meanwhile).
    recovery.authorize = [this, alive = std::weak_ptr<const int>(alive_)](
                             socketio::socket& s, std::function<void(bool)> done) {
      authorize_recovery(s, alive, std::move(done));
    };
  }
  io_ = std::make_unique<socketio::server>(runtime_, options_.server, options_.adapters);
  install_handlers(io_->of("/"));
  if (options_.runtime == server_runtime::embedded) {
    options_.host->mount(io_->engine());
  } else {
    listener_ = std::make_unique<net::http_listener>(
        runtime_, std::vector<std::shared_ptr<net::http_service>>{io_->engine()},
        options_.http_limits);
    if (auto ec = listener_->listen(*options_.listen)) {
      listener_.reset();
      throw std::system_error(ec, "[SocketIOServerHelper] Cannot listen on " +
                                      options_.listen->address().to_string() + ":" +
                                      std::to_string(options_.listen->port()));
    }
  }
  log("info", "SocketIO Server READY | path: " + options_.server.engine.path + " | runtime: " +
                  (options_.runtime == server_runtime::embedded ? "embedded" : "standalone"));
}

unsigned short server_helper::port() const {
  return listener_ ? listener_->port() : 0;
}

void server_helper::on(std::string_view topic, socketio::connection_handler handler) {
  if (topic.empty()) throw std::invalid_argument("[on] Invalid topic to start binding handler");
  if (!handler)
    throw std::invalid_argument("[on] Invalid event handler | topic: " + std::string(topic));
  if (!io_) throw std::logic_error("[on] IOServer is not initialized yet!");
  if (topic == "connection" || topic == "connect") io_->of("/").on_connection(std::move(handler));
}

std::shared_ptr<server_helper::client_record> server_helper::record_for(
    const socketio::socket_ptr& s) {
  if (auto rec = s->attached<client_record>()) return rec;
  auto rec = std::make_shared<client_record>();
  rec->helper = this;
  rec->target = s;
  rec->home = &s->home();
  s->attach(rec);
  return rec;
}

void server_helper::authorize_recovery(socketio::socket& s, std::weak_ptr<const int> alive,
                                       std::function<void(bool)> done) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto decide = [this, alive, weak = std::weak_ptr<socketio::socket>(s.shared_from_this()),
                 answered, done](auth_result result) {
    if (answered->exchange(true) || alive.expired()) return;
    auto target = weak.lock();
    if (!target) return;
    if (result.outcome != auth_result::kind::accepted) return done(false);
    boost::asio::dispatch(target->home().executor(),
                          [this, alive, target, done, patterns = std::move(result.room_patterns)] {
                            if (alive.expired()) return;
                            // What the credentials allow now; rooms and data come back with
                            // the session.
                            auto rec = record_for(target);
                            rec->state = client_state::authenticated;
                            rec->room_patterns = patterns;
                            done(true);
                          });
  };
  try {
    options_.authenticate(s.handshake(), decide);
  } catch (...) {
    decide(auth_result::fail());
  }
}

void server_helper::on_connection(const socketio::socket_ptr& s) {
  auto rec = record_for(s);
  clients_.fetch_add(1, std::memory_order_relaxed);
  if (s->recovered()) {
    // Restored after its credentials were checked again (or by the application's own
    // authorize): authenticated at once, nothing missed went to anyone else.
    recovered(s, rec);
  } else {
    rec->state = client_state::unauthorized;
    if (!options_.broadcast_to_unauthenticated) s->mute_broadcasts(true);
    // Until it authenticates, a disconnect leaves nothing to recover.
    s->set_recoverable(false);
    rec->auth_deadline = s->home().now() + options_.authenticate_timeout;
    rec->rearm();
  }
}

// Once for the namespace rather than per socket: a connection then carries no handler entries
// of its own (the application may still replace any of them on a socket with socket::on).
void server_helper::install_handlers(socketio::namespace_& nsp) {
  nsp.on_connection([this](const socketio::socket_ptr& s) { on_connection(s); });
  nsp.on_socket_disconnect([this](socketio::socket& self, socketio::disconnect_reason) {
    auto r = self.attached<client_record>();
    clients_.fetch_sub(1, std::memory_order_relaxed);
    if (r && r->state == client_state::authenticated)
      authenticated_.fetch_sub(1, std::memory_order_relaxed);
    if (r) {
      r->state = client_state::unauthorized;
      r->cancel();  // whoever lets the record go last may do so on another thread
    }
  });
  nsp.on_event(std::string(event_authenticate),
               [this](socketio::socket& self, socketio::payload&, socketio::ack_responder) {
                 on_authenticate(self);  // payload and ack are ignored, as upstream
               });
  nsp.on_event(std::string(event_join),
               [this](socketio::socket& self, socketio::payload& args,
                      socketio::ack_responder ack) { on_join(self, args, std::move(ack)); });
  nsp.on_event(std::string(event_leave),
               [this](socketio::socket& self, socketio::payload& args,
                      socketio::ack_responder ack) { on_leave(self, args, std::move(ack)); });
}

void server_helper::on_authenticate(socketio::socket& s) {
  auto rec = s.attached<client_record>();
  if (rec && rec->answer_next_authenticate) {
    // A client that authenticates on every connect keeps working after a recovery.
    rec->answer_next_authenticate = false;
    s.emit(event_authenticated,
           socketio::make_args(json::object{{"id", s.id()}, {"time", iso_time()}}));
    return;
  }
  if (!rec || rec->state != client_state::unauthorized) return;  // in progress or done: ignored
  rec->state = client_state::authenticating;
  auto self_socket = s.shared_from_this();
  auto answered = std::make_shared<std::atomic<bool>>(false);
  // Called by the application, at once or later, from any thread: the helper may be gone by
  // then (see ~server_helper).
  auto done = [this, alive = std::weak_ptr<const int>(alive_),
               weak = std::weak_ptr<socketio::socket>(self_socket), answered](auth_result result) {
    if (answered->exchange(true)) return;
    auto target = weak.lock();
    if (!target) return;
    auto finish = [this, alive, target, result = std::move(result)]() mutable {
      if (alive.expired()) return;
      finish_authentication(target, std::move(result));
    };
    boost::asio::dispatch(target->home().executor(), std::move(finish));
  };
  try {
    options_.authenticate(s.handshake(), done);
  } catch (const std::exception& e) {
    log("error", std::string("Failed to authenticate | id: ") + std::string(s.id()) +
                     " | error: " + e.what());
    done(auth_result::fail());
  } catch (...) {
    done(auth_result::fail());
  }
}

void server_helper::finish_authentication(const socketio::socket_ptr& s, auth_result result) {
  auto rec = s->attached<client_record>();
  if (!s->connected() || !rec || rec->state != client_state::authenticating) return;
  if (result.outcome == auth_result::kind::accepted) {
    rec->room_patterns = std::move(result.room_patterns);
    if (result.data) s->data = std::move(*result.data);
    authenticated(s, rec);
    return;
  }
  rec->state = client_state::unauthorized;
  const auto message =
      result.outcome == auth_result::kind::rejected ? message_invalid_token : message_auth_failed;
  // Delivered on the socket, then the disconnect: the client learns why.
  s->emit(event_unauthenticated,
          socketio::make_args(json::object{{"message", message}, {"time", iso_time()}}));
  s->disconnect(true);  // the connection too, as at the timeout
}

void server_helper::authenticated(const socketio::socket_ptr& s,
                                  const std::shared_ptr<client_record>& rec) {
  rec->state = client_state::authenticated;
  rec->auth_deadline = net::clock::time_point::max();
  authenticated_.fetch_add(1, std::memory_order_relaxed);
  s->emit(event_ping, socketio::make_args(json::object{{"time", iso_time()}}));
  s->join(options_.default_rooms);
  s->mute_broadcasts(false);
  s->set_recoverable(true);
  rec->next_ping = s->home().now() + options_.ping_interval;
  rec->rearm();
  s->emit(event_authenticated,
          socketio::make_args(json::object{{"id", s->id()}, {"time", iso_time()}}));
  run_client_connected(s);
}

void server_helper::recovered(const socketio::socket_ptr& s,
                              const std::shared_ptr<client_record>& rec) {
  rec->state = client_state::authenticated;
  rec->answer_next_authenticate = true;
  authenticated_.fetch_add(1, std::memory_order_relaxed);
  s->mute_broadcasts(false);
  s->set_recoverable(true);
  // Its rooms came back with the session; the join count of the per-socket limit starts from
  // them.
  rec->requested_rooms.clear();
  for (const auto& r : s->rooms()) {
    if (r != s->id() && std::find(options_.default_rooms.begin(), options_.default_rooms.end(),
                                  r) == options_.default_rooms.end())
      rec->requested_rooms.push_back(r);
  }
  rec->next_ping = s->home().now() + options_.ping_interval;
  rec->rearm();
  s->emit(event_authenticated,
          socketio::make_args(json::object{{"id", s->id()}, {"time", iso_time()}}));
  run_client_connected(s);
}

void server_helper::run_client_connected(const socketio::socket_ptr& s) {
  if (!options_.client_connected) return;
  try {
    options_.client_connected(s);
  } catch (const std::exception& e) {
    log("error", std::string("clientConnectedFn failed | id: ") + std::string(s->id()) +
                     " | error: " + e.what());
  } catch (...) {
    log("error", "clientConnectedFn failed | id: " + std::string(s->id()));
  }
}

void server_helper::on_join(socketio::socket& s, socketio::payload& args,
                            socketio::ack_responder ack) {
  auto rec = s.attached<client_record>();
  if (!rec || rec->state != client_state::authenticated) return;  // before authentication: nothing
  auto request = parse_room_request(args);
  if (request.ignored) {
    if (ack) ack(join_answer({}, request.names));
    return;
  }
  // A name of a socket id's form is never joined, whoever owns the id (this server or another one
  // of the cluster): it is not even shown to the validator. Nor are invalid names.
  std::vector<std::string> candidates;
  for (const auto& r : request.names) {
    if (is_acceptable_room_name(r) && !is_socket_id_form(r)) candidates.push_back(r);
  }
  validate_and_join(s, std::move(request.names), std::move(candidates), std::move(ack));
}

void server_helper::validate_and_join(socketio::socket& s, std::vector<std::string> requested,
                                      std::vector<std::string> candidates,
                                      socketio::ack_responder ack) {
  auto rec = s.attached<client_record>();
  if (!rec) return;
  if (!options_.validate_room || candidates.empty()) {
    if (!options_.validate_room)
      log("debug",
          "Join rejected | id: " + std::string(s.id()) + " | reason: no validateRoomFn configured");
    if (ack) ack(join_answer({}, requested));
    return;
  }
  auto target = s.shared_from_this();
  auto shared_requested = std::make_shared<const std::vector<std::string>>(std::move(requested));
  auto done = [target, shared_requested, wanted = candidates, ack,
               limit = options_.max_rooms_per_socket](std::vector<std::string> allowed) {
    auto apply = [target, shared_requested, wanted, allowed = std::move(allowed), ack, limit] {
      auto record = target->attached<client_record>();
      if (!record || !target->connected()) return;
      auto& counted = record->requested_rooms;
      if (limit != 0) {
        std::erase_if(counted, [&](const std::string& r) { return !target->in_room(r); });
      }
      std::vector<std::string> joined;
      for (const auto& r : wanted) {
        if (std::find(allowed.begin(), allowed.end(), r) == allowed.end())
          continue;  // the intersection
        if (!target->in_room(r)) {
          if (limit != 0) {
            if (counted.size() >= limit) continue;  // no place left
            counted.push_back(r);
          }
          target->join(r);
        }
        joined.push_back(r);
      }
      if (ack) ack(join_answer(joined, *shared_requested));
    };
    boost::asio::dispatch(target->home().executor(), std::move(apply));
  };
  try {
    options_.validate_room(s, rec->room_patterns, std::move(candidates), std::move(done));
  } catch (...) {
    log("error", "validateRoomFn failed | id: " + std::string(s.id()));
    if (ack) ack(join_answer({}, *shared_requested));
  }
}

void server_helper::on_leave(socketio::socket& s, socketio::payload& args,
                             socketio::ack_responder ack) {
  auto rec = s.attached<client_record>();
  if (!rec || rec->state != client_state::authenticated) return;
  const auto request = parse_room_request(args);
  std::vector<std::string> left;
  if (!request.ignored) {
    for (const auto& r : request.names) {
      if (!is_acceptable_room_name(r) || r == s.id() || !s.in_room(r))
        continue;  // the socket-id room stays (send to id must work)
      s.leave(r);
      std::erase(rec->requested_rooms, r);
      left.push_back(r);
    }
  }
  if (ack) ack(rooms_answer(left));
}

void server_helper::send(const send_options& opts) {
  if (opts.topic.empty()) throw std::invalid_argument("Topic is required");
  if (socketio::is_reserved_event(opts.topic)) {
    throw std::invalid_argument("\"" + opts.topic + "\" is a reserved event name");
  }
  if (opts.do_log) {
    log("info", "Message emitted | destination: " +
                    (opts.destination.empty() ? std::string("all") : opts.destination) +
                    " | topic: " + opts.topic + " | data: " + socketio::serialize_js(opts.data));
  }
  auto& nsp = io().of("/");
  auto args = socketio::make_args(opts.data);
  if (opts.destination.empty()) {
    nsp.emit(opts.topic, std::move(args));
  } else {
    nsp.to(opts.destination).emit(opts.topic, std::move(args));
  }
}

void server_helper::get_clients(std::function<void(std::vector<client_summary>)> done) const {
  struct gathering {
    std::mutex mutex;
    std::vector<client_summary> all;
  };
  auto g = std::make_shared<gathering>();
  io_->of("/").for_each_local_socket(
      [g](const socketio::socket_ptr& s) {
        auto rec = s->attached<client_record>();
        std::lock_guard lock(g->mutex);
        g->all.push_back({std::string(s->id()), rec ? rec->state : client_state::unauthorized});
      },
      [g, done = std::move(done)] { done(std::move(g->all)); });
}

json::value server_helper::describe(const socketio::socket& s) {
  const auto rec = s.attached<client_record>();
  if (!rec) return s.data;
  json::object view{{"state", to_string(rec->state)},
                    {"authenticated", rec->state == client_state::authenticated}};
  if (rec->room_patterns) view["roomPatterns"] = string_array(*rec->room_patterns);
  json::object out{{"ignis", std::move(view)}};
  if (s.data.is_object()) {
    for (const auto& [key, value] : s.data.get_object()) {
      if (key != "ignis") out[key] = value;
    }
  } else if (!s.data.is_null()) {
    out["data"] = s.data;
  }
  return out;
}

void server_helper::shutdown() {
  if (!io_) return;
  io_->of("/").local().disconnect_sockets();  // "io server disconnect" for every client
  if (listener_) listener_->close();
  io_->engine()->close_all();
}

}  // namespace ignis::helpers
