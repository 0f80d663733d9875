#include "redis/connection_impl.hpp"

#include "redis/resp_encoder.hpp"

namespace ignis::redis::detail {

std::shared_ptr<connection_impl> connection_impl::create(asio::any_io_executor ex, config cfg) {
  return std::shared_ptr<connection_impl>(new connection_impl(std::move(ex), std::move(cfg)));
}

void connection_impl::command(std::vector<std::string> args, connection::completion done) {
  run([this, args = std::move(args), done = std::move(done)]() mutable {
    if (args.empty()) {
      if (done)
        done(make_error_code(error::server_error),
             reply{reply::kind::error, "ERR empty command", 0, {}});
      return;
    }
    std::string bytes;
    encode_command(bytes, args);
    enqueue(bytes, std::move(done));
  });
}

void connection_impl::command_bytes(std::shared_ptr<const std::string> bytes,
                                    connection::completion done) {
  run([this, bytes = std::move(bytes), done = std::move(done)]() mutable {
    enqueue(*bytes, std::move(done));
  });
}

void connection_impl::enqueue(std::string_view bytes, connection::completion done) {
  auto refuse = [&](error e) {
    if (done) done(make_error_code(e), reply{});
  };
  if (is_closed()) return refuse(error::closed);
  // Before the first connection commands wait (bounded); once Redis has been lost they fail at
  // once, so callers notice and nothing piles up while it is down.
  const auto st = state();
  if (st == link_state::degraded) return refuse(error::not_connected);
  if (pending_.size() >= cfg().max_pending) return refuse(error::too_many_pending);
  const auto now = clock::now();
  pending p{std::move(done), now + cfg().command_timeout, clock::time_point::max()};
  if (is_up()) {
    p.sent_at = now;
    pending_.push_back(std::move(p));
    send(bytes);
  } else {
    unsent_.append(bytes);
    pending_.push_back(std::move(p));
  }
  arm_timer();
}

void connection_impl::on_up() {
  if (unsent_.empty()) return;
  const auto now = clock::now();
  for (auto& p : pending_)
    p.sent_at = now;
  std::string bytes;
  bytes.swap(unsent_);
  send(bytes);
}

void connection_impl::on_reply(reply&& r) {
  if (pending_.empty()) {
    // A reply nobody asked for: the stream is out of step with our queue, so start afresh.
    return reset_link(make_error_code(error::protocol_error));
  }
  auto p = std::move(pending_.front());
  pending_.pop_front();
  if (expired_ > 0) {
    --expired_;  // its caller already got error::timeout
    return;
  }
  if (!p.done) return;
  if (r.is_error()) {
    p.done(make_error_code(error::server_error), std::move(r));
  } else {
    p.done({}, std::move(r));
  }
}

void connection_impl::on_down(error_code why) {
  // A command that may have reached the server is never sent again: it fails with disconnected.
  // Commands still waiting for the first connection fail with not_connected (or closed).
  auto failed = std::move(pending_);
  pending_.clear();
  const std::size_t expired = expired_;
  expired_ = 0;
  unsent_.clear();
  timer_.cancel();
  timer_armed_ = false;
  const bool closing = why == error::closed;
  for (std::size_t i = expired; i < failed.size(); ++i) {
    auto& p = failed[i];
    if (!p.done) continue;
    const error e = closing                                 ? error::closed
                    : p.sent_at == clock::time_point::max() ? error::not_connected
                                                            : error::disconnected;
    p.done(make_error_code(e), reply{});
  }
}

void connection_impl::arm_timer() {
  if (timer_armed_ || expired_ >= pending_.size()) return;
  timer_armed_ = true;
  // Every command has the same timeout, so deadlines grow along the queue: one timer for the
  // oldest live command is enough.
  timer_.expires_at(pending_[expired_].deadline);
  timer_.async_wait([self = shared_from_this(), this](error_code ec) {
    if (ec) return;
    timer_armed_ = false;
    on_timer();
  });
}

void connection_impl::on_timer() {
  const auto now = clock::now();
  bool server_silent = false;
  std::vector<connection::completion> timed_out;
  while (expired_ < pending_.size() && pending_[expired_].deadline <= now) {
    auto& p = pending_[expired_];
    // Sent a full timeout ago and not one byte since: the server (or the path to it) is gone,
    // even if TCP has not noticed. A slow command alone does not count: bytes still flow.
    if (p.sent_at != clock::time_point::max() && last_read() < p.sent_at) server_silent = true;
    if (p.done) timed_out.push_back(std::move(p.done));
    p.done = nullptr;
    ++expired_;
  }
  // Commands that timed out before the first connection stay queued as expired: their bytes
  // are in unsent_ and will be written, and their replies then skipped.
  for (auto& done : timed_out)
    done(make_error_code(error::timeout), reply{});
  if (is_closed()) return;
  if (server_silent) return reset_link(make_error_code(error::timeout));
  arm_timer();
}

}  // namespace ignis::redis::detail
