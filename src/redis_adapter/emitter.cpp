#include "redis_adapter/messages.hpp"

#include <ignis/redis/emitter.hpp>
#include <ignis/socketio/packet.hpp>

#include <stdexcept>

namespace ignis::redis {
namespace json = boost::json;

namespace {

void check_event(std::string_view event) {
  if (socketio::is_reserved_event(event))
    throw std::invalid_argument("\"" + std::string(event) + "\" is a reserved event name");
}

}  // namespace

emitter::emitter(std::shared_ptr<connection> conn, std::string key, std::string nsp)
    : emitter(
          [conn = std::move(conn)](std::string channel, std::string payload) {
            conn->command({"PUBLISH", std::move(channel), std::move(payload)});
          },
          std::move(key), std::move(nsp)) {}

emitter::emitter(publish_fn publish, std::string key, std::string nsp)
    : publish_(std::move(publish)),
      key_(std::move(key)),
      nsp_(socketio::normalize_namespace(std::move(nsp))) {}

emitter emitter::of(std::string nsp) const {
  auto copy = *this;
  copy.nsp_ = socketio::normalize_namespace(std::move(nsp));
  copy.opts_ = {};
  return copy;
}

emitter emitter::to(std::string room) const {
  auto copy = *this;
  auto& rooms = copy.opts_.rooms;
  if (std::find(rooms.begin(), rooms.end(), room) == rooms.end()) rooms.push_back(std::move(room));
  return copy;
}

emitter emitter::to(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  for (const auto& r : rooms)
    copy = copy.to(r);
  return copy;
}

emitter emitter::except(std::string room) const {
  auto copy = *this;
  auto& except = copy.opts_.except;
  if (std::find(except.begin(), except.end(), room) == except.end())
    except.push_back(std::move(room));
  return copy;
}

emitter emitter::except(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  for (const auto& r : rooms)
    copy = copy.except(r);
  return copy;
}

emitter emitter::volatile_() const {
  auto copy = *this;
  copy.opts_.flags.volatile_ = true;
  return copy;
}

emitter emitter::compress(bool on) const {
  auto copy = *this;
  copy.opts_.flags.compress = on;
  return copy;
}

void emitter::emit(std::string_view event, socketio::payload args) const {
  check_event(event);
  socketio::packet p;
  p.nsp = nsp_;
  json::array data;
  data.reserve(args.args.size() + 1);
  data.emplace_back(event);
  for (auto& a : args.args)
    data.push_back(std::move(a));
  p.data = std::move(data);
  p.attachments = std::move(args.attachments);
  auto channel = key_ + "#" + nsp_ + "#";
  if (opts_.rooms.size() == 1) channel += opts_.rooms[0] + "#";
  publish_(std::move(channel),
           detail::encode_classic_broadcast("emitter", p, opts_, detail::opts_layout::emitter));
}

void emitter::sockets_join(std::vector<std::string> rooms) const {
  json::object request{{"type", detail::type_number(detail::request_type::remote_join)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"rooms", detail::to_array(rooms)}};
  publish_(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::sockets_leave(std::vector<std::string> rooms) const {
  json::object request{{"type", detail::type_number(detail::request_type::remote_leave)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"rooms", detail::to_array(rooms)}};
  publish_(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::disconnect_sockets(bool close) const {
  json::object request{{"type", detail::type_number(detail::request_type::remote_disconnect)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"close", close}};
  publish_(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::server_side_emit(std::string_view event, socketio::payload args) const {
  check_event(event);
  json::array data;
  data.emplace_back(event);
  for (auto& a : args.args)
    data.push_back(std::move(a));
  json::object request{{"uid", "emitter"},
                       {"type", detail::type_number(detail::request_type::server_side_emit)},
                       {"data", std::move(data)}};
  publish_(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

}  // namespace ignis::redis
