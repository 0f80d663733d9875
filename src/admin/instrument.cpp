#include "admin/protocol.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/common/iso_time.hpp>
#include <ignis/net/shards.hpp>

#include <boost/asio/post.hpp>

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace ignis::admin {
namespace json = boost::json;
using socketio::make_args;

namespace {

constexpr std::string_view invalid_credentials = "invalid credentials";
// Development mode: events waiting on one shard for the next flush; past it they are dropped.
constexpr std::size_t max_outbox = 16'384;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One thread of its own for the password checks, at most `max_pending` of them waiting.
class check_thread {
 public:
  explicit check_thread(std::size_t max_pending)
      : max_pending_(max_pending), thread_([this] { run(); }) {}
  ~check_thread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  check_thread(const check_thread&) = delete;
  check_thread& operator=(const check_thread&) = delete;

  /// False when too many are waiting.
  bool submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      if (jobs_.size() >= max_pending_) return false;
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace

struct instrument::impl final : socketio::observer,
                                net::timer_client,
                                std::enable_shared_from_this<impl> {
  impl(socketio::server& server, options o)
      : io(server),
        opts(std::move(o)),
        hostname(host_name()),
        pid(static_cast<std::int64_t>(::getpid())),
        sessions(opts.max_sessions, opts.session_duration),
        sampler(detail::engine_totals_of(*server.engine(), server.runtime().size())) {
    server_id = opts.server_id.empty() ? hostname + "#" + std::to_string(pid) : opts.server_id;
    if (!opts.readonly) {
      for (const char* f :
           {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"})
        features.emplace_back(f);
    }
    features.emplace_back("AGGREGATED_EVENTS");
    if (development()) features.emplace_back("ALL_EVENTS");
    for (std::size_t i = 0; i < server.runtime().size(); ++i)
      outboxes.push_back(std::make_unique<outbox>());
    if (opts.auth && !opts.run_check)
      checks = std::make_unique<check_thread>(std::max<std::size_t>(1, opts.max_pending_logins));
  }

  bool development() const noexcept { return opts.mode == mode::development; }

  void start() {
    nsp = &io.of(opts.namespace_name);
    // The UI's credentials never leave the server, whatever the mode (Node's fetchSockets would
    // carry them to the other servers of a cluster).
    nsp->conceal_auth();
    std::weak_ptr<impl> weak = weak_from_this();
    nsp->use([self = shared_from_this()](socketio::socket& s, socketio::next_fn next) {
      self->authenticate(s, std::move(next));
    });
    nsp->on_connection([self = shared_from_this()](const socketio::socket_ptr& s) {
      self->on_admin_connection(s);
    });
    if (development()) io.observe(shared_from_this());
    // The first statistics at once (Node sends them when instrumenting), then every interval, on
    // the first shard.
    boost::asio::post(io.runtime().at(0).executor(), [weak] {
      if (auto self = weak.lock()) self->on_timer(self->io.runtime().at(0).now());
    });
  }

  // -- Login ------------------------------------------------------------------------------------

  void authenticate(socketio::socket& s, socketio::next_fn next) {
    if (!opts.auth) return next(std::nullopt);
    const auto& auth = s.handshake().auth;
    const auto refuse = [&next] {
      next(socketio::connect_error{std::string(invalid_credentials), std::nullopt});
    };
    if (const auto* id = auth.if_contains("sessionId"); id && id->is_string()) {
      if (sessions.valid(id->get_string(), std::chrono::steady_clock::now()))
        return next(std::nullopt);
    }
    const auto* user = auth.if_contains("username");
    const auto* password = auth.if_contains("password");
    if (!user || !user->is_string() || !password || !password->is_string() ||
        !detail::constant_time_equal(user->get_string(), opts.auth->username)) {
      return refuse();
    }
    auto job = [weak = weak_from_this(), target = s.shared_from_this(),
                given = std::string(password->get_string()), hash = opts.auth->password_hash,
                next]() mutable {
      const bool ok = check_password(given, hash);
      // On the socket's shard: the session id goes out before the CONNECT answer, as in Node.
      boost::asio::post(target->home().executor(), [weak, target, ok, next = std::move(next)] {
        auto self = weak.lock();
        if (!self || !ok) {
          return next(socketio::connect_error{std::string(invalid_credentials), std::nullopt});
        }
        target->emit("session", make_args(self->sessions.create(std::chrono::steady_clock::now())));
        next(std::nullopt);
      });
    };
    if (opts.run_check) return opts.run_check(std::move(job));
    if (!checks->submit(std::move(job))) refuse();
  }

  // -- The UI's connection ----------------------------------------------------------------------

  void on_admin_connection(const socketio::socket_ptr& s) {
    if (!opts.readonly) {
      for (const char* event : {"emit", "join", "leave", "_disconnect"}) {
        s->on(event, [weak = weak_from_this(), event](socketio::socket&, socketio::payload& args,
                                                      socketio::ack_responder) {
          if (auto self = weak.lock()) self->run_command(event, args);
        });
      }
    }
    s->emit("config", make_args(json::object{{"supportedFeatures", features}}));
    if (development()) send_all_sockets(s);
  }

  void run_command(std::string_view event, socketio::payload& args) {
    auto c = detail::parse_command(event, std::move(args));
    if (!c) return;
    auto* target = io.find(socketio::normalize_namespace(c->nsp));
    if (!target) return;  // never creates a namespace
    auto op = c->filter.empty() ? target->all() : target->all().to(c->filter);
    switch (c->what) {
      case detail::command::kind::emit:
        op.emit(c->event, std::move(c->args));
        return;
      case detail::command::kind::join:
        op.sockets_join(std::move(c->rooms));
        return;
      case detail::command::kind::leave:
        op.sockets_leave(std::move(c->rooms));
        return;
      case detail::command::kind::disconnect:
        op.disconnect_sockets(c->close);
        return;
    }
  }

  // Every socket of every namespace, through the adapters (so of every server of a cluster).
  void send_all_sockets(const socketio::socket_ptr& s) {
    const auto namespaces = io.namespaces();
    struct gathering {
      std::mutex mutex;
      std::size_t remaining = 0;
      std::vector<json::array> parts;
    };
    auto g = std::make_shared<gathering>();
    g->remaining = namespaces.size();
    g->parts.resize(namespaces.size());
    auto finish = [s, g] {
      json::array all;
      for (auto& part : g->parts) {
        for (auto& v : part)
          all.push_back(std::move(v));
      }
      boost::asio::post(s->home().executor(), [s, all = std::move(all)]() mutable {
        if (s->connected()) s->emit("all_sockets", make_args(std::move(all)));
      });
    };
    for (std::size_t i = 0; i < namespaces.size(); ++i) {
      namespaces[i]->all().fetch_sockets(
          [g, i, name = namespaces[i]->name(), finish](std::vector<socketio::socket_info> found) {
            json::array part;
            part.reserve(found.size());
            for (const auto& f : found)
              part.push_back(detail::serialize_socket(f, name));
            std::unique_lock lock(g->mutex);
            g->parts[i] = std::move(part);
            if (--g->remaining != 0) return;
            lock.unlock();
            finish();
          });
    }
  }

  // -- Statistics (first shard) -----------------------------------------------------------------

  void on_timer(net::clock::time_point now) override {
    if (stopped.load(std::memory_order_relaxed) || now < next_stats) return;
    emit_stats();
    next_stats = now + opts.stats_interval;
    io.runtime().at(0).timers().schedule(next_stats, weak_from_this());
  }

  void emit_stats() {
    const auto shards = io.runtime().size();
    const auto& engine = *io.engine();
    std::int64_t polling = 0;
    for (std::size_t i = 0; i < shards; ++i)
      polling += engine.counters(static_cast<unsigned>(i)).open_polling.get();
    json::array namespaces;
    for (auto* n : io.namespaces())
      namespaces.push_back(json::object{{"name", n->name()}, {"socketsCount", n->stats().sockets}});
    const std::chrono::duration<double> uptime = std::chrono::steady_clock::now() - opts.started;
    json::object stats{
        {"serverId", server_id},
        {"hostname", hostname},
        {"pid", pid},
        {"uptime", uptime.count()},
        {"clientsCount", engine.session_count()},
        {"pollingClientsCount", polling},
        {"aggregatedEvents", sampler.sample(detail::engine_totals_of(engine, shards), wall_ms())},
        {"namespaces", std::move(namespaces)},
    };
    nsp->emit("server_stats", make_args(std::move(stats)));
  }

  // -- Development mode: every socket's doings ----------------------------------------------------

  struct alignas(64) outbox {
    std::vector<std::pair<std::string_view, socketio::payload>> events;
    bool flush_posted = false;
    // This shard's share of max_events_per_second, for the second ending at window_end.
    net::clock::time_point window_end{};
    std::size_t budget = 0;
  };

  // How many of `wanted` event_received/event_sent messages shard `shard` may send now; the rest
  // are counted as not sent.
  std::size_t take_budget(socketio::socket& on, std::size_t wanted) {
    if (opts.max_events_per_second == 0) return wanted;
    auto& box = *outboxes[on.home().index()];
    const auto now = on.home().now();
    if (now >= box.window_end) {
      box.window_end = now + std::chrono::seconds(1);
      box.budget = std::max<std::size_t>(1, opts.max_events_per_second / outboxes.size());
    }
    const auto granted = std::min(wanted, box.budget);
    box.budget -= granted;
    if (granted < wanted) dropped.fetch_add(wanted - granted, std::memory_order_relaxed);
    return granted;
  }

  // Queued on the socket's shard, sent after the work that caused them (the observer may not call
  // back into the server from inside it).
  void queue(unsigned shard, std::string_view event, socketio::payload args) {
    auto& box = *outboxes[shard];
    if (box.events.size() >= max_outbox) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    box.events.emplace_back(event, std::move(args));
    if (box.flush_posted) return;
    box.flush_posted = true;
    boost::asio::post(io.runtime().at(shard).executor(), [weak = weak_from_this(), shard] {
      if (auto self = weak.lock()) self->flush(shard);
    });
  }

  void flush(unsigned shard) {
    auto& box = *outboxes[shard];
    box.flush_posted = false;
    auto events = std::move(box.events);
    box.events.clear();
    for (auto& [event, args] : events)
      nsp->emit(event, std::move(args));
  }

  bool ignored() const noexcept { return stopped.load(std::memory_order_relaxed); }

  json::value data_of(const socketio::socket& s) const {
    return opts.socket_data ? opts.socket_data(s) : s.data;
  }

  static json::value transport_of(const socketio::socket& s) {
    return json::value(engineio::to_string(s.transport()));
  }

  void on_connect(socketio::socket& s) override {
    if (ignored()) return;
    queue(s.home().index(), "socket_connected",
          make_args(detail::serialize_socket(s.info(), s.nsp().name()), iso_time()));
  }

  void on_disconnect(socketio::socket& s, socketio::disconnect_reason reason,
                     const std::vector<std::string>& rooms) override {
    if (ignored()) return;
    const auto shard = s.home().index();
    const auto now = iso_time();
    queue(shard, "socket_disconnected",
          make_args(s.nsp().name(), s.id(), socketio::to_string(reason), now));
    // Node reports the rooms left after the disconnect (process.nextTick).
    for (const auto& r : rooms)
      queue(shard, "room_left", make_args(s.nsp().name(), r, s.id(), now));
  }

  void on_join(socketio::socket& s, std::string_view room) override {
    if (ignored()) return;
    queue(s.home().index(), "room_joined", make_args(s.nsp().name(), room, s.id(), iso_time()));
  }

  void on_leave(socketio::socket& s, std::string_view room) override {
    if (ignored()) return;
    queue(s.home().index(), "room_left", make_args(s.nsp().name(), room, s.id(), iso_time()));
  }

  void on_upgrade(socketio::socket& s) override {
    if (ignored()) return;
    queue(s.home().index(), "socket_updated",
          make_args(json::object{
              {"id", s.id()}, {"nsp", s.nsp().name()}, {"transport", transport_of(s)}}));
  }

  void on_event_received(socketio::socket& s, std::string_view event,
                         const socketio::payload& args) override {
    if (ignored() || &s.nsp() == nsp || take_budget(s, 1) == 0) return;
    json::array data;
    data.reserve(args.args.size() + 1);
    data.emplace_back(event);
    for (const auto& v : args.args)
      data.push_back(v);
    socketio::payload out(json::array{s.nsp().name(), s.id(), std::move(data), iso_time()},
                          args.attachments);
    queue(s.home().index(), "event_received", std::move(out));
  }

  void on_events_sent(socketio::namespace_& where, const socketio::packet& p,
                      std::span<socketio::socket* const> recipients) override {
    if (ignored() || &where == nsp || recipients.empty() || !p.data) return;
    const auto shard = recipients.front()->home().index();
    const auto granted = take_budget(*recipients.front(), recipients.size());
    if (granted == 0) return;
    const auto now = iso_time();
    for (auto* s : recipients.first(granted)) {
      socketio::payload out(json::array{where.name(), s->id(), *p.data, now}, p.attachments);
      queue(shard, "event_sent", std::move(out));
    }
  }

  void on_info(const socketio::socket& s, socketio::socket_info& info) override {
    // As Node's instrument() keeps them in socket.data: where the UI of any server of a cluster
    // finds the client id and the transport.
    json::object data;
    auto own = data_of(s);
    if (own.is_object()) {
      data = std::move(own.get_object());
    } else if (!own.is_null()) {
      data["data"] = std::move(own);
    }
    data["_admin"] =
        json::object{{"clientId", s.engine_id().substr(0, 12)}, {"transport", transport_of(s)}};
    info.data = std::move(data);
  }

  void socket_updated(const socketio::socket& s) {
    if (!development() || ignored()) return;
    queue(s.home().index(), "socket_updated",
          make_args(json::object{{"id", s.id()},
                                 {"nsp", s.nsp().name()},
                                 {"data", detail::serialize_data(data_of(s))}}));
  }

  socketio::server& io;
  options opts;
  std::string hostname;
  std::int64_t pid;
  std::string server_id;
  detail::session_store sessions;
  std::unique_ptr<check_thread> checks;
  json::array features;
  socketio::namespace_* nsp = nullptr;
  detail::traffic_sampler sampler;  // first shard only
  net::clock::time_point next_stats{};
  std::vector<std::unique_ptr<outbox>> outboxes;
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<bool> stopped{false};
};

instrument::instrument(socketio::server& io, options o) {
  if (o.auth && !is_bcrypt_hash(o.auth->password_hash))
    throw std::invalid_argument(
        "the admin password hash must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)");
  o.namespace_name = socketio::normalize_namespace(std::move(o.namespace_name));
  if (o.namespace_name == "/")
    throw std::invalid_argument("the admin namespace cannot be the main namespace \"/\"");
  if (o.stats_interval <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("the statistics interval must be positive");
  impl_ = std::make_shared<impl>(io, std::move(o));
  impl_->start();
}

instrument::~instrument() {
  impl_->stopped = true;
}

void instrument::socket_updated(const socketio::socket& s) {
  impl_->socket_updated(s);
}

const options& instrument::config() const noexcept {
  return impl_->opts;
}

std::uint64_t instrument::events_not_sent() const noexcept {
  return impl_->dropped.load(std::memory_order_relaxed);
}

}  // namespace ignis::admin
