#pragma once

// Comma-separated option values ("a, b,c").
#include <sstream>
#include <string>
#include <vector>

namespace ignis::program {

/// The non-empty items of a comma-separated list, trimmed of spaces and tabs.
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    const auto e = item.find_last_not_of(" \t");
    out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace ignis::program
