#pragma once

// What a Socket.IO server's sockets do, told to one observer (the admin UI support watches a
// server through it). Without an observer the server does none of this work: each place checks one
// pointer.
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/socket_info.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::socketio {

class socket;
class namespace_;
enum class disconnect_reason : std::uint8_t;

/// Told what happens to the sockets of every namespace of a server (those created later too).
/// Every call but on_info runs on the socket's shard, from inside the server's own work (a join, a
/// delivery): an observer records what it needs and returns; it must not call back into the socket
/// or its namespace from there. Install it with server::observe() before the server serves.
class observer {
 public:
  virtual ~observer() = default;

  /// `s` was accepted in its namespace (its CONNECT answer is queued), before the connection
  /// handlers run.
  virtual void on_connect(socket& s) = 0;
  /// `s` left its namespace; `rooms` are the rooms it was in (its own-id room first).
  virtual void on_disconnect(socket& s, disconnect_reason reason,
                             const std::vector<std::string>& rooms) = 0;
  /// `s` joined / left `room` (its own-id room is joined at connect).
  virtual void on_join(socket& s, std::string_view room) = 0;
  virtual void on_leave(socket& s, std::string_view room) = 0;
  /// The connection of `s` moved from long-polling to WebSocket.
  virtual void on_upgrade(socket& s) = 0;
  /// An event from the client of `s`: its name and arguments (an acknowledgement request is not
  /// part of them), before any handler sees them.
  virtual void on_event_received(socket& s, std::string_view event, const payload& args) = 0;
  /// The EVENT `p` (data = [event, ...args]) was sent to `recipients` of namespace `nsp` on this
  /// shard: once per direct emit, once per shard and broadcast (Redis adapters' deliveries
  /// included).
  virtual void on_events_sent(namespace_& nsp, const packet& p,
                              std::span<socket* const> recipients) = 0;
  /// What fetch_sockets reports of `s` (here, or to another server of a cluster) may be amended.
  /// Runs on the socket's shard.
  virtual void on_info(const socket& s, socket_info& info) = 0;
};

}  // namespace ignis::socketio
