#include "redis/cluster_connection.hpp"

#include "redis/resp_encoder.hpp"

#include <algorithm>
#include <stdexcept>

namespace ignis::redis::detail {
namespace {

std::string describe(error_code ec, const reply& r) {
  if (ec == error::server_error) return "answered \"" + r.str.substr(0, 200) + "\"";
  return ec.message();
}

std::string map_summary(const slot_map& m) {
  std::string out = std::to_string(m.masters().size()) + " master" +
                    (m.masters().size() == 1 ? "" : "s") + " serve " + std::to_string(m.covered()) +
                    " of 16384 slots:";
  for (const auto& n : m.masters())
    out += " " + n.to_string() + " (" + std::to_string(m.slots_of(n)) + ")";
  if (!m.replicas().empty()) out += "; " + std::to_string(m.replicas().size()) + " replicas";
  return out;
}

}  // namespace

void log_to(const config& cfg, std::string_view level, const std::string& message) {
  if (!cfg.log) return;
  try {
    cfg.log(level, message);
  } catch (...) {  // a logger must not break Redis
  }
}

config node_config(const config& cluster_cfg, const parsed_url& seed, const node_address& node) {
  config c = cluster_cfg;
  c.url = url_for(seed, node.host, node.port);
  c.cluster = cluster_mode::off;
  c.log = {};
  return c;
}

bool may_guess_standalone(const config& cfg, std::size_t seeds) noexcept {
  return cfg.cluster == cluster_mode::automatic && seeds == 1;
}

void ask_topology(const std::shared_ptr<connection_impl>& conn, const node_address& node, bool tls,
                  bool guess_standalone, std::function<void(topology_result)> done) {
  conn->command({"CLUSTER", "SHARDS"}, [conn, node, tls, guess_standalone, done = std::move(done)](
                                           error_code ec, reply r) mutable {
    if (!ec) return done(parse_cluster_shards(r, node, tls));
    if (ec == error::server_error &&
        (is_cluster_disabled(r.str) || (guess_standalone && is_cluster_command_refused(r.str)))) {
      return done(slot_map::single(node));
    }
    if (ec == error::server_error && is_unknown_subcommand(r.str)) {
      // Redis before 7.0.
      conn->command({"CLUSTER", "SLOTS"},
                    [node, done = std::move(done)](error_code ec2, reply r2) mutable {
                      if (!ec2) return done(parse_cluster_slots(r2, node));
                      done(node.to_string() + " " + describe(ec2, r2) + " to CLUSTER SLOTS");
                    });
      return;
    }
    done(node.to_string() + " " + describe(ec, r) + " to CLUSTER SHARDS");
  });
}

// A command on its way: encoded once, sent again as redirections ask.
struct cluster_connection_impl::op {
  std::shared_ptr<const std::string> bytes;
  connection::completion done;
  route where;
  unsigned redirects = 0;
  clock::time_point deadline;
  std::optional<asio::steady_timer> timer;
  bool finished = false;
};

std::shared_ptr<cluster_connection_impl> cluster_connection_impl::create(asio::any_io_executor ex,
                                                                         config cfg) {
  auto seeds = parse_seeds(cfg.url);
  if (!seeds) throw std::invalid_argument("ignis::redis: invalid Redis seed URLs: " + cfg.url);
  return std::shared_ptr<cluster_connection_impl>(
      new cluster_connection_impl(std::move(ex), std::move(cfg), std::move(*seeds)));
}

cluster_connection_impl::cluster_connection_impl(asio::any_io_executor ex, config cfg,
                                                 std::vector<parsed_url> seeds)
    : cfg_(std::move(cfg)),
      seeds_(std::move(seeds)),
      strand_(asio::make_strand(ex)),
      schedule_(refresh_schedule::within_bounds(cfg_.reconnect_min, cfg_.reconnect_max)),
      refresh_timer_(strand_),
      periodic_timer_(strand_) {}

cluster_connection_impl::~cluster_connection_impl() = default;

void cluster_connection_impl::start() {
  run([this] {
    if (started_ || closed_) return;
    started_ = true;
    // The first seed takes commands until the map says where they go.
    node_for({seeds_.front().host, seeds_.front().port});
    request_refresh();
    arm_periodic();
    publish_status();
  });
}

void cluster_connection_impl::close() {
  {
    std::lock_guard lk(callbacks_mutex_);
    silenced_ = true;
  }
  state_.store(link_state::closed, std::memory_order_release);
  run([this] {
    if (closed_) return;
    closed_ = true;
    refresh_timer_.cancel();
    periodic_timer_.cancel();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (const auto& o : waiting)
      finish(o, make_error_code(error::closed), {});
    // Commands in flight on a node fail with error::closed through their completions.
    for (auto& [addr, n] : nodes_)
      n.conn->close();
    nodes_.clear();
    publish_status();
  });
}

void cluster_connection_impl::on_state(std::function<void(link_state)> fn) {
  std::lock_guard lk(callbacks_mutex_);
  on_state_ = std::move(fn);
}

cluster_status cluster_connection_impl::status() const {
  std::lock_guard lk(status_mutex_);
  return status_;
}

void cluster_connection_impl::command(std::vector<std::string> args, connection::completion done) {
  run([this, args = std::move(args), done = std::move(done)]() mutable {
    if (closed_) {
      if (done) done(make_error_code(error::closed), {});
      return;
    }
    if (args.empty()) {
      if (done)
        done(make_error_code(error::server_error),
             reply{reply::kind::error, "ERR empty command", 0, {}});
      return;
    }
    if (in_flight_ >= cfg_.max_pending) {
      if (done) done(make_error_code(error::too_many_pending), {});
      return;
    }
    auto o = std::make_shared<op>();
    o->where = route_of(args);
    auto bytes = std::make_shared<std::string>();
    encode_command(*bytes, args);
    o->bytes = std::move(bytes);
    o->done = std::move(done);
    o->deadline = clock::now() + cfg_.command_timeout;
    ++in_flight_;
    dispatch(o, std::nullopt, false);
  });
}

void cluster_connection_impl::command_all(std::vector<std::string> args, all_done done) {
  run([this, args = std::move(args), done = std::move(done)]() mutable {
    std::vector<node_address> targets;
    if (kind_ != cluster_status::topology::unknown) {
      targets = map_.masters();
    } else {
      targets.push_back({seeds_.front().host, seeds_.front().port});
    }
    if (closed_ || targets.empty()) {
      if (done) done({});
      return;
    }
    struct gather {
      std::vector<std::pair<error_code, reply>> results;
      std::size_t left = 0;
      all_done done;
    };
    auto g = std::make_shared<gather>();
    g->results.resize(targets.size());
    g->left = targets.size();
    g->done = std::move(done);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      node_for(targets[i])
          .conn->command(args,
                         [this, self = shared_from_this(), g, i](error_code ec, reply r) mutable {
                           later([g, i, ec, r = std::move(r)]() mutable {
                             g->results[i] = {ec, std::move(r)};
                             if (--g->left == 0 && g->done) g->done(std::move(g->results));
                           });
                         });
    }
  });
}

