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

messages_ptr recovery_store::encode(const packet& p) {
  return std::make_shared<const std::vector<engineio::message_ptr>>(to_messages(p));
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
    bytes_ -= packets_.front().bytes;
    packets_.pop_front();
    ++evicted_;
  }
}

void recovery_store::expire(time_point now) {
  const auto horizon = now - limits_.max_disconnection_duration;
  while (!packets_.empty() && packets_.front().at < horizon) {
    bytes_ -= packets_.front().bytes;
    packets_.pop_front();
  }
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

std::optional<recovered_state> recovery_store::take(const std::string& pid,
                                                    const std::string& offset, time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  const auto it = sessions_.find(pid);
  if (it == sessions_.end()) {
    ++missed_;
    return std::nullopt;
  }
  auto kept = std::move(it->second);
  sessions_.erase(it);
  const auto from = std::find_if(packets_.begin(), packets_.end(),
                                 [&](const kept_packet& k) { return k.offset == offset; });
  // Expired, or the offset is unknown or no longer kept: no partial replay.
  if (kept.disconnected_at + limits_.max_disconnection_duration < now || from == packets_.end()) {
    ++missed_;
    return std::nullopt;
  }
  ++restored_;
  recovered_state out;
  const auto& rooms = kept.session.rooms;
  for (auto it2 = std::next(from); it2 != packets_.end(); ++it2) {
    if ((it2->rooms.empty() || any_in(rooms, it2->rooms)) && !any_in(rooms, it2->except))
      out.missed.push_back(it2->messages);
  }
  out.session = std::move(kept.session);
  return out;
}

recovery_store::counts recovery_store::stats() const {
  std::lock_guard lock(mutex_);
  return {packets_.size(), bytes_, sessions_.size(), evicted_, restored_, missed_};
}

}  // namespace ignis::socketio::detail
