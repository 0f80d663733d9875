#include "fixture_knobs.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stdexcept>

namespace ignis::program {
namespace json = boost::json;

helpers::authenticate_fn with_behaviour(helpers::authenticate_fn inner,
                                        const std::string& behaviour) {
  if (behaviour == "false") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      done(helpers::auth_result::reject());
    };
  }
  if (behaviour == "throw") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)>) {
      throw std::runtime_error("authenticateFn threw");
    };
  }
  if (behaviour == "reject") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      boost::asio::post(net::current_shard()->executor(),
                        [done] { done(helpers::auth_result::fail()); });
    };
  }
  if (behaviour == "never") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)>) {};
  }
  if (behaviour.starts_with("slow:")) {
    const auto ms = std::stoul(behaviour.substr(5));
    return [ms](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      auto timer = std::make_shared<boost::asio::steady_timer>(net::current_shard()->executor(),
                                                               std::chrono::milliseconds(ms));
      timer->async_wait([timer, done](const boost::system::error_code&) {
        done(helpers::auth_result::accept());
      });
    };
  }
  return inner;
}

helpers::client_connected_fn client_connected_knob(const std::string& knob) {
  if (knob == "emit") {
    return [](const socketio::socket_ptr& s) {
      s->emit("welcome", socketio::make_args(json::object{{"id", s->id()}}));
    };
  }
  if (knob == "throw") {
    return [](const socketio::socket_ptr&) { throw std::runtime_error("clientConnectedFn threw"); };
  }
  if (knob == "handler") {
    return [](const socketio::socket_ptr& s) {
      s->on("echo", [](socketio::socket&, socketio::payload& args, socketio::ack_responder ack) {
        ack(std::move(args));
      });
    };
  }
  return {};  // none, and "reject": an asynchronous failure has no effect on the client
}

}  // namespace ignis::program
