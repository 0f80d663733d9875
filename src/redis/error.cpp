#include <ignis/redis/client.hpp>
#include <ignis/redis/error.hpp>

namespace ignis::redis {
namespace {

class redis_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.redis"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::timeout:
        return "Redis command timed out";
      case error::disconnected:
        return "Redis connection lost before the reply";
      case error::not_connected:
        return "Redis is not connected";
      case error::protocol_error:
        return "Redis protocol error";
      case error::server_error:
        return "Redis error reply";
      case error::invalid_url:
        return "invalid Redis URL";
      case error::too_many_pending:
        return "too many Redis commands pending";
      case error::closed:
        return "Redis connection closed";
      case error::too_many_redirects:
        return "too many Redis Cluster redirections";
      case error::cluster_down:
        return "no Redis Cluster node serves the slot";
    }
    return "unknown Redis error";
  }
};

}  // namespace

const boost::system::error_category& redis_category() noexcept {
  static const redis_category_impl instance;
  return instance;
}

const char* to_string(link_state s) noexcept {
  switch (s) {
    case link_state::connecting:
      return "connecting";
    case link_state::connected:
      return "connected";
    case link_state::degraded:
      return "degraded";
    case link_state::closed:
      return "closed";
  }
  return "closed";
}

}  // namespace ignis::redis
