#include "redis_adapter/classic_adapter.hpp"
#include "redis_adapter/link_state.hpp"
#include "redis_adapter/sharded_adapter.hpp"
#include "redis_adapter/streams_adapter.hpp"

#include <ignis/redis/adapter.hpp>

namespace ignis::redis {

adapter_link::adapter_link(net::runtime& rt, config redis, adapter_options options)
    : state_(
          std::make_shared<detail::adapter_link_state>(rt, std::move(redis), std::move(options))) {}

adapter_link::~adapter_link() {
  state_->close();
}

void adapter_link::start() {
  state_->start();
}

void adapter_link::close() {
  state_->close();
}

socketio::adapter_factory adapter_link::factory() {
  auto state = state_;
  return [state](socketio::namespace_& nsp) -> std::unique_ptr<socketio::adapter> {
    if (state->options().mode == adapter_mode::streams)
      return std::make_unique<detail::streams_adapter>(nsp, state);
    if (state->options().mode == adapter_mode::sharded)
      return std::make_unique<detail::sharded_adapter>(nsp, state);
    return std::make_unique<detail::classic_adapter>(nsp, state);
  };
}

link_state adapter_link::redis_state() const noexcept {
  return state_->state();
}

cluster_status adapter_link::redis_cluster() const {
  return state_->cluster();
}

adapter_stats adapter_link::stats() const noexcept {
  return state_->stats();
}

const adapter_options& adapter_link::options() const noexcept {
  return state_->options();
}

}  // namespace ignis::redis
