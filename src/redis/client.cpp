#include "redis/cluster_connection.hpp"
#include "redis/cluster_subscriber.hpp"
#include "redis/connection_impl.hpp"
#include "redis/subscriber_impl.hpp"

#include <ignis/redis/client.hpp>

#include <stdexcept>

namespace ignis::redis {
namespace {

// A cluster when asked for, or when several seeds are given and the mode says automatic; several
// URLs for one server are a mistake.
bool use_cluster(const config& cfg) {
  if (cfg.cluster != cluster_mode::off) return true;
  if (cfg.url.find(',') != std::string::npos) {
    throw std::invalid_argument(
        "ignis::redis: several Redis URLs need config::cluster on or automatic: " + cfg.url);
  }
  return false;
}

cluster_status standalone_status(link_state s, const std::string& url) {
  cluster_status st;
  st.kind = cluster_status::topology::standalone;
  if (auto parsed = parse_url(url)) {
    node_status n;
    n.address = detail::node_address{parsed->host, parsed->port}.to_string();
    n.slots = detail::slot_count;
    n.state = s;
    st.nodes.push_back(std::move(n));
  }
  return st;
}

}  // namespace

std::shared_ptr<connection> connection::create(boost::asio::any_io_executor ex, config cfg) {
  if (use_cluster(cfg)) {
    return std::shared_ptr<connection>(
        new connection(detail::cluster_connection_impl::create(std::move(ex), std::move(cfg))));
  }
  return std::shared_ptr<connection>(
      new connection(detail::connection_impl::create(std::move(ex), std::move(cfg))));
}

connection::connection(std::shared_ptr<detail::connection_impl> impl) : impl_(std::move(impl)) {}
connection::connection(std::shared_ptr<detail::cluster_connection_impl> impl)
    : cluster_(std::move(impl)) {}

// The strand side lives on while operations are pending; without a handle it would reconnect
// forever, so losing the last handle closes it.
connection::~connection() {
  close();
}

void connection::start() {
  if (cluster_) return cluster_->start();
  impl_->start();
}
void connection::close() {
  if (cluster_) return cluster_->close();
  impl_->close();
}
void connection::command(std::vector<std::string> args, completion done) {
  if (cluster_) return cluster_->command(std::move(args), std::move(done));
  impl_->command(std::move(args), std::move(done));
}
void connection::command_all(std::vector<std::string> args,
                             std::function<void(std::vector<std::pair<error_code, reply>>)> done) {
  if (cluster_) return cluster_->command_all(std::move(args), std::move(done));
  impl_->command(std::move(args), [done = std::move(done)](error_code ec, reply r) {
    std::vector<std::pair<error_code, reply>> all;
    all.emplace_back(ec, std::move(r));
    if (done) done(std::move(all));
  });
}
link_state connection::state() const noexcept {
  return cluster_ ? cluster_->state() : impl_->state();
}
void connection::on_state(std::function<void(link_state)> fn) {
  if (cluster_) return cluster_->on_state(std::move(fn));
  impl_->on_state(std::move(fn));
}
cluster_status connection::cluster() const {
  if (cluster_) return cluster_->status();
  return standalone_status(impl_->state(), impl_->url_text());
}

std::shared_ptr<subscriber> subscriber::create(boost::asio::any_io_executor ex, config cfg) {
  if (use_cluster(cfg)) {
    return std::shared_ptr<subscriber>(
        new subscriber(detail::cluster_subscriber_impl::create(std::move(ex), std::move(cfg))));
  }
  return std::shared_ptr<subscriber>(
      new subscriber(detail::subscriber_impl::create(std::move(ex), std::move(cfg))));
}

subscriber::subscriber(std::shared_ptr<detail::subscriber_impl> impl) : impl_(std::move(impl)) {}
subscriber::subscriber(std::shared_ptr<detail::cluster_subscriber_impl> impl)
    : cluster_(std::move(impl)) {}
subscriber::~subscriber() {
  close();
}

void subscriber::start() {
  if (cluster_) return cluster_->start();
  impl_->start();
}
void subscriber::close() {
  if (cluster_) return cluster_->close();
  impl_->close();
}

void subscriber::change(subscription_kind kind, std::string name, bool wanted) {
  if (cluster_) return cluster_->change(kind, std::move(name), wanted);
  impl_->change(kind, std::move(name), wanted);
}

void subscriber::subscribe(std::string channel) {
  change(subscription_kind::channel, std::move(channel), true);
}
void subscriber::unsubscribe(std::string channel) {
  change(subscription_kind::channel, std::move(channel), false);
}
void subscriber::psubscribe(std::string pattern) {
  change(subscription_kind::pattern, std::move(pattern), true);
}
void subscriber::punsubscribe(std::string pattern) {
  change(subscription_kind::pattern, std::move(pattern), false);
}
void subscriber::ssubscribe(std::string channel) {
  change(subscription_kind::shard_channel, std::move(channel), true);
}
void subscriber::sunsubscribe(std::string channel) {
  change(subscription_kind::shard_channel, std::move(channel), false);
}

void subscriber::on_message(message_handler fn) {
  if (cluster_) return cluster_->on_message(std::move(fn));
  impl_->on_message(std::move(fn));
}
void subscriber::on_subscription(
    std::function<void(subscription_kind, std::string_view, bool)> fn) {
  if (cluster_) return cluster_->on_subscription(std::move(fn));
  impl_->on_subscription(std::move(fn));
}
link_state subscriber::state() const noexcept {
  return cluster_ ? cluster_->state() : impl_->state();
}
void subscriber::on_state(std::function<void(link_state)> fn) {
  if (cluster_) return cluster_->on_state(std::move(fn));
  impl_->on_state(std::move(fn));
}
cluster_status subscriber::cluster() const {
  if (cluster_) return cluster_->status();
  return standalone_status(impl_->state(), impl_->url_text());
}

}  // namespace ignis::redis
