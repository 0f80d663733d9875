#include "client/transport.hpp"

#include "client/polling_transport.hpp"
#include "client/websocket_transport.hpp"

namespace ignis::client::detail {

std::shared_ptr<transport> make_transport(transport_kind k, asio::any_io_executor ex,
                                          std::shared_ptr<const engine_config> cfg) {
  if (k == transport_kind::websocket)
    return std::make_shared<websocket_transport>(ex, std::move(cfg));
  return std::make_shared<polling_transport>(ex, std::move(cfg));
}

}  // namespace ignis::client::detail
