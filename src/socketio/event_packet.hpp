#pragma once

#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace ignis::socketio {

/// The EVENT packet for emit(event, args...): data = [event, ...args]. A reserved event name is
/// the caller's mistake and throws std::invalid_argument, as socket.io's emit does.
inline packet event_packet(std::string_view nsp, std::string_view event, payload&& args) {
  if (is_reserved_event(event)) {
    throw std::invalid_argument("\"" + std::string(event) + "\" is a reserved event name");
  }
  boost::json::array data;
  data.reserve(args.args.size() + 1);
  data.emplace_back(event);
  for (auto& v : args.args)
    data.push_back(std::move(v));
  return packet{packet_type::event, std::string(nsp), std::nullopt,
                boost::json::value(std::move(data)), std::move(args.attachments)};
}

}  // namespace ignis::socketio
