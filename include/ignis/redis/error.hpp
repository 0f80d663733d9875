#pragma once

// Errors of the Redis layer. Every asynchronous completion carries one of these (or an Asio/SSL
// error for a failed connection attempt); nothing a broker sends is ever thrown.
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace ignis::redis {

using boost::system::error_code;

enum class error {
  timeout = 1,         ///< no reply within config::command_timeout
  disconnected,        ///< the connection was lost (or closed) before the reply came
  not_connected,       ///< refused at once: Redis is unreachable right now (state degraded)
  protocol_error,      ///< the server sent bytes that are not RESP; the connection is reset
  server_error,        ///< the server answered with an error reply; its text is in reply::str
  invalid_url,         ///< parse_url: not redis://[user:pass@]host[:port][/db] or rediss://...
  too_many_pending,    ///< refused: config::max_pending commands already wait for their replies
  closed,              ///< close() was called
  too_many_redirects,  ///< a Redis Cluster redirected the command more than config::max_redirects
  cluster_down,        ///< no Redis Cluster node serves the command's slot (or none is known)
};

const boost::system::error_category& redis_category() noexcept;

inline error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace ignis::redis

template <>
struct boost::system::is_error_code_enum<ignis::redis::error> : std::true_type {};
