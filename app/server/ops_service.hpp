#pragma once

// GET /health (JSON) and GET /metrics (Prometheus text format 0.0.4). Both read counters the
// shards keep for themselves; a scrape sums them and never stops a shard.
#include "operations.hpp"

#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/http.hpp>

namespace ignis::program {

class ops_service final : public net::http_service {
 public:
  ops_service(helpers::server_helper& helper, const operations_state& ops)
      : helper_(helper), ops_(ops) {}

  bool matches(const net::http_request& req) const override;
  void handle(std::shared_ptr<net::http_exchange> ex) override;

  /// The /health document.
  std::string health_json() const;
  /// The /metrics document.
  std::string metrics_text() const;

 private:
  helpers::server_helper& helper_;
  const operations_state& ops_;
};

}  // namespace ignis::program
