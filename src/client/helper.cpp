#include <ignis/client/helper.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <mutex>

namespace ignis::client {
namespace asio = boost::asio;

std::string_view to_string(helper_state s) noexcept {
  switch (s) {
    case helper_state::unauthorized:
      return "unauthorized";
    case helper_state::authenticating:
      return "authenticating";
    case helper_state::authenticated:
      return "authenticated";
  }
  return "unauthorized";
}

// What the helper's own listeners and the application's calls share. The listeners hold it, so
// it outlives the helper until the socket dropped them.
struct helper::shared {
  helper_options options;
  std::atomic<helper_state> state{helper_state::unauthorized};
  std::atomic<bool> alive{true};       // false once the helper is destroyed
  std::atomic<bool> listening{false};  // the helper's listeners forward events (until shutdown)
  std::atomic<bool> configured{false};
  std::mutex mutex;
  std::map<std::string, std::vector<listener_id>, std::less<>> user_handlers;  // by event
  std::vector<listener_id> internal_handlers;

  void log(std::string_view level, const std::string& message) const {
    if (!options.log || !alive.load()) return;
    try {
      options.log(level, "[" + options.identifier + "] " + message);
    } catch (...) {  // a logger must not break the client
    }
  }

  // Upstream wraps every callback so that its failure is logged, not propagated.
  template <class F, class... A>
  void call(const F& f, std::string_view name, A&&... args) const {
    if (!f || !alive.load() || !listening.load()) return;
    try {
      f(std::forward<A>(args)...);
    } catch (const std::exception& e) {
      log("error", std::string(name) + " failed: " + e.what());
    } catch (...) {
      log("error", std::string(name) + " failed");
    }
  }
};

helper::helper(boost::asio::any_io_executor ex, helper_options options)
    : shared_(std::make_shared<shared>()),
      manager_(ex, options.host, options.options),
      socket_(manager_.socket(url_namespace(options.host), options.auth)) {
  shared_->options = std::move(options);
  configure();
}

helper::~helper() {
  shared_->alive.store(false);
  // The socket and manager handles go next: both close silently.
}

helper_state helper::get_state() const noexcept {
  return shared_->state.load();
}

void helper::configure() {
  if (shared_->configured.exchange(true)) {
    shared_->log("info", "socket client is already configured");
    return;
  }
  auto sh = shared_;
  auto* sock = socket_.get();
  std::weak_ptr<client::socket> weak_socket = socket_;
  std::vector<listener_id> ids;

  ids.push_back(sock->on_connect([sh, weak_socket] {
    if (auto s = weak_socket.lock(); s && s->recovered()) {
      // The server restores the session and says `authenticated` itself: nothing to redo.
      sh->log("info", "recovered");
      sh->call(sh->options.on_recovered, "on_recovered");
      return;
    }
    sh->log("info", "connected");
    sh->call(sh->options.on_connected, "on_connected");
    if (sh->options.auto_authenticate && sh->listening.load()) {
      // As authenticate(), from the strand.
      auto expected = helper_state::unauthorized;
      if (auto s = weak_socket.lock();
          s && sh->state.compare_exchange_strong(expected, helper_state::authenticating)) {
        s->emit(ignis_protocol::event_authenticate);
      }
    }
  }));
  ids.push_back(sock->on_disconnect([sh](disconnect_reason reason) {
    if (!sh->listening.load()) return;
    sh->state.store(helper_state::unauthorized);
    sh->log("info", "disconnected: " + std::string(to_string(reason)));
    sh->call(sh->options.on_disconnected, "on_disconnected", to_string(reason));
  }));
  ids.push_back(sock->on_connect_error([sh](const connect_error& err) {
    sh->log("error", "connect_error: " + err.message);
    sh->call(sh->options.on_error, "on_error", err);
  }));
  ids.push_back(sock->on(
      std::string(ignis_protocol::event_authenticated), [sh](payload& args, ack_responder) {
        if (!sh->listening.load()) return;
        sh->state.store(helper_state::authenticated);
        sh->log("info", "authenticated: " + (args.args.empty()
                                                 ? std::string()
                                                 : socketio::serialize_js(args.args.front())));
        sh->call(sh->options.on_authenticated, "on_authenticated");
      }));
  ids.push_back(sock->on(
      std::string(ignis_protocol::event_unauthenticated), [sh](payload& args, ack_responder) {
        if (!sh->listening.load()) return;
        sh->state.store(helper_state::unauthorized);
        std::string message;
        if (!args.args.empty()) {
          if (const auto* o = args.args.front().if_object()) {
            if (const auto* m = o->if_contains("message"); m && m->is_string())
              message = std::string(m->get_string());
          }
        }
        sh->log("warn", "unauthenticated: " + message);
        sh->call(sh->options.on_unauthenticated, "on_unauthenticated", std::string_view(message));
      }));
  ids.push_back(sock->on(std::string(ignis_protocol::event_ping),
                         [sh](payload&, ack_responder) { sh->log("debug", "ping"); }));
  {
    std::lock_guard lk(shared_->mutex);
    shared_->internal_handlers = std::move(ids);
  }
  shared_->listening.store(true);
  socket_->connect();
}

void helper::authenticate() {
  if (!socket_->connected()) {
    shared_->log("warn", "Cannot authenticate: socket client is not connected");
    return;
  }
  auto expected = helper_state::unauthorized;
  if (!shared_->state.compare_exchange_strong(expected, helper_state::authenticating)) {
    shared_->log("warn", "Cannot authenticate: state is " + std::string(to_string(expected)));
    return;
  }
  socket_->emit(ignis_protocol::event_authenticate);
}

void helper::emit(helper_emit_options opts) {
  if (!socket_->connected()) throw helper_error("Invalid socket client state to emit", 400);
  if (opts.topic.empty()) throw helper_error("Topic is required to emit", 400);
  socket_->emit(opts.topic, socketio::make_args(std::move(opts.data)));
  if (opts.do_log) shared_->log("info", "emitted " + opts.topic);
  if (opts.cb) {
    asio::post(socket_->get_executor(), [sh = shared_, cb = std::move(opts.cb)] {
      if (!sh->alive.load()) return;
      try {
        cb();
      } catch (const std::exception& e) {
        sh->log("error", std::string("emit callback failed: ") + e.what());
      } catch (...) {
        sh->log("error", "emit callback failed");
      }
    });
  }
}

std::optional<listener_id> helper::subscribe(helper_subscribe_options opts) {
  if (!opts.handler) {
    shared_->log("warn", "subscribe: no handler for " + opts.event);
    return std::nullopt;
  }
  std::lock_guard lk(shared_->mutex);
  auto& ids = shared_->user_handlers[opts.event];
  if (opts.ignore_duplicate && !ids.empty()) {
    shared_->log("info", "subscribe: " + opts.event + " already has a handler");
    return std::nullopt;
  }
  // Handler failures are logged and do not reach the client.
  auto id = socket_->on(opts.event, [sh = shared_, event = opts.event, h = std::move(opts.handler)](
                                        payload& args, ack_responder ack) {
    if (!sh->alive.load()) return;
    try {
      h(args, std::move(ack));
    } catch (const std::exception& e) {
      sh->log("error", "handler of " + event + " failed: " + e.what());
    } catch (...) {
      sh->log("error", "handler of " + event + " failed");
    }
  });
  ids.push_back(id);
  return id;
}

void helper::subscribe_many(helper_subscribe_many_options opts) {
  for (auto& [event, handler] : opts.events) {
    subscribe(
        {.event = event, .handler = std::move(handler), .ignore_duplicate = opts.ignore_duplicate});
  }
}

void helper::unsubscribe(helper_unsubscribe_options opts) {
  std::lock_guard lk(shared_->mutex);
  const auto it = shared_->user_handlers.find(opts.event);
  if (it == shared_->user_handlers.end() || it->second.empty()) {
    shared_->log("info", "unsubscribe: " + opts.event + " has no handler");
    return;
  }
  auto& ids = it->second;
  if (opts.handler) {
    const auto pos = std::find(ids.begin(), ids.end(), *opts.handler);
    if (pos == ids.end()) {
      shared_->log("info", "unsubscribe: no such handler of " + opts.event);
      return;
    }
    socket_->off(*pos);
    ids.erase(pos);
  } else {
    for (const auto id : ids)
      socket_->off(id);
    ids.clear();
  }
  if (ids.empty()) shared_->user_handlers.erase(it);
}

void helper::unsubscribe_many(helper_unsubscribe_many_options opts) {
  for (auto& event : opts.events)
    unsubscribe({.event = std::move(event), .handler = std::nullopt});
}

void helper::connect() {
  socket_->connect();
}

void helper::disconnect() {
  socket_->disconnect();
}

namespace {

payload rooms_payload(const std::vector<std::string>& rooms) {
  boost::json::array a;
  for (const auto& r : rooms)
    a.emplace_back(r);
  boost::json::object o;
  o["rooms"] = std::move(a);
  return socketio::make_args(std::move(o));
}

}  // namespace

void helper::join_rooms(helper_rooms_options opts) {
  if (!socket_->connected()) {
    shared_->log("warn", "Cannot join rooms: socket client is not connected");
    return;
  }
  socket_->emit(ignis_protocol::event_join, rooms_payload(opts.rooms));
}

void helper::leave_rooms(helper_rooms_options opts) {
  if (!socket_->connected()) {
    shared_->log("warn", "Cannot leave rooms: socket client is not connected");
    return;
  }
  socket_->emit(ignis_protocol::event_leave, rooms_payload(opts.rooms));
}

void helper::shutdown() {
  // In strand order: the disconnect runs the helper's listeners (on_disconnected), then they and
  // the application's handlers go.
  socket_->disconnect();
  std::vector<listener_id> ids;
  {
    std::lock_guard lk(shared_->mutex);
    ids = std::move(shared_->internal_handlers);
    shared_->internal_handlers.clear();
    for (auto& [event, list] : shared_->user_handlers)
      ids.insert(ids.end(), list.begin(), list.end());
    shared_->user_handlers.clear();
  }
  asio::post(socket_->get_executor(), [sh = shared_] {
    sh->listening.store(false);
    sh->state.store(helper_state::unauthorized);
  });
  for (const auto id : ids)
    socket_->off(id);
  shared_->state.store(helper_state::unauthorized);
}

}  // namespace ignis::client
