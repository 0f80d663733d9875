#include "redis/cluster_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace ignis::redis::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// Commands that name no key: they may go to any master.
constexpr std::array<std::string_view, 16> keyless = {
    "PING",   "ECHO",  "INFO", "PUBSUB",   "CLUSTER", "CLIENT", "COMMAND",  "TIME",
    "CONFIG", "HELLO", "AUTH", "READONLY", "ASKING",  "SCRIPT", "FUNCTION", "DBSIZE"};

}  // namespace

std::optional<redirect> parse_redirect(std::string_view text, const node_address& answered_by) {
  auto word_end = text.find(' ');
  const std::string_view word = text.substr(0, word_end);
  if (word == "TRYAGAIN") return redirect{redirect_kind::tryagain, 0, {}};
  if (word == "CLUSTERDOWN") return redirect{redirect_kind::clusterdown, 0, {}};
  if (word != "MOVED" && word != "ASK") return std::nullopt;
  if (word_end == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(word_end + 1);
  const auto slot_end = rest.find(' ');
  if (slot_end == std::string_view::npos) return std::nullopt;
  const std::string_view slot_text = rest.substr(0, slot_end);
  unsigned slot = 0;
  const auto [end, ec] =
      std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (slot_text.empty() || ec != std::errc{} || end != slot_text.data() + slot_text.size() ||
      slot >= slot_count) {
    return std::nullopt;
  }
  auto target = parse_host_port(rest.substr(slot_end + 1), answered_by);
  if (!target) return std::nullopt;
  return redirect{word == "MOVED" ? redirect_kind::moved : redirect_kind::ask,
                  static_cast<std::uint16_t>(slot), std::move(*target)};
}

route route_of(std::span<const std::string> args) {
  if (args.size() < 2) return {};
  const std::string_view name = args[0];
  for (const auto k : keyless)
    if (iequals(name, k)) return {};
  if (iequals(name, "XREAD") || iequals(name, "XREADGROUP")) {
    // Options come first; the keys follow STREAMS (all in one slot, or the server refuses).
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (iequals(args[i], "STREAMS")) return {route::kind::slot, key_slot(args[i + 1])};
    }
    return {};
  }
  const auto slot = key_slot(args[1]);
  if (iequals(name, "PUBLISH")) return {route::kind::slot_or_any, slot};
  return {route::kind::slot, slot};
}

redirect_decision decide(const redirect& r, unsigned redirects, std::chrono::milliseconds time_left,
                         const redirect_limits& limits) {
  redirect_decision d;
  if (redirects >= limits.max_redirects) {
    // Still worth a new map: whoever sent us round in circles had an old one, or we had.
    d.refresh = r.kind == redirect_kind::moved || r.kind == redirect_kind::clusterdown;
    return d;
  }
  switch (r.kind) {
    case redirect_kind::moved:
      d.what = redirect_decision::action::resend;
      d.target = r.target;
      d.refresh = true;
      return d;
    case redirect_kind::ask:
      d.what = redirect_decision::action::resend;
      d.target = r.target;
      d.asking = true;
      return d;
    case redirect_kind::tryagain:
    case redirect_kind::clusterdown: {
      const auto delay = limits.base_delay * (1 << std::min(redirects, 10u));
      d.refresh = r.kind == redirect_kind::clusterdown;
      if (delay >= time_left) return d;  // it would end after the deadline: fail now
      d.what = redirect_decision::action::wait;
      d.delay = delay;
      return d;
    }
  }
  return d;
}

refresh_schedule::refresh_schedule(std::chrono::milliseconds min_interval,
                                   std::chrono::milliseconds max_interval)
    : min_(std::max(min_interval, std::chrono::milliseconds(1))),
      max_(std::max(max_interval, min_)),
      interval_(min_) {}

refresh_schedule refresh_schedule::within_bounds(std::chrono::milliseconds reconnect_min,
                                                 std::chrono::milliseconds reconnect_max) {
  const auto lo = std::clamp(reconnect_min, floor, ceiling);
  return {lo, std::clamp(reconnect_max, lo, ceiling)};
}

std::chrono::milliseconds refresh_schedule::delay_from(clock::time_point now) const {
  if (!last_start_) return std::chrono::milliseconds(0);
  const auto due = *last_start_ + interval_;
  if (due <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(due - now);
}

std::optional<std::chrono::milliseconds> refresh_schedule::request(clock::time_point now) {
  if (scheduled_) return std::nullopt;
  if (running_) {
    again_ = true;
    return std::nullopt;
  }
  scheduled_ = true;
  return delay_from(now);
}

void refresh_schedule::started(clock::time_point now) {
  scheduled_ = false;
  running_ = true;
  last_start_ = now;
}

std::optional<std::chrono::milliseconds> refresh_schedule::finished(clock::time_point now,
                                                                    bool ok) {
  running_ = false;
  interval_ = ok ? min_ : std::min(interval_ * 2, max_);
  if (!again_) return std::nullopt;
  again_ = false;
  scheduled_ = true;
  return delay_from(now);
}

}  // namespace ignis::redis::detail
