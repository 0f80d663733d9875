#pragma once

// The Admin UI protocol's values, without I/O: the sockets as the UI lists them, the commands it
// sends, the per-second traffic counts of server_stats, and the logins it may come back with.
#include <ignis/engineio/server.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/socket_info.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ignis::admin::detail {

// -- Sockets ------------------------------------------------------------------------------------

/// A socket as the UI lists it (admin-ui's SerializedSocket): {id, clientId, transport, nsp, data,
/// handshake:{address, headers, query, issued, secure, time, url, xdomain}, rooms}. clientId and
/// transport come from data._admin (where every instrumented server of a cluster puts them, so
/// that fetch_sockets carries them); data is shown without it. handshake.auth is never shown.
boost::json::object serialize_socket(const socketio::socket_info& s, std::string_view nsp);
/// data without its _admin member (an absent or null data: {}).
boost::json::value serialize_data(const boost::json::value& data);

// -- Commands -----------------------------------------------------------------------------------

/// What the UI asks for (admin-ui's ClientEvents). `filter`: the rooms (socket ids) the command is
/// limited to; empty for the whole namespace.
struct command {
  enum class kind : std::uint8_t { emit, join, leave, disconnect };
  kind what = kind::emit;
  std::string nsp;
  std::vector<std::string> filter;
  std::vector<std::string> rooms;  ///< join, leave
  std::string event;               ///< emit
  socketio::payload args;          ///< emit
  bool close = false;              ///< disconnect: the whole connection
};
/// Bounds of what a command may name.
inline constexpr std::size_t max_command_rooms = 100;
inline constexpr std::size_t max_room_name = 1'024;
/// The command of UI event `event` with `args` (taken), or nullopt when it is none or malformed
/// (a non-string namespace or event, a reserved event name, a room that is not a non-empty string,
/// a filter of another type than a string or an array of strings, a close that is not a boolean).
std::optional<command> parse_command(std::string_view event, socketio::payload&& args);

// -- Statistics ---------------------------------------------------------------------------------

/// Engine.IO totals of one server, summed over its shards.
struct engine_totals {
  std::int64_t connections = 0;
  std::int64_t packets_in = 0;
  std::int64_t bytes_in = 0;
  std::int64_t packets_out = 0;
  std::int64_t bytes_out = 0;
  std::array<std::int64_t, engineio::close_reason_count> closes{};
};
engine_totals engine_totals_of(const engineio::server& engine, std::size_t shards);

/// server_stats' aggregatedEvents: what happened since the previous sample, as admin-ui's
/// EventBuffer lists it ({timestamp: ms truncated to the second, type, subType?, count}; types
/// rawConnection, rawDisconnection (subType: the Engine.IO close reason), packetsIn, bytesIn,
/// packetsOut, bytesOut; counts of zero left out).
class traffic_sampler {
 public:
  explicit traffic_sampler(const engine_totals& baseline) : last_(baseline) {}
  boost::json::array sample(const engine_totals& now, std::int64_t wall_ms);

 private:
  engine_totals last_;
};

// -- Logins -------------------------------------------------------------------------------------

/// The session ids handed to the UIs that logged in (admin-ui's InMemoryStore, bounded: the
/// oldest goes when it is full, and each expires). Thread-safe.
class session_store {
 public:
  using clock = std::chrono::steady_clock;
  session_store(std::size_t max_sessions, std::chrono::seconds duration)
      : max_(max_sessions == 0 ? 1 : max_sessions), duration_(duration) {}
  /// A new session id: 16 hex digits from 8 random bytes.
  std::string create(clock::time_point now);
  bool valid(std::string_view id, clock::time_point now);
  std::size_t size() const;

 private:
  std::size_t max_;
  std::chrono::seconds duration_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, clock::time_point> expiries_;
};

/// a == b in a time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace ignis::admin::detail
