#include "redis/cluster_subscriber.hpp"

#include <algorithm>
#include <stdexcept>

namespace ignis::redis::detail {

std::shared_ptr<cluster_subscriber_impl> cluster_subscriber_impl::create(asio::any_io_executor ex,
                                                                         config cfg) {
  auto seeds = parse_seeds(cfg.url);
  if (!seeds) throw std::invalid_argument("ignis::redis: invalid Redis seed URLs: " + cfg.url);
  return std::shared_ptr<cluster_subscriber_impl>(
      new cluster_subscriber_impl(std::move(ex), std::move(cfg), std::move(*seeds)));
}

cluster_subscriber_impl::cluster_subscriber_impl(asio::any_io_executor ex, config cfg,
                                                 std::vector<parsed_url> seeds)
    : cfg_(std::move(cfg)),
      seeds_(std::move(seeds)),
      strand_(asio::make_strand(ex)),
      schedule_(refresh_schedule::within_bounds(cfg_.reconnect_min, cfg_.reconnect_max)),
      refresh_timer_(strand_),
      periodic_timer_(strand_) {}

cluster_subscriber_impl::~cluster_subscriber_impl() = default;

void cluster_subscriber_impl::start() {
  run([this] {
    if (started_ || closed_) return;
    started_ = true;
    request_refresh();
    arm_periodic();
    publish_status();
  });
}

void cluster_subscriber_impl::close() {
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
    if (probe_) probe_->close();
    probe_.reset();
    for (auto& [addr, l] : links_)
      l.sub->close();
    links_.clear();
    publish_status();
  });
}

void cluster_subscriber_impl::on_message(subscriber::message_handler fn) {
  std::lock_guard lk(callbacks_mutex_);
  on_message_ = std::make_shared<const subscriber::message_handler>(std::move(fn));
}

void cluster_subscriber_impl::on_subscription(subscription_handler fn) {
  std::lock_guard lk(callbacks_mutex_);
  on_subscription_ = std::make_shared<const subscription_handler>(std::move(fn));
}

void cluster_subscriber_impl::on_state(std::function<void(link_state)> fn) {
  std::lock_guard lk(callbacks_mutex_);
  on_state_ = std::move(fn);
}

cluster_status cluster_subscriber_impl::status() const {
  std::lock_guard lk(status_mutex_);
  return status_;
}

void cluster_subscriber_impl::change(subscription_kind kind, std::string name, bool wanted) {
  run([this, kind, name = std::move(name), wanted] {
    if (closed_) return;
    auto& set = kind == subscription_kind::channel   ? channels_
                : kind == subscription_kind::pattern ? patterns_
                                                     : shards_;
    const bool changed = wanted ? set.insert(name).second : set.erase(name) > 0;
    if (!changed) return;
    const auto links_before = links_.size();
    if (kind == subscription_kind::shard_channel) {
      if (wanted) {
        place_shard(name);
      } else {
        displaced_.erase(name);
        if (const auto it = shard_home_.find(name); it != shard_home_.end()) {
          if (const auto l = links_.find(it->second); l != links_.end())
            l->second.sub->change(kind, name, false);
          shard_home_.erase(it);
        }
        drop_unused_links();
      }
    } else if (classic_home_) {
      if (wanted) {
        link_for(*classic_home_).sub->change(kind, name, true);
      } else if (const auto l = links_.find(*classic_home_); l != links_.end()) {
        l->second.sub->change(kind, name, false);
        drop_unused_links();
      }
    }
    // Without a map yet, what is wanted is placed once it comes.
    update_state();
    if (links_.size() != links_before) publish_status();
  });
}

