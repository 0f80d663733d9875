#pragma once

#include <chrono>
#include <string>

namespace ignis {

/// UTC time as JavaScript's Date.prototype.toISOString() writes it: 2026-11-25T21:43:43.278Z.
std::string iso_time(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

}  // namespace ignis
