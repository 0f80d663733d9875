#include "socketio/recovery_store.hpp"

#include "socketio/client.hpp"

#include <algorithm>

namespace ignis::socketio::detail {
namespace {

constexpr std::string_view alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

void append_base64(std::string& out, std::uint64_t n) {
  std::string digits;
  do {
    digits.push_back(alphabet[n % 64]);
    n /= 64;
  } while (n != 0);
  out.append(digits.rbegin(), digits.rend());
}

bool any_in(const std::vector<std::string>& rooms, const std::vector<std::string>& of) {
  for (const auto& r : rooms) {
    if (std::find(of.begin(), of.end(), r) != of.end()) return true;
  }
  return false;
}

}  // namespace

recovery_store::recovery_store(limits l, std::size_t shards) : limits_(l), pending_(shards) {}

std::vector<unsigned> recovery_store::stamp(packet& p, const broadcast_options& opts,
                                            time_point now, bool observed) {
  auto shared_opts = std::make_shared<const broadcast_options>(opts);
  std::lock_guard lock(mutex_);
  auto offset = next_offset();
  if (p.data && p.data->is_array()) p.data->get_array().emplace_back(offset);
  auto messages = std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
  keep(std::move(offset), opts, now, messages);
  return queue(messages, shared_opts, observed ? std::make_shared<const packet>(p) : nullptr);
}

std::vector<unsigned> recovery_store::stamp(packet& p, const broadcast_options& opts,
                                            time_point now, const log_position& at, bool observed) {
  auto shared_opts = std::make_shared<const broadcast_options>(opts);
  if (p.data && p.data->is_array()) p.data->get_array().emplace_back(at.offset);
  auto messages = std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
  auto copy = observed ? std::make_shared<const packet>(p) : nullptr;
  std::lock_guard lock(mutex_);
  keep(at.offset, opts, now, messages);
  packets_.back().position = at;
  return queue(messages, shared_opts, std::move(copy));
}

std::vector<unsigned> recovery_store::queue(const messages_ptr& messages,
                                            const std::shared_ptr<const broadcast_options>& opts,
                                            std::shared_ptr<const packet> observed) {
  std::vector<unsigned> to_drain;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].empty()) to_drain.push_back(static_cast<unsigned>(i));
    pending_[i].push_back({messages, opts, observed});
  }
  return to_drain;
}

void recovery_store::set_floor(const log_position& p) {
  std::lock_guard lock(mutex_);
  if (!floor_ || *floor_ < p) floor_ = p;
}

std::optional<log_position> recovery_store::floor() const {
  std::lock_guard lock(mutex_);
  return floor_;
}

void recovery_store::drop_oldest() {
  // With a shared log, what goes is still in the log: the floor says where this store's part
  // begins, so that a restore asks the log for what is older.
  if (floor_ && *floor_ < packets_.front().position) floor_ = packets_.front().position;
  bytes_ -= packets_.front().bytes;
  packets_.pop_front();
}

std::deque<recoverable_delivery> recovery_store::take_pending(unsigned shard) {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_[shard], {});
}

std::string recovery_store::next_offset() {
  // Opaque to clients; unique and growing here.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string out;
  if (ms > last_ms_) {
    last_ms_ = ms;
    same_ms_ = 0;
    append_base64(out, static_cast<std::uint64_t>(ms));
  } else {
    append_base64(out, static_cast<std::uint64_t>(last_ms_));
    out.push_back('.');
    append_base64(out, same_ms_++);
  }
  return out;
}

void recovery_store::keep(std::string offset, const broadcast_options& opts, time_point now,
                          messages_ptr messages) {
  expire(now);
  std::size_t bytes = offset.size();
  for (const auto& m : *messages)
    bytes += m->ws_frame().size();
  for (const auto& r : opts.rooms)
    bytes += r.size();
  packets_.push_back({std::move(offset), now, opts.rooms, opts.except, std::move(messages), bytes});
  bytes_ += bytes;
  while (bytes_ > limits_.max_bytes && !packets_.empty()) {
    drop_oldest();
    ++evicted_;
  }
}

void recovery_store::expire(time_point now) {
  const auto horizon = now - limits_.max_disconnection_duration;
  while (!packets_.empty() && packets_.front().at < horizon)
    drop_oldest();
  // Sessions: at most once a second, so that a burst of disconnects costs one pass.
  if (now - swept_ >= std::chrono::seconds(1)) {
    swept_ = now;
    std::erase_if(sessions_, [&](const auto& e) { return e.second.disconnected_at < horizon; });
  }
}

void recovery_store::persist(recovery_session s, time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  auto pid = s.pid;
  sessions_[std::move(pid)] = kept_session{std::move(s), now};
}

std::deque<recovery_store::kept_packet>::const_iterator recovery_store::find(
    const std::string& offset) const {
  return std::find_if(packets_.begin(), packets_.end(),
                      [&](const kept_packet& k) { return k.offset == offset; });
}

std::optional<recovery_session> recovery_store::take_session(const std::string& pid,
                                                             const std::string& offset,
                                                             time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  const auto it = sessions_.find(pid);
  if (it == sessions_.end()) {
    ++missed_;
    return std::nullopt;
  }
  auto kept = std::move(it->second);
  sessions_.erase(it);
  // Expired, or the offset is unknown or no longer kept: no partial replay.
  if (kept.disconnected_at + limits_.max_disconnection_duration < now ||
      find(offset) == packets_.end()) {
    ++missed_;
    return std::nullopt;
  }
  ++restored_;
  return std::move(kept.session);
}

std::optional<std::vector<messages_ptr>> recovery_store::packets_after(
    const std::string& offset, const std::vector<std::string>& rooms, unsigned shard,
    std::deque<recoverable_delivery>& queued) {
  std::lock_guard lock(mutex_);
  queued = std::exchange(pending_[shard], {});
  const auto from = find(offset);
  if (from == packets_.end()) return std::nullopt;  // pushed out meanwhile
  std::vector<messages_ptr> missed;
  for (auto it = std::next(from); it != packets_.end(); ++it) {
    if ((it->rooms.empty() || any_in(rooms, it->rooms)) && !any_in(rooms, it->except))
      missed.push_back(it->messages);
  }
  return missed;
}

std::optional<std::vector<messages_ptr>> recovery_store::packets_after(
    const log_position& after, const std::vector<std::string>& rooms, unsigned shard,
    std::deque<recoverable_delivery>& queued) {
  std::lock_guard lock(mutex_);
  queued = std::exchange(pending_[shard], {});
  if (!floor_ || after < *floor_) {
    ++missed_;
    return std::nullopt;  // the floor moved past it meanwhile
  }
  ++restored_;
  std::vector<messages_ptr> missed;
  for (const auto& k : packets_) {
    if (!(after < k.position)) continue;
    if ((k.rooms.empty() || any_in(rooms, k.rooms)) && !any_in(rooms, k.except))
      missed.push_back(k.messages);
  }
  return missed;
}

recovery_store::counts recovery_store::stats() const {
  std::lock_guard lock(mutex_);
  return {packets_.size(), bytes_, sessions_.size(), evicted_, restored_, missed_};
}

}  // namespace ignis::socketio::detail
