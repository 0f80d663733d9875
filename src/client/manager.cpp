#include "client/manager_impl.hpp"

#include <ignis/client/manager.hpp>
#include <ignis/socketio/packet.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

namespace ignis::client {
namespace asio = boost::asio;

manager::manager(executor_type ex, std::string_view url, manager_options options) {
  auto cfg = detail::make_engine_config(url, options);
  impl_ = std::make_shared<detail::manager_impl>(std::move(ex), std::move(cfg), std::move(options));
}

manager::~manager() {
  if (!impl_) return;
  impl_->detached.store(true, std::memory_order_release);
  asio::post(impl_->strand(), [impl = impl_] { impl->detach(); });
}

manager::manager(manager&& other) noexcept = default;

manager& manager::operator=(manager&& other) noexcept {
  if (this != &other) {
    manager dying(std::move(*this));  // detaches what this held
    impl_ = std::move(other.impl_);
  }
  return *this;
}

std::shared_ptr<client::socket> manager::socket(std::string nsp, boost::json::object auth) {
  nsp = socketio::normalize_namespace(std::move(nsp));
  std::lock_guard lk(impl_->registry_mutex);
  auto& slot = impl_->registry[nsp];
  if (auto existing = slot.lock()) return existing;
  auto s_impl = std::make_shared<detail::socket_impl>(impl_, nsp, std::move(auth));
  asio::post(impl_->strand(), [m = impl_, s_impl] { m->add_socket(s_impl); });
  std::shared_ptr<client::socket> handle(new client::socket(std::move(s_impl), nsp));
  slot = handle;
  return handle;
}

void manager::open() {
  asio::post(impl_->strand(), [impl = impl_] { impl->open(); });
}

void manager::close() {
  asio::post(impl_->strand(), [impl = impl_] { impl->close(); });
}

std::optional<transport_kind> manager::transport() const noexcept {
  return impl_->transport();
}

std::string manager::engine_id() const {
  return impl_->engine_id();
}

manager::executor_type manager::get_executor() const noexcept {
  return impl_->strand();
}

namespace {

template <class List, class F>
listener_id add_to(const std::shared_ptr<detail::manager_impl>& impl,
                   List detail::manager_impl::*list, F h) {
  const auto id = detail::next_listener_id();
  asio::post(impl->strand(), [impl, list, id, h = std::move(h)]() mutable {
    ((*impl).*list).add(id, std::move(h));
  });
  return id;
}

}  // namespace

listener_id manager::on_open(std::function<void()> h) {
  return add_to(impl_, &detail::manager_impl::on_open, std::move(h));
}
listener_id manager::on_close(std::function<void(disconnect_reason)> h) {
  return add_to(impl_, &detail::manager_impl::on_close, std::move(h));
}
listener_id manager::on_error(std::function<void(const connect_error&)> h) {
  return add_to(impl_, &detail::manager_impl::on_error, std::move(h));
}
listener_id manager::on_upgrade(std::function<void(transport_kind)> h) {
  return add_to(impl_, &detail::manager_impl::on_upgrade, std::move(h));
}
listener_id manager::on_reconnect_attempt(std::function<void(std::size_t)> h) {
  return add_to(impl_, &detail::manager_impl::on_reconnect_attempt, std::move(h));
}
listener_id manager::on_reconnect(std::function<void(std::size_t)> h) {
  return add_to(impl_, &detail::manager_impl::on_reconnect, std::move(h));
}
listener_id manager::on_reconnect_error(std::function<void(const connect_error&)> h) {
  return add_to(impl_, &detail::manager_impl::on_reconnect_error, std::move(h));
}
listener_id manager::on_reconnect_failed(std::function<void()> h) {
  return add_to(impl_, &detail::manager_impl::on_reconnect_failed, std::move(h));
}
listener_id manager::on_ping(std::function<void()> h) {
  return add_to(impl_, &detail::manager_impl::on_ping, std::move(h));
}

void manager::off(listener_id id) {
  asio::post(impl_->strand(), [impl = impl_, id] { impl->remove_listener(id); });
}

std::string url_namespace(std::string_view url) {
  return detail::namespace_of_url(url);
}

struct io_thread::state {
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ctx);
  std::thread thread;
  std::promise<void> done;
};

io_thread::io_thread() : state_(std::make_unique<state>()) {
  state_->thread = std::thread([s = state_.get()] {
    s->ctx.run();
    s->done.set_value();
  });
}

io_thread::~io_thread() {
  // Let clients closed just before finish their goodbyes (each is bounded by a few seconds), but
  // do not wait forever for work that never ends.
  state_->work.reset();
  auto finished = state_->done.get_future();
  if (finished.wait_for(std::chrono::seconds(3)) != std::future_status::ready) state_->ctx.stop();
  state_->thread.join();
}

boost::asio::any_io_executor io_thread::executor() noexcept {
  return state_->ctx.get_executor();
}

}  // namespace ignis::client
