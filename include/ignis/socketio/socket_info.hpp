#pragma once

// A socket as fetch_sockets reports it, from this server or another one of the cluster. A plain
// value: no server needed.
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace ignis::socketio {

/// A socket as fetch_sockets reports it (Node's RemoteSocket data).
struct socket_info {
  std::string id;
  boost::json::value handshake;  ///< {headers,time,address,xdomain,secure,issued,url,query,auth}
  std::vector<std::string> rooms;
  boost::json::value data;
};

}  // namespace ignis::socketio