cluster_subscriber_impl::node_link& cluster_subscriber_impl::link_for(const node_address& addr) {
  auto it = links_.find(addr);
  if (it != links_.end()) return it->second;
  node_link l;
  l.sub = subscriber_impl::create(strand_, node_config(cfg_, seeds_.front(), addr));
  std::weak_ptr<cluster_subscriber_impl> weak = shared_from_this();
  // Messages go straight through: the link runs within our strand, and they touch nothing here.
  l.sub->on_message(
      [weak](std::string_view pattern, std::string_view channel, std::string_view payload) {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lk(self->callbacks_mutex_);
        if (self->silenced_) return;
        if (auto fn = self->on_message_; fn && *fn) (*fn)(pattern, channel, payload);
      });
  l.sub->on_subscription([weak, addr](subscription_kind kind, std::string_view name, bool active) {
    if (auto self = weak.lock())
      self->later([self, addr, kind, name = std::string(name), active] {
        self->on_link_subscription(addr, kind, name, active);
      });
  });
  l.sub->on_state([weak, addr](link_state s) {
    if (auto self = weak.lock()) self->later([self, addr, s] { self->on_link_state(addr, s); });
  });
  l.sub->on_displaced([weak, addr](const std::string& channel, bool moved) {
    if (auto self = weak.lock())
      self->later([self, addr, channel, moved] { self->on_displaced(addr, channel, moved); });
  });
  l.sub->start();
  return links_.emplace(addr, std::move(l)).first->second;
}

bool cluster_subscriber_impl::link_connected(const node_address& addr) const {
  const auto it = links_.find(addr);
  return it != links_.end() && it->second.state == link_state::connected;
}

void cluster_subscriber_impl::place_shard(const std::string& channel) {
  if (kind_ == cluster_status::topology::unknown) return;
  const auto* owner = map_.master_of(key_slot(channel));
  const auto home = shard_home_.find(channel);
  if (owner == nullptr) {
    // No node serves the slot (yet): it stays where it is, and counts as out of place.
    displaced_.insert(channel);
    return;
  }
  if (home != shard_home_.end() && home->second == *owner) {
    // Taken away or refused by the node that, by the new map, serves it after all (a map that
    // is a step behind, a slot back where it was): ask again, later each time.
    if (displaced_.count(channel) > 0) link_for(*owner).sub->resubscribe(channel);
    return;
  }
  if (home != shard_home_.end()) {
    if (const auto l = links_.find(home->second); l != links_.end())
      l->second.sub->change(subscription_kind::shard_channel, channel, false);
  }
  link_for(*owner).sub->change(subscription_kind::shard_channel, channel, true);
  shard_home_[channel] = *owner;
  displaced_.erase(channel);
}

void cluster_subscriber_impl::place_classic() {
  if (kind_ == cluster_status::topology::unknown) return;
  const auto& masters = map_.masters();
  const bool keep = classic_home_ && map_.is_master(*classic_home_) &&
                    !(links_.count(*classic_home_) > 0 &&
                      links_.at(*classic_home_).state == link_state::degraded);
  std::optional<node_address> next = classic_home_;
  if (!keep) {
    // Another master we are connected to, else one not tried yet, else stay (its link retries
    // by itself) if it is still a master, else the first master.
    next.reset();
    for (const auto& m : masters)
      if (m != classic_home_ && link_connected(m)) {
        next = m;
        break;
      }
    if (!next)
      for (const auto& m : masters)
        if (m != classic_home_ && links_.count(m) == 0) {
          next = m;
          break;
        }
    if (!next && classic_home_ && map_.is_master(*classic_home_)) next = classic_home_;
    if (!next && !masters.empty()) next = masters.front();
  }
  if (next == classic_home_) return;
  const bool wanted = !channels_.empty() || !patterns_.empty();
  if (classic_home_ && wanted) {
    if (const auto l = links_.find(*classic_home_); l != links_.end()) {
      // Unsubscribed there first: never subscribed on two nodes at once (duplicates).
      for (const auto& c : channels_)
        l->second.sub->change(subscription_kind::channel, c, false);
      for (const auto& p : patterns_)
        l->second.sub->change(subscription_kind::pattern, p, false);
    }
    log_to(cfg_, "info",
           "Redis Cluster: channels and patterns move from " + classic_home_->to_string() + " to " +
               (next ? next->to_string() : std::string("nowhere")));
  }
  classic_home_ = next;
  if (!next || !wanted) return;
  auto& l = link_for(*next);
  for (const auto& c : channels_)
    l.sub->change(subscription_kind::channel, c, true);
  for (const auto& p : patterns_)
    l.sub->change(subscription_kind::pattern, p, true);
}

