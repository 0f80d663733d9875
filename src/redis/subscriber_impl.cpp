#include "redis/subscriber_impl.hpp"

#include "redis/key_slot.hpp"
#include "redis/resp_encoder.hpp"

#include <algorithm>
#include <optional>

namespace ignis::redis::detail {
namespace {

struct node_address {
  std::string ip;
  std::string endpoint;
  std::int64_t port = 0;
  std::int64_t tls_port = 0;
};

// Looks a key up in a RESP2 rendering of a map: a flat array of alternating keys and values.
const reply* field(const reply& map, std::string_view key) {
  if (map.type != reply::kind::array) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == key) return &map.elements[i + 1];
  }
  return nullptr;
}

bool covers(const reply& ranges, std::uint16_t slot, std::size_t first, std::size_t step) {
  for (std::size_t i = first; i + 1 < ranges.elements.size(); i += step) {
    const auto& lo = ranges.elements[i];
    const auto& hi = ranges.elements[i + 1];
    if (lo.type != reply::kind::integer || hi.type != reply::kind::integer) continue;
    if (lo.integer <= slot && slot <= hi.integer) return true;
  }
  return false;
}

// CLUSTER SHARDS: [[ "slots", [lo, hi, ...], "nodes", [[ "ip", .., "port", .., "role", .. ]] ]]
std::optional<node_address> owner_from_shards(const reply& shards, std::uint16_t slot) {
  for (const auto& shard : shards.elements) {
    const reply* slots = field(shard, "slots");
    const reply* nodes = field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || !covers(*slots, slot, 0, 2)) continue;
    for (const auto& node : nodes->elements) {
      const reply* role = field(node, "role");
      if (role == nullptr || role->str != "master") continue;
      node_address a;
      if (const reply* f = field(node, "ip")) a.ip = f->str;
      if (const reply* f = field(node, "endpoint")) a.endpoint = f->str;
      if (const reply* f = field(node, "port")) a.port = f->integer;
      if (const reply* f = field(node, "tls-port")) a.tls_port = f->integer;
      return a;
    }
  }
  return std::nullopt;
}

// CLUSTER SLOTS: [[lo, hi, [ip, port, id, ...], replicas...], ...]
std::optional<node_address> owner_from_slots(const reply& slots, std::uint16_t slot) {
  for (const auto& range : slots.elements) {
    if (range.elements.size() < 3 || !covers(range, slot, 0, 3)) continue;
    const reply& master = range.elements[2];
    if (master.elements.size() < 2) continue;
    node_address a;
    a.ip = master.elements[0].str;
    a.endpoint = a.ip;
    a.port = master.elements[1].integer;
    return a;
  }
  return std::nullopt;
}

