#pragma once

// One Engine.IO connection seen from Socket.IO: decodes its messages, multiplexes its namespaces
// and closes it when no namespace is joined within connectTimeout (Node's Client).
#include <ignis/socketio/server.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::socketio {

/// A packet as Engine.IO messages, encoded once (and shareable between recipients).
std::vector<engineio::message_ptr> to_messages(const packet& p);

/// Lives inside its Engine.IO session (engineio::session::emplace_listener): one block per
/// connection. Whoever keeps a client (its sockets) keeps the session's block, through an aliasing
/// shared pointer (self()).
class client final : public engineio::session_listener {
 public:
  explicit client(engineio::session& session);

  /// Keeps what socket.handshake needs of the opening request; arms the connect timeout.
  void start(engineio::session::handshake_request request);
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
  /// ones are copies of it. Either way the pointer keeps the client alive (sockets rely on it).
  std::shared_ptr<const handshake_info> make_handshake(boost::json::object auth);
  /// `h` in a block that keeps this client alive.
  std::shared_ptr<const handshake_info> copy_handshake(handshake_info h);

 private:
  server& srv() const noexcept;
  void on_decoded(packet p);
  void connect(const std::string& name, boost::json::object auth);

  // First, so that they take the padding after the listener base's flag: the client stays within
  // the session's listener_size.
  bool closed_ = false;
  bool handshake_taken_ = false;
  engineio::session& session_;
  // One socket per namespace joined (its name is the socket's nsp()). Most connections join one:
  // it is kept inline, the others (if any) in a vector of their own; 24 bytes in all.
  class socket_list {
   public:
    bool empty() const noexcept { return !first_; }
    void push_back(socket_ptr s);
    void erase(const socket& s) noexcept;
    /// The socket of namespace `name`, or null.
    socket_ptr find(std::string_view name) const noexcept;
    template <class F>
    void for_each(F&& f) const {
      if (first_) f(first_);
      if (rest_) {
        for (const auto& s : *rest_)
          f(s);
      }
    }
    /// A copy of the list, for a walk during which sockets may leave it.
    std::vector<socket_ptr> snapshot() const;
    void clear() noexcept {
      first_.reset();
      rest_.reset();
    }

   private:
    socket_ptr first_;
    std::unique_ptr<std::vector<socket_ptr>> rest_;  // non-empty only with first_ set
  };

  packet_assembler decoder_;  // its limits are the server's (options().parser)
  socket_list sockets_;
  // The first namespace's handshake, inside the client rather than a block of its own: filled
  // from the opening request at start() (the session keeps none of it); later namespaces copy it.
  handshake_info handshake_;
};

}  // namespace ignis::socketio
