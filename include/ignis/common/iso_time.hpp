#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ignis {

/// UTC time as JavaScript's Date.prototype.toISOString() writes it: 2026-11-25T21:43:43.278Z.
std::string iso_time(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

/// The same for milliseconds since the epoch over JavaScript's whole Date range (±8.64e15 ms),
/// which system_clock's nanoseconds cannot hold: years outside 0–9999 get JavaScript's six-digit
/// signed form (+275760-09-13T00:00:00.000Z).
std::string iso_time_from_ms(std::int64_t ms_since_epoch);

/// UTC time as JavaScript's Date.prototype.toString() writes it in the UTC time zone (Node's
/// handshake.time): Sun Dec 06 2026 19:23:17 GMT+0000 (Coordinated Universal Time). Years 0-9999.
std::string date_string_from_ms(std::int64_t ms_since_epoch);

}  // namespace ignis
