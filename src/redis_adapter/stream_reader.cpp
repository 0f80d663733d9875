#include "redis_adapter/stream_reader.hpp"

#include <algorithm>
#include <chrono>

namespace ignis::redis::detail {

stream_reader::stream_reader(std::shared_ptr<connection> commands,
                             std::shared_ptr<connection> reader, boost::asio::any_io_executor ex,
                             settings s)
    : commands_(std::move(commands)),
      reader_(std::move(reader)),
      settings_(std::move(s)),
      retry_(std::move(ex)) {}

void stream_reader::start() {
  find_start();
}

void stream_reader::close() {
  if (closed_.exchange(true)) return;
  std::lock_guard lock(mutex_);
  sinks_.clear();
  retry_.cancel();
}

void stream_reader::add(stream_sink* sink) {
  std::lock_guard lock(mutex_);
  sinks_.push_back(sink);
  if (last_) sink->on_stream_floor(*last_);
}

void stream_reader::remove(stream_sink* sink) {
  std::lock_guard lock(mutex_);
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

std::string stream_reader::position() const {
  std::lock_guard lock(mutex_);
  return last_ ? last_->str() : std::string();
}

void stream_reader::retry_later(void (stream_reader::*what)()) {
  if (closed_) return;
  // The connection reconnects by itself; until then each command fails at once, so wait a
  // little longer each time (at most a second) instead of spinning.
  retry_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(1000));
  std::weak_ptr<stream_reader> weak = shared_from_this();
  retry_.async_wait([weak, what](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) ((*self).*what)();
  });
}

void stream_reader::find_start() {
  if (closed_) return;
  std::weak_ptr<stream_reader> weak = shared_from_this();
  commands_->command(
      {"XREVRANGE", settings_.stream, "+", "-", "COUNT", "1"},
      [weak](error_code ec, const reply& r) {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        auto entries = ec ? result<entries_reply>(ec) : decode_xrange(r);
        if (!entries) {
          self->read_errors_.fetch_add(1, std::memory_order_relaxed);
          return self->retry_later(&stream_reader::find_start);
        }
        {
          std::lock_guard lock(self->mutex_);
          // An empty stream: everything ever added to it is new.
          self->last_ = entries->entries.empty() ? stream_id{0, 0} : entries->entries.front().id;
          for (auto* s : self->sinks_)
            s->on_stream_floor(*self->last_);
        }
        self->backoff_ = std::chrono::milliseconds(100);
        self->read();
      });
}

void stream_reader::read() {
  if (closed_) return;
  std::string from;
  {
    std::lock_guard lock(mutex_);
    from = last_->str();
  }
  std::weak_ptr<stream_reader> weak = shared_from_this();
  reader_->command(
      {"XREAD", "COUNT", std::to_string(settings_.count), "BLOCK",
       std::to_string(settings_.block.count()), "STREAMS", settings_.stream, std::move(from)},
      [weak](error_code ec, const reply& r) {
        if (auto self = weak.lock()) self->on_read(ec, r);
      });
}

void stream_reader::on_read(error_code ec, const reply& r) {
  if (closed_) return;
  auto entries = ec ? result<entries_reply>(ec) : decode_xread(r);
  if (!entries) {
    // Redis gone, a timeout, or an answer of the wrong shape: ask again from the same id.
    read_errors_.fetch_add(1, std::memory_order_relaxed);
    return retry_later(&stream_reader::read);
  }
  backoff_ = std::chrono::milliseconds(100);
  malformed_.fetch_add(entries->bad_entries, std::memory_order_relaxed);
  if (!entries->entries.empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto written = static_cast<std::int64_t>(entries->entries.back().id.ms);
    lag_ms_.store(now > written ? now - written : 0, std::memory_order_relaxed);
  }
  for (const auto& e : entries->entries) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    entries_.fetch_add(1, std::memory_order_relaxed);
    if (last_ && !(*last_ < e.id)) continue;  // never twice, never backwards
    last_ = e.id;
    if (!e.message) {
      malformed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    for (auto* s : sinks_) {
      if (s->stream_nsp() == e.message->nsp) {
        s->on_stream_entry(e, *e.message);
        break;
      }
    }
  }
  read();
}

}  // namespace ignis::redis::detail