void cluster_subscriber_impl::drop_unused_links() {
  const bool classic_wanted = !channels_.empty() || !patterns_.empty();
  for (auto it = links_.begin(); it != links_.end();) {
    bool used = classic_wanted && classic_home_ == it->first;
    for (const auto& [ch, home] : shard_home_) {
      if (used) break;
      used = home == it->first;
    }
    if (used) {
      ++it;
      continue;
    }
    it->second.sub->close();
    it = links_.erase(it);
  }
}

void cluster_subscriber_impl::on_link_subscription(const node_address& addr, subscription_kind kind,
                                                   const std::string& name, bool active) {
  if (closed_) return;
  bool here = false;
  bool wanted = false;
  if (kind == subscription_kind::shard_channel) {
    const auto it = shard_home_.find(name);
    here = it != shard_home_.end() && it->second == addr;
    wanted = shards_.count(name) > 0;
    if (here && active && displaced_.erase(name) > 0) update_state();
  } else {
    here = classic_home_ == addr;
    wanted = (kind == subscription_kind::channel ? channels_ : patterns_).count(name) > 0;
  }
  // What a link we moved away from says about it is no news to the user.
  if (!here && (active || wanted)) return;
  std::lock_guard lk(callbacks_mutex_);
  if (silenced_) return;
  if (auto fn = on_subscription_; fn && *fn) (*fn)(kind, name, active);
}

void cluster_subscriber_impl::on_displaced(const node_address& addr, const std::string& channel,
                                           bool moved) {
  if (closed_) return;
  const auto l = links_.find(addr);
  if (l == links_.end()) return;
  if (moved) ++l->second.moved;
  const auto home = shard_home_.find(channel);
  if (shards_.count(channel) == 0 || home == shard_home_.end() || home->second != addr) return;
  displaced_.insert(channel);
  request_refresh();
  // The status first: whoever the state change wakes may read it.
  publish_status();
  update_state();
}

void cluster_subscriber_impl::on_link_state(const node_address& addr, link_state s) {
  const auto it = links_.find(addr);
  if (it == links_.end() || closed_) return;
  const auto before = it->second.state;
  it->second.state = s;
  if (s == link_state::degraded && before != link_state::degraded) {
    const auto why = it->second.sub->last_failure();
    log_to(cfg_, "warn",
           "Redis node " + addr.to_string() + " unreachable for subscriptions" +
               (why ? " (" + why.message() + ")" : std::string()) + "; reconnecting");
    if (kind_ != cluster_status::topology::standalone) request_refresh();
  } else if (s == link_state::connected && before == link_state::degraded) {
    log_to(cfg_, "info", "Redis node " + addr.to_string() + " subscribed again");
  }
  publish_status();
  update_state();
}

void cluster_subscriber_impl::request_refresh() {
  if (closed_ || !started_) return;
  const auto delay = schedule_.request(clock::now());
  if (!delay) return;
  refresh_timer_.expires_after(*delay);
  refresh_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
    if (ec || closed_) return;
    start_refresh();
  });
}

void cluster_subscriber_impl::start_refresh() {
  schedule_.started(clock::now());
  std::vector<node_address> candidates;
  auto add = [&](const node_address& a) {
    if (std::find(candidates.begin(), candidates.end(), a) == candidates.end())
      candidates.push_back(a);
  };
  for (const auto& m : map_.masters())
    if (link_connected(m)) add(m);
  for (const auto& s : seeds_)
    add({s.host, s.port});
  for (const auto& m : map_.masters())
    add(m);
  for (const auto& r : map_.replicas())
    add(r);
  const auto from = candidates[candidate_ % candidates.size()];
  if (!probe_ || probe_addr_ != from) {
    if (probe_) probe_->close();
    probe_ = connection_impl::create(strand_, node_config(cfg_, seeds_.front(), from));
    probe_->start();
    probe_addr_ = from;
  }
  ask_topology(probe_, from, seeds_.front().tls, may_guess_standalone(cfg_, seeds_.size()),
               [this, self = shared_from_this(), from](topology_result result) mutable {
                 later([this, from, result = std::move(result)]() mutable {
                   on_topology(from, std::move(result));
                 });
               });
}

