#include "redis_adapter/link_state.hpp"

#include <algorithm>
#include <future>

namespace ignis::redis::detail {

adapter_link_state::adapter_link_state(net::runtime& rt, config redis, adapter_options options)
    : rt_(rt), options_(std::move(options)) {
  // Their own strands on the first shard's loop: Redis traffic is small next to client traffic.
  auto pub_config = redis;
  if (pub_config.client_name.empty()) pub_config.client_name = "ignis-adapter-pub";
  auto sub_config = std::move(redis);
  if (sub_config.client_name.empty()) sub_config.client_name = "ignis-adapter-sub";
  pub_ = connection::create(rt_.at(0).executor(), pub_config);
  // Streams mode too: its ephemeral requests and their answers travel by pub/sub.
  sub_ = subscriber::create(rt_.at(0).executor(), std::move(sub_config));
  if (options_.mode != adapter_mode::streams) return;
  // A blocked XREAD answers after up to stream_block: its timeout must be longer.
  auto read_config = pub_config;
  read_config.client_name = pub_config.client_name == "ignis-adapter-pub"
                                ? std::string("ignis-adapter-stream")
                                : pub_config.client_name;
  read_config.command_timeout += options_.stream_block;
  stream_conn_ = connection::create(rt_.at(0).executor(), std::move(read_config));
  reader_ = std::make_shared<stream_reader>(
      pub_, stream_conn_, rt_.at(0).executor(),
      stream_reader::settings{options_.stream_name, options_.stream_read_count,
                              options_.stream_block});
}

void adapter_link_state::start() {
  std::weak_ptr<adapter_link_state> weak = shared_from_this();
  if (sub_) {
    sub_->on_message(
        [weak](std::string_view pattern, std::string_view channel, std::string_view payload) {
          if (auto self = weak.lock()) self->dispatch(pattern, channel, payload);
        });
  }
  pub_->start();
  if (sub_) sub_->start();
  if (reader_) {
    stream_conn_->start();
    reader_->start();
  }
}

void adapter_link_state::close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard lock(sinks_mutex_);
    sinks_.clear();
  }
  if (sub_) sub_->close();
  if (reader_) {
    reader_->close();
    stream_conn_->close();
  }
  pub_->close();
}

void adapter_link_state::command(std::vector<std::string> args, connection::completion done,
                                 bool publish) {
  if (publish) publishes_.fetch_add(1, std::memory_order_relaxed);
  std::weak_ptr<adapter_link_state> weak = shared_from_this();
  pub_->command(std::move(args),
                [weak, publish, done = std::move(done)](error_code ec, const reply& r) {
                  if (ec && publish) {
                    if (auto self = weak.lock())
                      self->publish_errors_.fetch_add(1, std::memory_order_relaxed);
                  }
                  if (done) done(ec, r);
                });
}

void adapter_link_state::add_sink(message_sink* sink) {
  std::lock_guard lock(sinks_mutex_);
  sinks_.push_back(sink);
}

