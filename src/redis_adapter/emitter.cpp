#include "redis_adapter/messages.hpp"
#include "redis_adapter/stream_entries.hpp"

#include <ignis/redis/emitter.hpp>
#include <ignis/socketio/packet.hpp>

#include <stdexcept>

namespace ignis::redis {
namespace json = boost::json;

namespace {

constexpr std::string_view emitter_uid = "emitter";

constexpr std::int64_t number(detail::cluster_type t) noexcept {
  return static_cast<std::int64_t>(t);
}

void check_event(std::string_view event) {
  if (socketio::is_reserved_event(event))
    throw std::invalid_argument("\"" + std::string(event) + "\" is a reserved event name");
}

json::array event_array(std::string_view event, json::array args) {
  json::array data;
  data.reserve(args.size() + 1);
  data.emplace_back(event);
  for (auto& a : args)
    data.push_back(std::move(a));
  return data;
}

emitter::command_fn through(std::shared_ptr<connection> conn) {
  return [conn = std::move(conn)](std::vector<std::string> command) {
    conn->command(std::move(command));
  };
}

}  // namespace

emitter::emitter(std::shared_ptr<connection> conn, std::string key, std::string nsp)
    : emitter(through(std::move(conn)), std::nullopt, std::move(key), std::move(nsp)) {}

emitter::emitter(publish_fn publish, std::string key, std::string nsp)
    : emitter(
          [publish = std::move(publish)](std::vector<std::string> command) {
            publish(std::move(command[1]), std::move(command[2]));
          },
          std::nullopt, std::move(key), std::move(nsp)) {}

emitter::emitter(command_fn send, std::optional<stream_options> stream, std::string key,
                 std::string nsp)
    : send_(std::move(send)),
      stream_(std::move(stream)),
      key_(std::move(key)),
      nsp_(socketio::normalize_namespace(std::move(nsp))) {}

emitter emitter::streams(std::shared_ptr<connection> conn, stream_options opts, std::string nsp) {
  return streams(through(std::move(conn)), std::move(opts), std::move(nsp));
}

emitter emitter::streams(command_fn send, stream_options opts, std::string nsp) {
  return emitter(std::move(send), std::move(opts), {}, std::move(nsp));
}

void emitter::send(std::string channel, std::string payload) const {
  send_({"PUBLISH", std::move(channel), std::move(payload)});
}

void emitter::xadd(std::int64_t type, json::object data,
                   std::vector<socketio::attachment> attachments) const {
  const detail::stream_message m{static_cast<detail::cluster_type>(type), std::string(emitter_uid),
                                 nsp_, std::move(data), std::move(attachments)};
  send_(detail::xadd_command(stream_->stream_name, stream_->max_len, m));
}

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
  p.data = event_array(event, std::move(args.args));
  p.attachments = std::move(args.attachments);
  if (stream_) {
    // As the streams adapters write a broadcast, plus the packet's nsp (which they ignore).
    json::object data{{"packet", detail::encode_event(p, &p.nsp)},
                      {"opts", detail::encode_opts(opts_, detail::opts_layout::adapter)}};
    return xadd(number(detail::cluster_type::broadcast), std::move(data), std::move(p.attachments));
  }
  auto channel = key_ + "#" + nsp_ + "#";
  if (opts_.rooms.size() == 1) channel += opts_.rooms[0] + "#";
  send(std::move(channel),
       detail::encode_classic_broadcast(emitter_uid, p, opts_, detail::opts_layout::emitter));
}

void emitter::sockets_join(std::vector<std::string> rooms) const {
  if (stream_) {
    return xadd(number(detail::cluster_type::sockets_join),
                {{"opts", detail::encode_opts(opts_, detail::opts_layout::adapter)},
                 {"rooms", detail::to_array(rooms)}});
  }
  json::object request{{"type", detail::type_number(detail::request_type::remote_join)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"rooms", detail::to_array(rooms)}};
  send(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::sockets_leave(std::vector<std::string> rooms) const {
  if (stream_) {
    return xadd(number(detail::cluster_type::sockets_leave),
                {{"opts", detail::encode_opts(opts_, detail::opts_layout::adapter)},
                 {"rooms", detail::to_array(rooms)}});
  }
  json::object request{{"type", detail::type_number(detail::request_type::remote_leave)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"rooms", detail::to_array(rooms)}};
  send(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::disconnect_sockets(bool close) const {
  if (stream_) {
    return xadd(
        number(detail::cluster_type::disconnect_sockets),
        {{"opts", detail::encode_opts(opts_, detail::opts_layout::adapter)}, {"close", close}});
  }
  json::object request{{"type", detail::type_number(detail::request_type::remote_disconnect)},
                       {"opts", detail::encode_opts(opts_, detail::opts_layout::without_flags)},
                       {"close", close}};
  send(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::server_side_emit(std::string_view event, socketio::payload args) const {
  check_event(event);
  auto data = event_array(event, std::move(args.args));
  if (stream_) {
    // Without a requestId: the servers run their handlers and answer nobody.
    return xadd(number(detail::cluster_type::server_side_emit), {{"packet", std::move(data)}},
                std::move(args.attachments));
  }
  json::object request{{"uid", emitter_uid},
                       {"type", detail::type_number(detail::request_type::server_side_emit)},
                       {"data", std::move(data)}};
  send(key_ + "-request#" + nsp_ + "#", detail::to_json(request));
}

void emitter::server_side_emit(std::string_view event, socketio::payload /*args*/,
                               const replies_fn& /*on_replies*/) const {
  check_event(event);
  throw std::invalid_argument(
      "server_side_emit with acknowledgements is not supported by an emitter (the servers "
      "answer a server, and an emitter receives nothing): emit without an acknowledgement");
}

}  // namespace ignis::redis
