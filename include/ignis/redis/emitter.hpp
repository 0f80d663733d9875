#pragma once

// Sends to the clients of a Socket.IO cluster from any process, without being a server: the
// messages of Node's @socket.io/redis-emitter 5.1 (classic adapter channels, uid "emitter"), byte
// for byte, or in streams mode the entries of @socket.io/redis-streams-emitter 0.1 (XADD to the
// stream of @socket.io/redis-streams-adapter, uid "emitter"). Immutable: to()/except()/of() return
// new emitters, like the Node API's chaining.
#include <ignis/redis/client.hpp>
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/payload.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis {

/// Where a streams-mode emitter writes: the options of @socket.io/redis-streams-emitter, which
/// must be those of the servers' streams adapters.
struct stream_options {
  std::string stream_name = "socket.io";  ///< the stream key (streamName)
  std::size_t max_len = 10000;            ///< XADD ... MAXLEN ~ max_len (maxLen)
};

class emitter {
 public:
  /// Receives each message: PUBLISH `channel` `payload`.
  using publish_fn = std::function<void(std::string channel, std::string payload)>;
  /// Receives each Redis command: PUBLISH channel payload, or in streams mode
  /// XADD stream MAXLEN ~ n * uid emitter nsp .. type .. [data ..].
  using command_fn = std::function<void(std::vector<std::string> command)>;
  /// What a server-side emit with acknowledgements would be answered with.
  using replies_fn = std::function<void(std::vector<socketio::payload> replies)>;

  /// Publishes through `conn` (started by the caller); `key` is the adapters' channel prefix.
  explicit emitter(std::shared_ptr<connection> conn, std::string key = "socket.io",
                   std::string nsp = "/");
  explicit emitter(publish_fn publish, std::string key = "socket.io", std::string nsp = "/");

  /// Streams mode: each message is one XADD to `opts.stream_name`, through `conn` (started by
  /// the caller; on a Redis Cluster the command goes to the stream key's slot). The data of each
  /// entry is laid out as the streams adapters lay out theirs (opts {rooms, except, flags}), with
  /// packet.nsp added to a broadcast as the Node emitter adds it; readers do not depend on the
  /// order of the keys.
  static emitter streams(std::shared_ptr<connection> conn, stream_options opts = {},
                         std::string nsp = "/");
  static emitter streams(command_fn send, stream_options opts = {}, std::string nsp = "/");

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
  /// Refused with std::invalid_argument: the answers would go to a server's uid, and an emitter
  /// is no server (Node's emitters throw too). Nothing is sent.
  void server_side_emit(std::string_view event, socketio::payload args,
                        const replies_fn& on_replies) const;

  /// Whether messages go to a stream (XADD) rather than to channels (PUBLISH).
  bool streams_mode() const noexcept { return stream_.has_value(); }

 private:
  emitter(command_fn send, std::optional<stream_options> stream, std::string key, std::string nsp);
  void send(std::string channel, std::string payload) const;
  /// One stream entry of ClusterAdapter message type `type`.
  void xadd(std::int64_t type, boost::json::object data,
            std::vector<socketio::attachment> attachments = {}) const;

  command_fn send_;
  std::optional<stream_options> stream_;
  std::string key_;
  std::string nsp_;
  socketio::broadcast_options opts_;
};

}  // namespace ignis::redis
