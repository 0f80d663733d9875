#pragma once

// The program's HTTP API (enabled by --api-key): send, list clients, server-side join/leave.
// Every other path it is asked about answers 404 JSON.
#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/http.hpp>

namespace ignis::program {

class api_service final : public net::http_service {
 public:
  api_service(helpers::server_helper& helper, std::string api_key)
      : helper_(helper), api_key_(std::move(api_key)) {}

  bool matches(const net::http_request&) const override { return true; }
  void handle(std::shared_ptr<net::http_exchange> ex) override;

 private:
  void send(const std::shared_ptr<net::http_exchange>& ex);
  void clients(const std::shared_ptr<net::http_exchange>& ex);
  void rooms(const std::shared_ptr<net::http_exchange>& ex, std::string id, bool join);

  helpers::server_helper& helper_;
  std::string api_key_;
};

}  // namespace ignis::program