void adapter_link_state::remove_sink(message_sink* sink) {
  std::lock_guard lock(sinks_mutex_);
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

void adapter_link_state::dispatch(std::string_view pattern, std::string_view channel,
                                  std::string_view payload) {
  std::lock_guard lock(sinks_mutex_);
  message_sink* target = nullptr;
  for (auto* s : sinks_) {
    if (s->wants(pattern, channel)) {
      target = s;
      break;
    }
  }
  if (target) target->on_message(pattern, channel, payload);
}

void adapter_link_state::publish(std::string channel, std::string payload) {
  publishes_.fetch_add(1, std::memory_order_relaxed);
  const char* verb = options_.mode == adapter_mode::sharded ? "SPUBLISH" : "PUBLISH";
  std::weak_ptr<adapter_link_state> weak = shared_from_this();
  pub_->command({verb, std::move(channel), std::move(payload)},
                [weak](error_code ec, const reply&) {
                  if (!ec) return;
                  if (auto self = weak.lock())
                    self->publish_errors_.fetch_add(1, std::memory_order_relaxed);
                });
}

void adapter_link_state::count_subscribers(std::string channel,
                                           std::function<void(std::size_t)> done) {
  const char* which = options_.mode == adapter_mode::sharded ? "SHARDNUMSUB" : "NUMSUB";
  // In a cluster each node counts its own subscribers: the servers' subscriptions are spread over
  // the masters (shard channels on their slot's master, classic ones on any master), so the
  // count is the sum over all of them, as Node's adapter takes it.
  pub_->command_all({"PUBSUB", which, std::move(channel)},
                    [done = std::move(done)](std::vector<std::pair<error_code, reply>> all) {
                      std::size_t n = 0;
                      for (const auto& [ec, r] : all) {
                        // [channel, count]
                        if (!ec && r.type == reply::kind::array && r.elements.size() == 2 &&
                            r.elements[1].type == reply::kind::integer &&
                            r.elements[1].integer > 0) {
                          n += static_cast<std::size_t>(r.elements[1].integer);
                        }
                      }
                      done(n > 0 ? n : 1);
                    });
}

namespace {

int badness(link_state s) {
  switch (s) {
    case link_state::connected:
      return 0;
    case link_state::connecting:
      return 1;
    case link_state::degraded:
      return 2;
    case link_state::closed:
      return 3;
  }
  return 3;
}

void merge(cluster_status& pub, const cluster_status& sub) {
  if (pub.kind == cluster_status::topology::unknown) pub.kind = sub.kind;
  for (const auto& n : sub.nodes) {
    auto it = std::find_if(pub.nodes.begin(), pub.nodes.end(),
                           [&](const node_status& p) { return p.address == n.address; });
    if (it == pub.nodes.end()) {
      pub.nodes.push_back(n);
      continue;
    }
    it->slots = std::max(it->slots, n.slots);
    if (badness(n.state) > badness(it->state)) it->state = n.state;
    it->moved += n.moved;
    it->ask += n.ask;
  }
  pub.last_refresh = std::max(pub.last_refresh, sub.last_refresh);
  pub.refreshes += sub.refreshes;
  pub.refresh_failures += sub.refresh_failures;
  if (pub.last_error.empty()) pub.last_error = sub.last_error;
}

}  // namespace

link_state adapter_link_state::state() const noexcept {
  if (closed_) return link_state::closed;
  const auto a = pub_->state();
  auto b = sub_->state();
  // Streams mode: the reader's connection counts as much as the subscriber.
  if (stream_conn_ && badness(stream_conn_->state()) > badness(b)) b = stream_conn_->state();
  if (a == link_state::connected && b == link_state::connected) return link_state::connected;
  if (a == link_state::connecting || b == link_state::connecting) {
    if (a != link_state::degraded && b != link_state::degraded) return link_state::connecting;
  }
  return link_state::degraded;
}

cluster_status adapter_link_state::cluster() const {
  auto pub = pub_->cluster();
  merge(pub, sub_->cluster());
  if (stream_conn_) merge(pub, stream_conn_->cluster());
  std::sort(pub.nodes.begin(), pub.nodes.end(),
            [](const node_status& a, const node_status& b) { return a.address < b.address; });
  return pub;
}

adapter_stats adapter_link_state::stats() const noexcept {
  adapter_stats s;
  s.publishes = publishes_.load(std::memory_order_relaxed);
  s.publish_errors = publish_errors_.load(std::memory_order_relaxed);
  s.messages = messages_.load(std::memory_order_relaxed);
  s.malformed = malformed_.load(std::memory_order_relaxed);
  s.session_writes = session_writes_.load(std::memory_order_relaxed);
  if (reader_) {
    s.malformed += reader_->malformed();
    s.stream_entries = reader_->entries();
    s.stream_read_errors = reader_->read_errors();
    s.stream_position = reader_->position();
    s.stream_malformed = reader_->malformed();
    s.stream_lag_ms = reader_->lag_ms();
  }
  return s;
}

}  // namespace ignis::redis::detail
