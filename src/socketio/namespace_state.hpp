#pragma once

// What a namespace keeps on each shard: its sockets there and its rooms' members there. Reached
// only from that shard's thread (the counters are readable from any).
#include "common/id_table.hpp"

#include <ignis/common/string_hash.hpp>
#include <ignis/engineio/counters.hpp>
#include <ignis/socketio/server.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ignis::socketio {

struct namespace_::shard_state {
  // Found by the socket's own id: no copy of it, no allocation per entry. Owning nothing (8 bytes
  // a slot): a connected socket is its client's (client::sockets_), and the one way a socket ends
  // (socket::on_close) takes it out of here before its client lets go of it.
  ignis::detail::id_table<socket, false> sockets;
  std::unordered_map<std::string, std::vector<socket*>, string_hash, std::equal_to<>> rooms;
  engineio::shard_counter joins;         ///< rooms joined (the socket's own room not counted)
  engineio::shard_counter room_count;    ///< rooms.size()
  engineio::shard_counter socket_count;  ///< sockets.size()
};

}  // namespace ignis::socketio