cluster_connection_impl::node& cluster_connection_impl::node_for(const node_address& addr) {
  auto it = nodes_.find(addr);
  if (it != nodes_.end()) return it->second;
  node n;
  n.conn = connection_impl::create(strand_, node_config(cfg_, seeds_.front(), addr));
  std::weak_ptr<cluster_connection_impl> weak = shared_from_this();
  n.conn->on_state([weak, addr](link_state s) {
    if (auto self = weak.lock()) self->later([self, addr, s] { self->on_node_state(addr, s); });
  });
  n.conn->start();
  return nodes_.emplace(addr, std::move(n)).first->second;
}

bool cluster_connection_impl::connected(const node_address& addr) const {
  const auto it = nodes_.find(addr);
  return it != nodes_.end() && it->second.state == link_state::connected;
}

std::optional<node_address> cluster_connection_impl::pick(const route& r) const {
  if (kind_ == cluster_status::topology::unknown) {
    return node_address{seeds_.front().host, seeds_.front().port};
  }
  const auto& masters = map_.masters();
  auto any_master = [&]() -> std::optional<node_address> {
    for (const auto& m : masters)
      if (connected(m)) return m;
    if (!masters.empty()) return masters.front();
    return std::nullopt;
  };
  switch (r.how) {
    case route::kind::any:
      return any_master();
    case route::kind::slot:
      if (const auto* m = map_.master_of(r.slot)) return *m;
      return std::nullopt;
    case route::kind::slot_or_any:
      if (const auto* m = map_.master_of(r.slot); m && connected(*m)) return *m;
      return any_master();
  }
  return std::nullopt;
}

void cluster_connection_impl::dispatch(const std::shared_ptr<op>& o,
                                       std::optional<node_address> target, bool asking) {
  if (closed_) return finish(o, make_error_code(error::closed), {});
  if (!target) target = pick(o->where);
  if (!target) {
    request_refresh();
    return finish(o, make_error_code(error::cluster_down), {});
  }
  auto& n = node_for(*target);
  if (asking) n.conn->command({"ASKING"}, {});
  n.conn->command_bytes(o->bytes, [this, self = shared_from_this(), o, from = *target](
                                      error_code ec, reply r) mutable {
    later([this, o, from, ec, r = std::move(r)]() mutable { on_reply(o, from, ec, std::move(r)); });
  });
}

