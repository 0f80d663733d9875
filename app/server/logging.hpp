#pragma once

// The program's log (stderr): "text" lines for people, or one JSON object per line
// ({"time","level","message"}) for log collectors.
#include <string_view>

namespace ignis::program {

/// Sets the format ("text" or "json") and the lowest level written (debug, info, warn, error,
/// off). Call once, before any thread logs.
void configure_logging(std::string_view format, std::string_view level);

/// Writes one line; `level` as the helper names them (debug, info, warn/warning, error).
void log_line(std::string_view level, std::string_view message);

}  // namespace ignis::program
