#include <ignis/net/timer_wheel.hpp>

#include <algorithm>
#include <bit>
#include <limits>
#include <utility>

namespace ignis::net {

void timer_hook::cancel() noexcept {
  if (!pprev_) return;
  *pprev_ = next_;
  if (next_) next_->pprev_ = pprev_;
  next_ = nullptr;
  pprev_ = nullptr;
  when_ = clock::time_point::max();
}

// An entry for a client held weakly: it fires the client if it still exists, then frees itself.
struct timer_wheel::weak_entry final : timer_hook {
  weak_entry(timer_wheel& w, std::weak_ptr<timer_client> c) : wheel(w), client(std::move(c)) {}
  void on_timer(clock::time_point now) override {
    auto target = client.lock();
    wheel.drop(this);
    if (target) target->on_timer(now);
  }
  timer_wheel& wheel;
  std::weak_ptr<timer_client> client;
  // Every weak entry of the wheel, for the sweep.
  weak_entry* prev = nullptr;
  weak_entry* next = nullptr;
};

namespace {
// A sweep walks every weak entry; below this many it would cost more than it frees.
constexpr std::size_t sweep_min_entries = 1024;
}  // namespace

timer_wheel::timer_wheel(boost::asio::io_context& ctx, std::chrono::milliseconds sweep_interval)
    : position_(to_tick(clock::now())), timer_(ctx), sweep_interval_(sweep_interval) {}

timer_wheel::~timer_wheel() {
  // Hooks embedded in objects that outlive the wheel (destroyed after the runtime) are left
  // unlinked; the wheel's own entries are freed.
  auto release = [](timer_hook* h) {
    while (h) {
      auto* next = std::exchange(h->next_, nullptr);
      h->pprev_ = nullptr;
      h->when_ = clock::time_point::max();
      h = next;
    }
  };
  for (auto& level : slots_) {
    for (auto*& head : level)
      release(std::exchange(head, nullptr));
  }
  release(std::exchange(firing_, nullptr));
  release(std::exchange(overflow_, nullptr));
  while (weak_list_)
    drop(weak_list_);
}

timer_wheel::tick timer_wheel::to_tick(clock::time_point t) noexcept {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  return ms.count() < 0 ? 0 : static_cast<tick>(ms.count());
}

clock::time_point timer_wheel::to_time(tick t) noexcept {
  return clock::time_point(std::chrono::milliseconds(static_cast<std::int64_t>(t)));
}

void timer_wheel::use_manual_clock(const manual_clock* c) noexcept {
  manual_ = c;
  // Entries already linked are placed again against the new clock's position.
  timer_hook* all = nullptr;
  auto gather = [&all](timer_hook* h) {
    while (h) {
      auto* next = h->next_;
      h->next_ = all;
      all = h;
      h = next;
    }
  };
  for (unsigned level = 0; level < level_count; ++level) {
    for (auto*& head : slots_[level])
      gather(std::exchange(head, nullptr));
    occupied_[level] = {};
  }
  gather(std::exchange(overflow_, nullptr));
  position_ = to_tick(now());
  while (all) {
    auto* h = all;
    all = h->next_;
    h->next_ = nullptr;
    place(*h);
  }
  armed_for_ = clock::time_point::max();
  if (manual_) {
    timer_.cancel();
  } else if (auto next = next_deadline(); next != clock::time_point::max()) {
    arm(next);
  }
}

void timer_wheel::schedule(timer_hook& hook, clock::time_point when) {
  hook.cancel();
  hook.when_ = when;
  place(hook);
  if (when < armed_for_) arm(when);
}

void timer_wheel::schedule(clock::time_point when, std::weak_ptr<timer_client> client) {
  auto* e = new weak_entry(*this, std::move(client));
  e->next = weak_list_;
  if (weak_list_) weak_list_->prev = e;
  weak_list_ = e;
  ++weak_count_;
  schedule(*e, when);
}

void timer_wheel::drop(weak_entry* e) noexcept {
  if (e->prev) {
    e->prev->next = e->next;
  } else {
    weak_list_ = e->next;
  }
  if (e->next) e->next->prev = e->prev;
  --weak_count_;
  delete e;  // unlinks it from its slot if it is still in one
}

// The level is that of the highest 8-bit digit in which the deadline's millisecond differs from
// the wheel's position, and the slot is the deadline's digit at that level: an entry above level
// 0 thus sits in a slot ahead of the position's, and moves down when the position reaches it.
// A deadline in a later span than the position's waits on the overflow list.
void timer_wheel::place(timer_hook& hook) noexcept {
  const tick t = std::max(to_tick(hook.when_), position_);
  const tick differs = t ^ position_;
  if ((differs >> (level_bits * level_count)) != 0) return push_front(overflow_, hook);
  unsigned level = 0;
  while (level + 1 < level_count && (differs >> (level_bits * (level + 1))) != 0)
    ++level;
  link(hook, level, static_cast<unsigned>((t >> (level_bits * level)) & (slot_count - 1)));
}

void timer_wheel::push_front(timer_hook*& head, timer_hook& hook) noexcept {
  hook.next_ = head;
  if (head) head->pprev_ = &hook.next_;
  head = &hook;
  hook.pprev_ = &head;
}

void timer_wheel::link(timer_hook& hook, unsigned level, unsigned slot) noexcept {
  push_front(slots_[level][slot], hook);
  occupied_[level][slot / 64] |= std::uint64_t{1} << (slot % 64);
}

// Cancelling leaves a slot's bit set (a hook does not know its wheel); the search clears it.
unsigned timer_wheel::next_occupied(unsigned level, unsigned from) noexcept {
  for (unsigned w = from / 64; w < words_per_level; ++w) {
    auto bits = occupied_[level][w];
    if (w == from / 64) bits &= ~std::uint64_t{0} << (from % 64);
    while (bits) {
      const unsigned slot = w * 64 + static_cast<unsigned>(std::countr_zero(bits));
      if (slots_[level][slot]) return slot;
      occupied_[level][w] &= ~(std::uint64_t{1} << (slot % 64));
      bits &= bits - 1;
    }
  }
  return slot_count;
}

void timer_wheel::advance(clock::time_point now) {
  const tick target = to_tick(now);
  run_current_slot(now);
  while (position_ < target) {
    const tick next = next_event();
    if (next > target) {
      position_ = target;
      break;
    }
    position_ = next;
    cascade();
    run_current_slot(now);
  }
}

// The next millisecond after the position at which something happens: a level-0 slot with
// entries, the start of a higher level's slot with entries (which then move down), or the next
// span's start when deadlines wait for it. The lowest level with one has the earliest: every slot
// of a level lies within the current slot of the level above.
timer_wheel::tick timer_wheel::next_event() noexcept {
  for (unsigned level = 0; level < level_count; ++level) {
    const unsigned shift = level_bits * level;
    const auto index = static_cast<unsigned>((position_ >> shift) & (slot_count - 1));
    const unsigned slot = next_occupied(level, index + 1);
    if (slot == slot_count) continue;
    const unsigned above = shift + level_bits;
    return ((position_ >> above) << above) | (tick{slot} << shift);
  }
  return overflow_ ? next_span() : std::numeric_limits<tick>::max();
}

timer_wheel::tick timer_wheel::next_span() const noexcept {
  constexpr unsigned span_bits = level_bits * level_count;
  return ((position_ >> span_bits) + 1) << span_bits;
}

void timer_wheel::cascade() noexcept {
  auto place_all = [this](timer_hook* h) {
    while (h) {
      auto* next = std::exchange(h->next_, nullptr);
      h->pprev_ = nullptr;
      place(*h);
      h = next;
    }
  };
  // At the start of a span the deadlines that waited for it come in (those of later spans go back
  // on the overflow list); then each level's slot that starts here moves down.
  constexpr unsigned span_bits = level_bits * level_count;
  if ((position_ & ((tick{1} << span_bits) - 1)) == 0) place_all(std::exchange(overflow_, nullptr));
  for (unsigned level = level_count - 1; level >= 1; --level) {
    const unsigned shift = level_bits * level;
    if ((position_ & ((tick{1} << shift) - 1)) != 0) continue;  // not the start of a slot here
    const auto slot = static_cast<unsigned>((position_ >> shift) & (slot_count - 1));
    place_all(std::exchange(slots_[level][slot], nullptr));
  }
}

void timer_wheel::run_current_slot(clock::time_point now) {
  const auto slot = static_cast<unsigned>(position_ & (slot_count - 1));
  for (;;) {
    auto* h = std::exchange(slots_[0][slot], nullptr);
    // What is due moves to the firing list (where it can still be cancelled by the calls before
    // it); the rest (later in this millisecond) is placed again.
    while (h) {
      auto* next = std::exchange(h->next_, nullptr);
      h->pprev_ = nullptr;
      if (h->when_ <= now) {
        push_front(firing_, *h);
      } else {
        place(*h);
      }
      h = next;
    }
    if (!firing_) return;
    while (firing_) {
      auto* due = firing_;
      due->cancel();
      due->on_timer(now);
    }
    // The calls may have scheduled deadlines that are due already: they are in this slot.
  }
}

clock::time_point timer_wheel::next_deadline() noexcept {
  // The current millisecond's slot may hold deadlines later in it; every entry of a later level-0
  // slot is later than those of the first one with entries.
  const unsigned first = next_occupied(0, static_cast<unsigned>(position_ & (slot_count - 1)));
  if (first < slot_count) {
    auto best = clock::time_point::max();
    for (auto* h = slots_[0][first]; h; h = h->next_)
      best = std::min(best, h->when_);
    return best;
  }
  const tick next = next_event();
  return next == std::numeric_limits<tick>::max() ? clock::time_point::max() : to_time(next);
}

void timer_wheel::arm(clock::time_point when) {
  armed_for_ = when;
  if (manual_) return;  // run_due() runs them
  timer_.expires_at(when);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed earlier (cancelled) or shutting down
    fire();
  });
}

void timer_wheel::fire() {
  armed_for_ = clock::time_point::max();
  const auto now = this->now();
  advance(now);
  sweep(now);
  // on_timer may have scheduled entries (and armed the timer) already.
  auto next = next_deadline();
  if (weak_count_ >= sweep_min_entries) next = std::min(next, now + sweep_interval_);
  if (next < armed_for_) arm(next);
}

// Weak entries of clients that are gone would otherwise stay until their time comes, each
// keeping a control block that pins a page of freed memory after a burst of closes: many of them
// are swept every few seconds, a linear pass.
void timer_wheel::sweep(clock::time_point now) {
  if (weak_count_ < sweep_min_entries || now - swept_at_ < sweep_interval_) return;
  swept_at_ = now;
  for (auto* e = weak_list_; e;) {
    auto* next = e->next;
    if (e->client.expired()) drop(e);
    e = next;
  }
}

}  // namespace ignis::net