std::optional<subscription_kind> kind_of(std::string_view verb, bool& active) {
  active = verb.find("unsubscribe") == std::string_view::npos;
  if (verb == "subscribe" || verb == "unsubscribe") return subscription_kind::channel;
  if (verb == "psubscribe" || verb == "punsubscribe") return subscription_kind::pattern;
  if (verb == "ssubscribe" || verb == "sunsubscribe") return subscription_kind::shard_channel;
  return std::nullopt;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::shared_ptr<subscriber_impl> subscriber_impl::create(asio::any_io_executor ex, config cfg) {
  return std::shared_ptr<subscriber_impl>(new subscriber_impl(std::move(ex), std::move(cfg)));
}

subscriber_impl::subscriber_impl(asio::any_io_executor ex, config cfg)
    : link(std::move(ex), std::move(cfg)),
      lookup_backoff_(this->cfg().reconnect_min, this->cfg().reconnect_max),
      lookup_timer_(strand()),
      liveness_timer_(strand()),
      health_timer_(strand()) {}

void subscriber_impl::on_message(subscriber::message_handler fn) {
  set_callback(on_message_, std::make_shared<const subscriber::message_handler>(std::move(fn)));
}

void subscriber_impl::on_subscription(subscription_handler fn) {
  set_callback(on_subscription_, std::make_shared<const subscription_handler>(std::move(fn)));
}

void subscriber_impl::on_displaced(std::function<void(const std::string&, bool)> fn) {
  set_callback(on_displaced_, std::make_shared<const std::function<void(const std::string&, bool)>>(
                                  std::move(fn)));
}

void subscriber_impl::resubscribe(std::string channel) {
  run([this, channel = std::move(channel)] {
    if (is_closed() || !is_up() || shards_.count(channel) == 0) return;
    send_one("ssubscribe", channel);
  });
}

void subscriber_impl::change(subscription_kind kind, std::string name, bool wanted) {
  run([this, kind, name = std::move(name), wanted] {
    if (is_closed()) return;
    auto& set = kind == subscription_kind::channel   ? channels_
                : kind == subscription_kind::pattern ? patterns_
                                                     : shards_;
    const bool changed = wanted ? set.insert(name).second : set.erase(name) > 0;
    if (!wanted) unplaced_.erase(name);
    if (!changed || !is_up()) return;  // on_up() sends the whole set
    static constexpr std::string_view verbs[3][2] = {{"unsubscribe", "subscribe"},
                                                     {"punsubscribe", "psubscribe"},
                                                     {"sunsubscribe", "ssubscribe"}};
    send_one(verbs[static_cast<int>(kind)][wanted ? 1 : 0], name);
  });
}

void subscriber_impl::send_one(std::string_view verb, const std::string& name) {
  std::string bytes;
  const std::string_view args[] = {verb, name};
  encode_command(bytes, args);
  outstanding_.push_back({std::string(verb), name, clock::now()});
  send(bytes);
  arm_liveness();
}

void subscriber_impl::on_up() {
  outstanding_.clear();
  last_ping_ = {};
  arm_health_check();
  unplaced_.clear();
  // Everything wanted, again: a new connection starts with no subscriptions at all.
  for (const auto& c : channels_)
    send_one("subscribe", c);
  for (const auto& p : patterns_)
    send_one("psubscribe", p);
  for (const auto& s : shards_)
    send_one("ssubscribe", s);
}

void subscriber_impl::on_down(error_code why) {
  outstanding_.clear();
  liveness_timer_.cancel();
  liveness_armed_ = false;
  health_timer_.cancel();
  if (why == error::closed) {
    lookup_timer_.cancel();
    if (cluster_) cluster_->close();
    cluster_.reset();
  }
}

void subscriber_impl::on_reply(reply&& r) {
  if (r.is_error()) return on_error_reply(r);
  if (r.type != reply::kind::array || r.elements.size() < 2) return;  // nothing we asked for
  const auto& e = r.elements;
  const std::string_view verb = e[0].str;
  if (verb == "message" || verb == "smessage") {
    if (e.size() >= 3)
      notify([&] {
        if (auto fn = on_message_; fn && *fn) (*fn)({}, e[1].str, e[2].str);
      });
    return;
  }
  if (verb == "pmessage") {
    if (e.size() >= 4)
      notify([&] {
        if (auto fn = on_message_; fn && *fn) (*fn)(e[1].str, e[2].str, e[3].str);
      });
    return;
  }
  on_confirmation(verb, e[1].str);
}

void subscriber_impl::on_confirmation(std::string_view verb, const std::string& name) {
  const bool ours = !outstanding_.empty() && outstanding_.front().verb == verb &&
                    outstanding_.front().name == name;
  if (ours) outstanding_.pop_front();
  bool active = false;
  const auto kind = kind_of(verb, active);
  if (!kind) return;  // "pong" (health check) or something newer
  notify([&] {
    if (auto fn = on_subscription_; fn && *fn) (*fn)(*kind, name, active);
  });
  if (is_closed()) return;
  // An SUNSUBSCRIBE we did not send: the server took the shard channel away because its slot
  // left this node. If we still want it, find where the slot went.
  if (!ours && *kind == subscription_kind::shard_channel && !active && shards_.count(name) > 0) {
    need_owner(name, false);
  }
}

void subscriber_impl::on_error_reply(const reply& r) {
  if (outstanding_.empty()) return;
  const outstanding failed = std::move(outstanding_.front());
  outstanding_.pop_front();
  if (failed.verb != "ssubscribe" || shards_.count(failed.name) == 0) return;
  const bool moved = starts_with(r.str, "MOVED") || starts_with(r.str, "ASK");
  if (moved || starts_with(r.str, "CLUSTERDOWN") || starts_with(r.str, "TRYAGAIN")) {
    need_owner(failed.name, moved);
  }
}

void subscriber_impl::arm_liveness() {
  if (liveness_armed_ || outstanding_.empty()) return;
  liveness_armed_ = true;
  liveness_timer_.expires_at(silent_since() + cfg().command_timeout);
  liveness_timer_.async_wait([self = shared_from_this(), this](error_code ec) {
    if (ec) return;
    liveness_armed_ = false;
    if (outstanding_.empty()) return;
    // A command unconfirmed, and not one byte from the server for a whole timeout: it is gone.
    // Messages pushed after the command only postpone this: a server stopped between delivering
    // a publish and reading our PING sends nothing more (waiting instead for silence since the
    // command itself would never end, and the timer would fire again at once, for ever).
    if (silent_since() + cfg().command_timeout <= clock::now()) {
      return reset_link(make_error_code(error::timeout));
    }
    arm_liveness();
  });
}

void subscriber_impl::arm_health_check() {
  const auto interval = cfg().health_check_interval;
  if (interval.count() <= 0) return;
  // Due `interval` after the server's last byte (or our last PING) rather than `interval` after
  // the previous check, which would let up to twice the interval pass before a PING goes out.
  health_timer_.expires_at(std::max(last_read(), last_ping_) + interval);
  health_timer_.async_wait([self = shared_from_this(), this, interval](error_code ec) {
    if (ec || !is_up()) return;
    const auto now = clock::now();
    if (now - std::max(last_read(), last_ping_) >= interval) {
      // In subscribe mode PING is answered ["pong", <argument>]; the liveness timer resets the
      // link if that answer does not come.
      std::string bytes;
      const std::string_view args[] = {"PING", ""};
      encode_command(bytes, args);
      outstanding_.push_back({"pong", "", now});
      last_ping_ = now;
      send(bytes);
      arm_liveness();
    }
    arm_health_check();
  });
}

void subscriber_impl::need_owner(const std::string& channel, bool moved) {
  if (on_displaced_) {
    notify([&] {
      if (auto fn = on_displaced_; fn && *fn) (*fn)(channel, moved);
    });
    return;
  }
  unplaced_.insert(channel);
  schedule_lookup(std::chrono::milliseconds(0));
}

void subscriber_impl::schedule_lookup(std::chrono::milliseconds delay) {
  if (lookup_scheduled_ || is_closed()) return;
  lookup_scheduled_ = true;
  lookup_timer_.expires_after(delay);
  lookup_timer_.async_wait([self = shared_from_this(), this](error_code ec) {
    lookup_scheduled_ = false;
    if (ec || is_closed() || unplaced_.empty()) return;
    lookup_owners();
  });
}

void subscriber_impl::lookup_owners() {
  if (!cluster_) {
    // Subscribe mode allows no other commands, hence a connection of its own for the lookups.
    cluster_ = connection_impl::create(strand().get_inner_executor(), cfg());
    cluster_->start();
  }
  auto self = shared_from_this();
  auto retry_later = [this] { schedule_lookup(lookup_backoff_.next()); };
  cluster_->command({"CLUSTER", "SHARDS"}, [this, self, retry_later](error_code ec, reply r) {
    run([this, ec, r = std::move(r), retry_later]() mutable {
      if (is_closed()) return;
      if (!ec) return on_owners(r, false);
      if (ec != error::server_error) return retry_later();
      // Redis before 7.0 has no CLUSTER SHARDS.
      cluster_->command({"CLUSTER", "SLOTS"}, [this, retry_later](error_code ec2, reply r2) {
        run([this, ec2, r2 = std::move(r2), retry_later]() mutable {
          if (is_closed()) return;
          if (!ec2) return on_owners(r2, true);
          if (ec2 == error::server_error) {
            // Not a cluster at all: nothing moves, so simply subscribe again.
            for (const auto& ch : unplaced_)
              if (is_up()) send_one("ssubscribe", ch);
            unplaced_.clear();
            return;
          }
          retry_later();
        });
      });
    });
  });
}

void subscriber_impl::on_owners(const reply& table, bool slots_form) {
  const auto here = remote_endpoint();
  std::vector<std::string> placed;
  for (const auto& ch : unplaced_) {
    if (shards_.count(ch) == 0) {
      placed.push_back(ch);
      continue;
    }
    const auto slot = key_slot(ch);
    const auto owner = slots_form ? owner_from_slots(table, slot) : owner_from_shards(table, slot);
    if (!owner || !here) continue;  // slot not served yet (or we are reconnecting): retry later
    const bool same_port = owner->port == here->port() || owner->tls_port == here->port();
    const std::string addr = here->address().to_string();
    // A node that has never met another one does not know its own address and reports an empty
    // ip ("?" as endpoint): that means the node that answered, which is the one in our URL.
    const bool unknown = owner->ip.empty() && (owner->endpoint.empty() || owner->endpoint == "?");
    const bool same_host = unknown || owner->ip == addr || owner->endpoint == addr ||
                           owner->ip == url().host || owner->endpoint == url().host;
    // A slot served by another node cannot be followed by this single connection; it is
    // retried in case the slot comes back here.
    if (!same_port || !same_host) continue;
    if (is_up()) send_one("ssubscribe", ch);
    placed.push_back(ch);
  }
  for (const auto& ch : placed)
    unplaced_.erase(ch);
  if (unplaced_.empty()) {
    lookup_backoff_.reset();
  } else {
    schedule_lookup(lookup_backoff_.next());
  }
}

}  // namespace ignis::redis::detail