void cluster_connection_impl::on_reply(const std::shared_ptr<op>& o, const node_address& from,
                                       error_code ec, reply r) {
  if (ec == error::server_error) {
    if (auto redir = parse_redirect(r.str, from)) {
      if (auto it = nodes_.find(from); it != nodes_.end()) {
        if (redir->kind == redirect_kind::moved) ++it->second.moved;
        if (redir->kind == redirect_kind::ask) ++it->second.ask;
      }
      const auto now = clock::now();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(o->deadline - now);
      redirect_limits limits;
      limits.max_redirects = cfg_.max_redirects;
      const auto d = decide(*redir, o->redirects, left, limits);
      if (redir->kind == redirect_kind::moved) {
        // Route the slot's next commands there at once; the whole map follows.
        map_.move(redir->slot, redir->target);
      }
      if (d.refresh) request_refresh();
      publish_status();
      switch (d.what) {
        case redirect_decision::action::fail:
          if (o->redirects >= cfg_.max_redirects) {
            log_to(cfg_, "warn",
                   "Redis Cluster: a command was redirected " + std::to_string(o->redirects + 1) +
                       " times, last by " + from.to_string() + " (" + r.str.substr(0, 100) +
                       "); giving up on it");
            return finish(o, make_error_code(error::too_many_redirects), std::move(r));
          }
          return finish(o, ec, std::move(r));
        case redirect_decision::action::resend:
          ++o->redirects;
          return dispatch(o, d.target, d.asking);
        case redirect_decision::action::wait: {
          ++o->redirects;
          o->timer.emplace(strand_);
          o->timer->expires_after(d.delay);
          waiting_.insert(o);
          o->timer->async_wait([this, self = shared_from_this(), o](error_code tec) {
            if (waiting_.erase(o) == 0) return;  // failed by close()
            if (tec) return finish(o, make_error_code(error::closed), {});
            dispatch(o, std::nullopt, false);
          });
          return;
        }
      }
    }
  }
  const bool cluster = kind_ == cluster_status::topology::cluster;
  if (cluster &&
      (ec == error::not_connected || ec == error::disconnected || ec == error::timeout)) {
    // The node may be gone: find out who serves its slots now.
    request_refresh();
    // Never sent (its node was down when it came): a PUBLISH or a keyless command may go to
    // another master. One that may have reached its node is never sent twice.
    if (ec == error::not_connected && o->where.how != route::kind::slot &&
        o->redirects < cfg_.max_redirects) {
      for (const auto& m : map_.masters()) {
        if (m != from && connected(m)) {
          ++o->redirects;
          return dispatch(o, m, false);
        }
      }
    }
  }
  finish(o, ec, std::move(r));
}

void cluster_connection_impl::finish(const std::shared_ptr<op>& o, error_code ec, reply r) {
  if (o->finished) return;
  o->finished = true;
  --in_flight_;
  if (o->done) o->done(ec, std::move(r));
}

void cluster_connection_impl::request_refresh() {
  if (closed_ || !started_) return;
  const auto delay = schedule_.request(clock::now());
  if (!delay) return;
  refresh_timer_.expires_after(*delay);
  refresh_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
    if (ec || closed_) return;
    start_refresh();
  });
}

void cluster_connection_impl::start_refresh() {
  schedule_.started(clock::now());
  // Who to ask: a connected master first, then the seeds, then any node known; after a failure
  // the next one in that order.
  std::vector<node_address> candidates;
  for (const auto& m : map_.masters())
    if (connected(m)) candidates.push_back(m);
  for (const auto& s : seeds_) {
    node_address a{s.host, s.port};
    if (std::find(candidates.begin(), candidates.end(), a) == candidates.end())
      candidates.push_back(std::move(a));
  }
  for (const auto& m : map_.masters())
    if (std::find(candidates.begin(), candidates.end(), m) == candidates.end())
      candidates.push_back(m);
  const auto from = candidates[candidate_ % candidates.size()];
  ask_topology(node_for(from).conn, from, seeds_.front().tls,
               may_guess_standalone(cfg_, seeds_.size()),
               [this, self = shared_from_this(), from](topology_result result) mutable {
                 later([this, from, result = std::move(result)]() mutable {
                   on_topology(from, std::move(result));
                 });
               });
}

void cluster_connection_impl::on_topology(const node_address&, topology_result result) {
  if (closed_) return;
  if (result) {
    apply(std::move(*result));
    last_error_.clear();
  } else {
    ++candidate_;
    {
      std::lock_guard lk(status_mutex_);
      ++status_.refresh_failures;
    }
    if (result.error() != last_error_) {
      last_error_ = result.error();
      log_to(cfg_, "warn",
             "Redis Cluster: no usable map of slots: " + last_error_ + "; asking again");
    }
  }
  const bool ok = result && healthy();
  if (const auto again = schedule_.finished(clock::now(), ok)) {
    refresh_timer_.expires_after(*again);
    refresh_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
      if (ec || closed_) return;
      start_refresh();
    });
  } else if (!ok && kind_ != cluster_status::topology::standalone) {
    // Still degraded: ask again, later each time.
    request_refresh();
  }
  // The status first: whoever the state change wakes may read it.
  publish_status();
  update_state();
}

