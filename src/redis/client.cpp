#include "redis/connection_impl.hpp"
#include "redis/subscriber_impl.hpp"

#include <ignis/redis/client.hpp>

namespace ignis::redis {

std::shared_ptr<connection> connection::create(boost::asio::any_io_executor ex, config cfg) {
  return std::shared_ptr<connection>(
      new connection(detail::connection_impl::create(std::move(ex), std::move(cfg))));
}

connection::connection(std::shared_ptr<detail::connection_impl> impl) : impl_(std::move(impl)) {}

// The strand side lives on while operations are pending; without a handle it would reconnect
// forever, so losing the last handle closes it.
connection::~connection() {
  impl_->close();
}

void connection::start() {
  impl_->start();
}
void connection::close() {
  impl_->close();
}
void connection::command(std::vector<std::string> args, completion done) {
  impl_->command(std::move(args), std::move(done));
}
link_state connection::state() const noexcept {
  return impl_->state();
}
void connection::on_state(std::function<void(link_state)> fn) {
  impl_->on_state(std::move(fn));
}

std::shared_ptr<subscriber> subscriber::create(boost::asio::any_io_executor ex, config cfg) {
  return std::shared_ptr<subscriber>(
      new subscriber(detail::subscriber_impl::create(std::move(ex), std::move(cfg))));
}

subscriber::subscriber(std::shared_ptr<detail::subscriber_impl> impl) : impl_(std::move(impl)) {}
subscriber::~subscriber() {
  impl_->close();
}

void subscriber::start() {
  impl_->start();
}
void subscriber::close() {
  impl_->close();
}
void subscriber::subscribe(std::string channel) {
  impl_->change(subscription_kind::channel, std::move(channel), true);
}
void subscriber::unsubscribe(std::string channel) {
  impl_->change(subscription_kind::channel, std::move(channel), false);
}
void subscriber::psubscribe(std::string pattern) {
  impl_->change(subscription_kind::pattern, std::move(pattern), true);
}
void subscriber::punsubscribe(std::string pattern) {
  impl_->change(subscription_kind::pattern, std::move(pattern), false);
}
void subscriber::ssubscribe(std::string channel) {
  impl_->change(subscription_kind::shard_channel, std::move(channel), true);
}
void subscriber::sunsubscribe(std::string channel) {
  impl_->change(subscription_kind::shard_channel, std::move(channel), false);
}
void subscriber::on_message(message_handler fn) {
  impl_->on_message(std::move(fn));
}
void subscriber::on_subscription(
    std::function<void(subscription_kind, std::string_view, bool)> fn) {
  impl_->on_subscription(std::move(fn));
}
link_state subscriber::state() const noexcept {
  return impl_->state();
}
void subscriber::on_state(std::function<void(link_state)> fn) {
  impl_->on_state(std::move(fn));
}

}  // namespace ignis::redis