void cluster_subscriber_impl::on_topology(const node_address&, topology_result result) {
  if (closed_) return;
  if (result) {
    apply(std::move(*result));
    last_error_.clear();
  } else {
    ++candidate_;
    // A new connection for the next one asked (also when it is the same node: this one may
    // be stuck).
    if (probe_) probe_->close();
    probe_.reset();
    {
      std::lock_guard lk(status_mutex_);
      ++status_.refresh_failures;
    }
    if (result.error() != last_error_) {
      last_error_ = result.error();
      log_to(cfg_, "warn",
             "Redis Cluster: no usable map of slots for the subscriptions: " + last_error_ +
                 "; asking again");
    }
  }
  const bool ok = result && settled();
  if (const auto again = schedule_.finished(clock::now(), ok)) {
    refresh_timer_.expires_after(*again);
    refresh_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
      if (ec || closed_) return;
      start_refresh();
    });
  } else if (!ok) {
    request_refresh();
  }
  publish_status();
  update_state();
}

void cluster_subscriber_impl::apply(slot_map map) {
  kind_ =
      map.standalone() ? cluster_status::topology::standalone : cluster_status::topology::cluster;
  map_ = std::move(map);
  for (const auto& ch : shards_)
    place_shard(ch);
  place_classic();
  drop_unused_links();
  if (kind_ == cluster_status::topology::standalone && probe_) {
    // One server: nothing will move, no more maps to ask for.
    probe_->close();
    probe_.reset();
  }
  std::lock_guard lk(status_mutex_);
  status_.last_refresh = clock::now();
  ++status_.refreshes;
}

void cluster_subscriber_impl::arm_periodic() {
  if (cfg_.topology_refresh_interval.count() <= 0 || closed_) return;
  periodic_timer_.expires_after(cfg_.topology_refresh_interval);
  periodic_timer_.async_wait([this, self = shared_from_this()](error_code ec) {
    if (ec || closed_) return;
    if (kind_ == cluster_status::topology::cluster) request_refresh();
    arm_periodic();
  });
}

bool cluster_subscriber_impl::settled() const {
  if (kind_ == cluster_status::topology::unknown) return false;
  if (kind_ == cluster_status::topology::standalone) return true;
  if (!displaced_.empty()) return false;
  for (const auto& [addr, l] : links_)
    if (l.state == link_state::degraded) return false;
  return true;
}

void cluster_subscriber_impl::update_state() {
  if (closed_) return;
  link_state s = link_state::connecting;
  bool any_degraded = false;
  bool all_connected = true;
  for (const auto& [addr, l] : links_) {
    any_degraded = any_degraded || l.state == link_state::degraded;
    all_connected = all_connected && l.state == link_state::connected;
  }
  const bool placed = displaced_.empty() &&
                      (channels_.empty() && patterns_.empty() ? true : classic_home_.has_value());
  if (kind_ != cluster_status::topology::unknown && placed && all_connected) {
    s = link_state::connected;
    ever_connected_ = true;
  } else if (ever_connected_ || any_degraded || !last_error_.empty() || !displaced_.empty()) {
    s = link_state::degraded;
  }
  set_state(s);
}

void cluster_subscriber_impl::set_state(link_state s) {
  link_state current = state_.load(std::memory_order_acquire);
  do {
    if (current == s || current == link_state::closed) return;
  } while (!state_.compare_exchange_weak(current, s, std::memory_order_acq_rel));
  std::lock_guard lk(callbacks_mutex_);
  if (silenced_) return;
  if (auto fn = on_state_) fn(s);
}

void cluster_subscriber_impl::publish_status() {
  cluster_status st;
  {
    std::lock_guard lk(status_mutex_);
    st.last_refresh = status_.last_refresh;
    st.refreshes = status_.refreshes;
    st.refresh_failures = status_.refresh_failures;
  }
  st.kind = kind_;
  st.last_error = last_error_;
  for (const auto& [addr, l] : links_) {
    st.nodes.push_back(
        {addr.to_string(),
         kind_ == cluster_status::topology::unknown ? std::size_t{0} : map_.slots_of(addr),
         closed_ ? link_state::closed : l.state, l.moved, 0});
  }
  std::lock_guard lk(status_mutex_);
  status_ = std::move(st);
}

}  // namespace ignis::redis::detail