bool cluster_connection_impl::healthy() const {
  if (kind_ == cluster_status::topology::standalone) return true;
  if (kind_ == cluster_status::topology::unknown) return false;
  if (map_.covered() != slot_count) return false;
  for (const auto& m : map_.masters()) {
    const auto it = nodes_.find(m);
    if (it == nodes_.end() || it->second.state == link_state::degraded) return false;
  }
  return true;
}

void cluster_connection_impl::apply(slot_map map) {
  const auto kind =
      map.standalone() ? cluster_status::topology::standalone : cluster_status::topology::cluster;
  const bool changed = kind != kind_ || !(map == map_);
  if (changed) {
    if (kind == cluster_status::topology::standalone) {
      log_to(cfg_, cfg_.cluster == cluster_mode::on ? "warn" : "info",
             "Redis at " + map.masters().front().to_string() +
                 " is not a cluster: used as one server");
    } else {
      log_to(cfg_, "info", "Redis Cluster: " + map_summary(map));
    }
  }
  kind_ = kind;
  map_ = std::move(map);
  for (const auto& m : map_.masters())
    node_for(m);
  // Nodes that serve nothing (a replica or seed that answered, a master that failed over) are
  // not kept; what was in flight on them fails with error::closed.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (map_.is_master(it->first)) {
      ++it;
      continue;
    }
    it->second.conn->close();
    it = nodes_.erase(it);
  }
  {
    std::lock_guard lk(status_mutex_);
    status_.last_refresh = clock::now();
    ++status_.refreshes;
  }
}

void cluster_connection_impl::on_node_state(const node_address& addr, link_state s) {
  const auto it = nodes_.find(addr);
  if (it == nodes_.end() || closed_) return;
  const auto before = it->second.state;
  it->second.state = s;
  if (s == link_state::degraded && before != link_state::degraded) {
    const auto why = it->second.conn->last_failure();
    log_to(cfg_, "warn",
           "Redis node " + addr.to_string() + " unreachable" +
               (why ? " (" + why.message() + ")" : std::string()) + "; reconnecting");
    if (kind_ != cluster_status::topology::standalone) request_refresh();
  } else if (s == link_state::connected && before == link_state::degraded) {
    log_to(cfg_, "info", "Redis node " + addr.to_string() + " connected again");
  }
  publish_status();
  update_state();
}

void cluster_connection_impl::arm_periodic() {
  if (cfg_.topology_refresh_interval.count() <= 0 || closed_) return;
  periodic_timer_.expires_after(cfg_.topology_refresh_interval);
  periodic_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
    if (ec || closed_) return;
    if (kind_ != cluster_status::topology::standalone) request_refresh();
    arm_periodic();
  });
}

void cluster_connection_impl::update_state() {
  if (closed_) return;
  link_state s = link_state::connecting;
  if (kind_ != cluster_status::topology::unknown && healthy()) {
    bool all = true;
    for (const auto& m : map_.masters())
      all = all && connected(m);
    s = all ? link_state::connected : (ever_connected_ ? link_state::degraded : s);
  } else {
    bool any_degraded = false;
    for (const auto& [addr, n] : nodes_)
      any_degraded = any_degraded || n.state == link_state::degraded;
    if (ever_connected_ || any_degraded || !last_error_.empty()) s = link_state::degraded;
  }
  if (s == link_state::connected) ever_connected_ = true;
  set_state(s);
}

void cluster_connection_impl::set_state(link_state s) {
  link_state current = state_.load(std::memory_order_acquire);
  do {
    if (current == s || current == link_state::closed) return;
  } while (!state_.compare_exchange_weak(current, s, std::memory_order_acq_rel));
  std::lock_guard lk(callbacks_mutex_);
  if (silenced_) return;
  if (auto fn = on_state_) fn(s);
}

void cluster_connection_impl::publish_status() {
  cluster_status st;
  {
    std::lock_guard lk(status_mutex_);
    st.last_refresh = status_.last_refresh;
    st.refreshes = status_.refreshes;
    st.refresh_failures = status_.refresh_failures;
  }
  st.kind = kind_;
  st.last_error = last_error_;
  for (const auto& [addr, n] : nodes_) {
    st.nodes.push_back(
        {addr.to_string(),
         kind_ == cluster_status::topology::unknown ? std::size_t{0} : map_.slots_of(addr),
         closed_ ? link_state::closed : n.state, n.moved, n.ask});
  }
  std::lock_guard lk(status_mutex_);
  status_ = std::move(st);
}

}  // namespace ignis::redis::detail
