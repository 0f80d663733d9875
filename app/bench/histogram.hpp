#pragma once

// A latency histogram with ~3% resolution from 1 ns to hours: 32 linear sub-buckets per power of
// two, fixed size, no allocation, so it can live in memory shared between load processes.
#include <bit>
#include <cstdint>

namespace ignis::bench {

class latency_histogram {
 public:
  static constexpr unsigned sub_buckets = 32;
  static constexpr unsigned bucket_count = 60 * sub_buckets;

  void record(std::uint64_t ns) noexcept {
    ++counts_[index_of(ns)];
    ++total_;
  }
  void merge(const latency_histogram& other) noexcept {
    for (unsigned i = 0; i < bucket_count; ++i)
      counts_[i] += other.counts_[i];
    total_ += other.total_;
  }
  std::uint64_t count() const noexcept { return total_; }

  /// The value at quantile q (0..1): the middle of the bucket holding that rank; 0 when empty.
  std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (unsigned i = 0; i < bucket_count; ++i) {
      seen += counts_[i];
      if (seen > rank) return middle_of(i);
    }
    return middle_of(bucket_count - 1);
  }

 private:
  static unsigned index_of(std::uint64_t v) noexcept {
    if (v < 2 * sub_buckets) return static_cast<unsigned>(v);
    const unsigned msb = 63U - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - 5;  // v >> shift lands in [32, 64)
    const unsigned i = (shift + 1) * sub_buckets + static_cast<unsigned>(v >> shift) - sub_buckets;
    return i < bucket_count ? i : bucket_count - 1;
  }
  static std::uint64_t middle_of(unsigned i) noexcept {
    if (i < 2 * sub_buckets) return i;
    const unsigned shift = i / sub_buckets - 1;
    const std::uint64_t low = static_cast<std::uint64_t>(i % sub_buckets + sub_buckets) << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::uint64_t counts_[bucket_count] = {};
  std::uint64_t total_ = 0;
};

}  // namespace ignis::bench
