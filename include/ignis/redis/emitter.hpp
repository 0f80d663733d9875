#pragma once

// Sends to the clients of a Socket.IO cluster from any process, without being a server: the
// messages of Node's @socket.io/redis-emitter 5.1 (classic adapter channels, uid "emitter"), byte
// for byte. Immutable: to()/except()/of() return new emitters, like the Node API's chaining.
#include <ignis/redis/client.hpp>
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/payload.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis {

class emitter {
 public:
  /// Receives each message: PUBLISH `channel` `payload`.
  using publish_fn = std::function<void(std::string channel, std::string payload)>;

  /// Publishes through `conn` (started by the caller); `key` is the adapters' channel prefix.
  explicit emitter(std::shared_ptr<connection> conn, std::string key = "socket.io",
                   std::string nsp = "/");
  explicit emitter(publish_fn publish, std::string key = "socket.io", std::string nsp = "/");

  /// The same emitter for namespace `nsp` ("chat" and "/chat" are the same).
  emitter of(std::string nsp) const;
  emitter to(std::string room) const;
  emitter to(const std::vector<std::string>& rooms) const;
  emitter in(std::string room) const { return to(std::move(room)); }
  emitter except(std::string room) const;
  emitter except(const std::vector<std::string>& rooms) const;
  emitter volatile_() const;
  emitter compress(bool on) const;

  /// Broadcasts `event` to the matching clients of every server. Reserved event names (connect,
  /// disconnect, ...) throw std::invalid_argument, as the Node emitter does.
  void emit(std::string_view event, socketio::payload args = {}) const;
  void sockets_join(std::vector<std::string> rooms) const;
  void sockets_leave(std::vector<std::string> rooms) const;
  void disconnect_sockets(bool close = false) const;
  /// To the servers' server-side handlers (no acknowledgements: an emitter hears nothing back).
  void server_side_emit(std::string_view event, socketio::payload args = {}) const;

 private:
  publish_fn publish_;
  std::string key_;
  std::string nsp_;
  socketio::broadcast_options opts_;
};

}  // namespace ignis::redis
