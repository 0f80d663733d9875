#pragma once

// Feeding a stream decoder the same bytes cut at every position is the cheapest way to find
// state that is lost between two reads.
#include <string_view>
#include <vector>

namespace ignis::test {

/// Calls fn(pieces) for every way of cutting `input` in two (including the empty first and last
/// piece), then once with the input fed one byte at a time.
template <class F>
void for_each_split(std::string_view input, F&& fn) {
  for (std::size_t i = 0; i <= input.size(); ++i) {
    fn(std::vector<std::string_view>{input.substr(0, i), input.substr(i)});
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i)
    bytes.push_back(input.substr(i, 1));
  fn(bytes);
}

}  // namespace ignis::test
