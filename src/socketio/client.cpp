#include "socketio/client.hpp"

#include <boost/json/string.hpp>

#include <charconv>
#include <chrono>

namespace ignis::socketio {
namespace {

// The client's address as handshake.address: dotted quad for IPv4 (almost every connection),
// written here because the C library's inet_ntop formats it with sprintf; IPv6 as Asio writes it.
std::string address_text(const boost::asio::ip::address& a) {
  if (!a.is_v4()) return a.to_string();
  const auto bytes = a.to_v4().to_bytes();
  std::string text;  // at most 15 characters: no allocation
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) text.push_back('.');
    char digits[3];
    text.append(digits, std::to_chars(digits, digits + sizeof digits, bytes[i]).ptr);
  }
  return text;
}

}  // namespace

void client::socket_list::push_back(socket_ptr s) {
  if (!first_) {
    first_ = std::move(s);
    return;
  }
  if (!rest_) rest_ = std::make_unique<std::vector<socket_ptr>>();
  rest_->push_back(std::move(s));
}

void client::socket_list::erase(const socket& s) noexcept {
  if (first_.get() == &s) {
    first_.reset();
    if (rest_ && !rest_->empty()) {
      first_ = std::move(rest_->front());
      rest_->erase(rest_->begin());
    }
  } else if (rest_) {
    std::erase_if(*rest_, [&s](const socket_ptr& e) { return e.get() == &s; });
  }
  if (rest_ && rest_->empty()) rest_.reset();
}

socket_ptr client::socket_list::find(std::string_view name) const noexcept {
  socket_ptr found;
  for_each([&](const socket_ptr& s) {
    if (!found && s->nsp().name() == name) found = s;
  });
  return found;
}

std::vector<socket_ptr> client::socket_list::snapshot() const {
  std::vector<socket_ptr> out;
  for_each([&out](const socket_ptr& s) { out.push_back(s); });
  return out;
}

std::vector<engineio::message_ptr> to_messages(const packet& p) {
  auto encoded = encode(p);
  std::vector<engineio::message_ptr> out;
  out.reserve(1 + encoded.attachments.size());
  out.push_back(engineio::message::text(engineio::packet_type::message, encoded.text));
  for (const auto& a : encoded.attachments)
    out.push_back(engineio::message::binary(*a));
  return out;
}

client::client(engineio::session& session) : session_(session) {}

server& client::srv() const noexcept {
  return server::of(session_);
}

void client::start(engineio::session::handshake_request request) {
  handshake_.url = std::move(request.url);
  handshake_.headers = std::move(request.headers);
  handshake_.address = address_text(request.remote.address());
  session_.set_listener_deadline(home().now() + srv().options().connect_timeout);
}

void client::on_deadline(net::clock::time_point) {
  if (!closed_ && sockets_.empty()) close();
}

void client::on_upgrade() {
  if (auto* o = srv().observing())
    sockets_.for_each([o](const socket_ptr& s) { o->on_upgrade(*s); });
}

void client::on_message(const engineio::packet& p) {
  if (closed_) return;
  auto decoded = p.binary ? decoder_.feed_binary(p.data, srv().options().parser)
                          : decoder_.feed_text(p.data, srv().options().parser);
  if (!decoded) {
    // Node: "invalid packet format" closes the whole connection.
    close();
    return;
  }
  if (*decoded) on_decoded(std::move(**decoded));
}

void client::on_decoded(packet p) {
  const auto target = sockets_.find(p.nsp);
  if (!target && p.type == packet_type::connect) {
    boost::json::object auth;
    if (p.data && p.data->is_object()) auth = std::move(p.data->get_object());
    connect(p.nsp, std::move(auth));
    return;
  }
  if (target && p.type != packet_type::connect && p.type != packet_type::connect_error) {
    target->on_packet(p);
    return;
  }
  close();  // a second CONNECT, or a packet for a namespace not joined
}

void client::connect(const std::string& name, boost::json::object auth) {
  namespace_* nsp = srv().find(name);
  if (!nsp) nsp = srv().find_or_create_dynamic(name, auth);
  if (!nsp) {
    packet refusal{packet_type::connect_error,
                   name,
                   std::nullopt,
                   boost::json::value(boost::json::object{{"message", "Invalid namespace"}}),
                   {}};
    send(refusal);
    return;
  }
  // The session's weak reference stands for the client's: the client lives inside it.
  nsp->add(self(), std::move(auth), [weak = session_.weak_from_this(), this](socket_ptr s) {
    const auto alive = weak.lock();
    if (!alive || closed_) {
      // Admitted as the connection closed: it ends here, not in a namespace that does not own it.
      s->on_close(disconnect_reason::transport_close);
      return;
    }
    if (sockets_.empty()) session_.set_listener_deadline(net::clock::time_point::max());
    sockets_.push_back(s);
  });
}

void client::send(const packet& p, bool droppable) {
  send_encoded(to_messages(p), droppable);
}

void client::send_encoded(const std::vector<engineio::message_ptr>& messages, bool droppable) {
  if (closed_) return;
  if (droppable) {
    // A volatile packet goes whole or not at all.
    if (session_.send(messages.front(), true) != engineio::session::send_status::queued) return;
    for (std::size_t i = 1; i < messages.size(); ++i)
      session_.send(messages[i]);
    return;
  }
  for (const auto& m : messages)
    session_.send(m);
}

void client::remove(const socket& s) {
  sockets_.erase(s);
}

void client::close() {
  if (closed_) return;
  const auto keep = self();
  session_.close();
  on_close(engineio::close_reason::forced_close);
}

void client::disconnect_all() {
  const auto keep = self();
  for (const auto& s : sockets_.snapshot())
    s->disconnect(false);
  close();
}

void client::on_close(engineio::close_reason reason) {
  if (closed_) return;
  const auto keep = self();
  closed_ = true;
  disconnect_reason r = disconnect_reason::transport_close;
  switch (reason) {
    case engineio::close_reason::transport_close:
      r = disconnect_reason::transport_close;
      break;
    case engineio::close_reason::transport_error:
      r = disconnect_reason::transport_error;
      break;
    case engineio::close_reason::ping_timeout:
      r = disconnect_reason::ping_timeout;
      break;
    case engineio::close_reason::parse_error:
      r = disconnect_reason::parse_error;
      break;
    case engineio::close_reason::forced_close:
      r = disconnect_reason::forced_server_close;
      break;
    case engineio::close_reason::slow_consumer:
    case engineio::close_reason::write_stall:
      r = disconnect_reason::transport_error;
      break;
  }
  const auto sockets = std::move(sockets_);
  sockets_.clear();
  sockets.for_each([r](const socket_ptr& s) { s->on_close(r); });
  decoder_.reset();
}

std::shared_ptr<const handshake_info> client::copy_handshake(handshake_info h) {
  // One block for the copy and the reference that keeps this client (and its session) alive.
  struct kept_copy {
    std::shared_ptr<client> owner;
    handshake_info info;
  };
  auto block = std::make_shared<kept_copy>(kept_copy{self(), std::move(h)});
  return {block, &block->info};
}

std::shared_ptr<const handshake_info> client::make_handshake(boost::json::object auth) {
  const auto issued = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (handshake_taken_) {
    auto h = handshake_;
    h.issued = issued;
    h.auth = std::move(auth);
    return copy_handshake(std::move(h));
  }
  handshake_taken_ = true;
  handshake_.issued = issued;
  handshake_.auth = std::move(auth);
  return {self(), &handshake_};
}

}  // namespace ignis::socketio
