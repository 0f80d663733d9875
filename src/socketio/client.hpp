#pragma once

// One Engine.IO connection seen from Socket.IO: decodes its messages, multiplexes its namespaces
// and closes it when no namespace is joined within connectTimeout (Node's Client).
#include <ignis/socketio/server.hpp>

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ignis::socketio {

/// A packet as Engine.IO messages, encoded once (and shareable between recipients).
std::vector<engineio::message_ptr> to_messages(const packet& p);

/// Lives inside its Engine.IO session (engineio::session::emplace_listener): one block per
/// connection. Whoever keeps a client (its sockets) keeps the session's block, through an aliasing
/// shared pointer (self()).
class client final : public engineio::session_listener {
 public:
  client(server& srv, engineio::session& session);

  void start();
  void on_message(const engineio::packet& p) override;
  void on_close(engineio::close_reason reason) override;
  /// connectTimeout: no namespace joined in time.
  void on_deadline(net::clock::time_point now) override;
  void on_upgrade() override;

  /// Shares the ownership of the session this client lives in.
  std::shared_ptr<client> self() { return {session_.shared_from_this(), this}; }

  void send(const packet& p, bool droppable = false);
  void send_encoded(const std::vector<engineio::message_ptr>& messages, bool droppable);
  /// A socket left its namespace.
  void remove(const socket& s);
  /// Closes the connection ("forced server close").
  void close();
  /// socket.disconnect(true): every namespace gets a DISCONNECT, then the connection closes.
  void disconnect_all();
  /// Lets go of the sockets without a word to anyone: the server is being destroyed without
  /// having closed its connections.
  void abandon() noexcept { sockets_.clear(); }

  bool is_open() const noexcept { return !closed_; }
  net::shard& home() const noexcept { return session_.home(); }
  engineio::transport_kind transport() const noexcept { return session_.transport(); }
  std::string_view engine_id() const noexcept { return session_.id(); }
  /// socket.handshake for a namespace being joined: the first shares the client's block, later
  /// ones are copies of it.
  std::shared_ptr<const handshake_info> make_handshake(boost::json::object auth);

 private:
  void on_decoded(packet p);
  void connect(const std::string& name, boost::json::object auth);

  server& server_;
  engineio::session& session_;
  decoder decoder_;
  // One per namespace joined (its name is the socket's nsp()). Most connections join one: it is
  // kept inline, without an allocation of its own.
  boost::container::small_vector<socket_ptr, 1> sockets_;
  bool closed_ = false;
  bool handshake_taken_ = false;
  // The first namespace's handshake, inside the client rather than a block of its own: it took
  // the request details from the session (one copy per connection, not two); later namespaces
  // copy it.
  handshake_info handshake_;
};

}  // namespace ignis::socketio
