#include "logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

namespace ignis::program {
namespace {

bool json_lines = false;

spdlog::level::level_enum level_of(std::string_view name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return spdlog::level::info;
}

std::string json_escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

void configure_logging(std::string_view format, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("ignis-socketio");
  json_lines = format == "json";
  // The message of a JSON line is escaped by log_line(); the pattern adds the rest.
  logger->set_pattern(json_lines
                          ? R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%v"})"
                          : "%Y-%m-%dT%H:%M:%S.%e %l %v");
  logger->set_level(level_of(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_line(std::string_view level, std::string_view message) {
  const auto lvl = level_of(level);
  if (!spdlog::default_logger_raw()->should_log(lvl)) return;
  if (json_lines) {
    spdlog::log(lvl, "{}", json_escaped(message));
  } else {
    spdlog::log(lvl, "{}", message);
  }
}

}  // namespace ignis::program
