#include "client/manager_impl.hpp"

#include <ignis/client/socket.hpp>

#include <boost/asio/post.hpp>

#include <stdexcept>

namespace ignis::client {
namespace asio = boost::asio;

socket::socket(std::shared_ptr<detail::socket_impl> impl, std::string nsp)
    : impl_(std::move(impl)), nsp_(std::move(nsp)) {}

socket::~socket() {
  impl_->detached.store(true, std::memory_order_release);
  asio::post(impl_->manager()->strand(), [impl = impl_] { impl->detach(); });
}

std::string socket::id() const {
  return impl_->id();
}

bool socket::connected() const noexcept {
  return impl_->connected_flag.load(std::memory_order_acquire);
}

bool socket::recovered() const noexcept {
  return impl_->recovered_flag.load(std::memory_order_acquire);
}

socket::executor_type socket::get_executor() const noexcept {
  return impl_->manager()->strand();
}

void socket::connect() {
  asio::post(impl_->manager()->strand(), [impl = impl_] { impl->connect(); });
}

void socket::disconnect() {
  asio::post(impl_->manager()->strand(), [impl = impl_] { impl->disconnect(); });
}

void socket::set_auth(boost::json::object auth) {
  asio::post(impl_->manager()->strand(),
             [impl = impl_, auth = std::move(auth)]() mutable { impl->set_auth(std::move(auth)); });
}

listener_id socket::on(std::string event, event_handler h) {
  const auto id = detail::next_listener_id();
  asio::post(impl_->manager()->strand(),
             [impl = impl_, id, event = std::move(event), h = std::move(h)]() mutable {
               impl->add_event_listener(id, std::move(event), std::move(h));
             });
  return id;
}

namespace {

template <class List, class F>
listener_id add_to(const std::shared_ptr<detail::socket_impl>& impl,
                   List detail::socket_impl::*list, F h) {
  const auto id = detail::next_listener_id();
  asio::post(impl->manager()->strand(), [impl, list, id, h = std::move(h)]() mutable {
    ((*impl).*list).add(id, std::move(h));
  });
  return id;
}

}  // namespace

listener_id socket::on_any(any_handler h) {
  return add_to(impl_, &detail::socket_impl::any, std::move(h));
}

listener_id socket::on_connect(std::function<void()> h) {
  return add_to(impl_, &detail::socket_impl::on_connect, std::move(h));
}

listener_id socket::on_disconnect(std::function<void(disconnect_reason)> h) {
  return add_to(impl_, &detail::socket_impl::on_disconnect, std::move(h));
}

listener_id socket::on_connect_error(std::function<void(const connect_error&)> h) {
  return add_to(impl_, &detail::socket_impl::on_connect_error, std::move(h));
}

void socket::off(std::string_view event) {
  asio::post(impl_->manager()->strand(),
             [impl = impl_, event = std::string(event)] { impl->remove_event_listeners(event); });
}

void socket::off(listener_id id) {
  asio::post(impl_->manager()->strand(), [impl = impl_, id] { impl->remove_listener(id); });
}

void socket::off_any() {
  asio::post(impl_->manager()->strand(), [impl = impl_] { impl->any.clear(); });
}

void socket::emit(std::string_view event, payload args) {
  emit_packet(impl_, event, std::move(args), false, std::chrono::milliseconds(0), nullptr);
}

void socket::emit_volatile(std::string_view event, payload args) {
  emit_packet(impl_, event, std::move(args), true, std::chrono::milliseconds(0), nullptr);
}

void socket::emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           ack_callback cb) {
  if (!cb) throw std::invalid_argument("emit_with_ack needs a callback");
  emit_packet(impl_, event, std::move(args), false, timeout, std::move(cb));
}

void socket::check_event_name(std::string_view event) {
  if (socketio::is_reserved_event(event)) {
    throw std::invalid_argument("\"" + std::string(event) + "\" is a reserved event name");
  }
}

void socket::emit_packet(const std::shared_ptr<detail::socket_impl>& impl, std::string_view event,
                         payload args, bool is_volatile, std::chrono::milliseconds timeout,
                         ack_callback cb) {
  check_event_name(event);
  asio::post(impl->manager()->strand(), [impl, event = std::string(event), args = std::move(args),
                                         is_volatile, timeout, cb = std::move(cb)]() mutable {
    impl->emit(std::move(event), std::move(args), is_volatile, timeout, std::move(cb));
  });
}

socket::executor_type socket::executor_of(const detail::socket_impl& impl) noexcept {
  return impl.manager()->strand();
}

}  // namespace ignis::client
