#include "ops_service.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <sstream>

namespace ignis::program {
namespace json = boost::json;
namespace http = net::http;

namespace {

// Sums one engine counter over every shard.
template <typename Member>
std::int64_t engine_sum(const engineio::server& engine, std::size_t shards, Member member) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < shards; ++i)
    total += (engine.counters(static_cast<unsigned>(i)).*member).get();
  return total;
}

class prometheus_writer {
 public:
  void metric(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, std::int64_t value, std::string_view labels = {}) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  void sample(std::string_view name, double value, std::string_view labels) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", value);
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << buf << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

bool ops_service::matches(const net::http_request& req) const {
  const auto path = net::target_path(req.target());
  return path == "/health" || path == "/metrics";
}

void ops_service::handle(std::shared_ptr<net::http_exchange> ex) {
  const auto& req = ex->request();
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = net::make_response(req, http::status::method_not_allowed, "Method Not Allowed",
                                  "text/plain");
    res.set(http::field::allow, "GET, HEAD");
    return ex->respond(std::move(res));
  }
  if (net::target_path(req.target()) == "/health") {
    // A stopping server answers 503 so that a load balancer takes it out of rotation.
    const auto status = ops_.stopping.load(std::memory_order_relaxed)
                            ? http::status::service_unavailable
                            : http::status::ok;
    return ex->respond(net::make_response(req, status, health_json(), "application/json"));
  }
  ex->respond(net::make_response(req, http::status::ok, metrics_text(),
                                 "text/plain; version=0.0.4; charset=utf-8"));
}

std::string ops_service::health_json() const {
  const auto redis = ops_.redis();
  std::string status = "ok";
  if (ops_.stopping.load(std::memory_order_relaxed)) {
    status = "stopping";
  } else if (redis.state != "disabled" && redis.state != "connected") {
    status = "degraded";
  }
  json::object doc{
      {"status", status},
      {"connections", helper_.client_count()},
      {"authenticated", helper_.authenticated_count()},
      {"redis", redis.state},
  };
  if (redis.cluster) {
    // Per node: a degraded cluster says which master is the trouble.
    json::array nodes;
    for (const auto& n : redis.nodes) {
      nodes.push_back(json::object{{"node", n.address},
                                   {"slots", n.slots},
                                   {"state", n.state},
                                   {"moved", n.moved},
                                   {"ask", n.ask}});
    }
    json::object cluster{{"nodes", std::move(nodes)},
                         {"refreshes", redis.topology_refreshes},
                         {"refresh_failures", redis.topology_refresh_failures}};
    if (redis.topology_age_seconds >= 0) {
      cluster["topology_age_ms"] = static_cast<std::int64_t>(redis.topology_age_seconds * 1000);
    }
    if (!redis.topology_error.empty()) cluster["error"] = redis.topology_error;
    doc["redis_cluster"] = std::move(cluster);
  }
  if (redis.streams) {
    json::object stream{{"position", redis.stream_position},
                        {"entries", redis.stream_entries},
                        {"malformed", redis.stream_malformed},
                        {"read_errors", redis.stream_read_errors}};
    if (redis.stream_lag_ms >= 0) stream["lag_ms"] = redis.stream_lag_ms;
    doc["redis_stream"] = std::move(stream);
  }
  return json::serialize(doc);
}

std::string ops_service::metrics_text() const {
  auto& io = helper_.io();
  const auto& engine = *io.engine();
  const auto shards = io.runtime().size();
  using tc = engineio::traffic_counters;
  prometheus_writer w;

  w.metric("ignis_connections", "gauge", "Open Engine.IO connections by transport.");
  w.sample("ignis_connections", engine_sum(engine, shards, &tc::open_polling),
           R"(transport="polling")");
  w.sample("ignis_connections", engine_sum(engine, shards, &tc::open_websocket),
           R"(transport="websocket")");
  const auto clients = static_cast<std::int64_t>(helper_.client_count());
  const auto authenticated = static_cast<std::int64_t>(helper_.authenticated_count());
  w.metric("ignis_clients", "gauge", "Socket.IO clients of the default namespace by state.");
  w.sample("ignis_clients", authenticated, R"(state="authenticated")");
  w.sample("ignis_clients", clients - authenticated, R"(state="unauthenticated")");

  w.metric("ignis_handshakes_total", "counter", "Engine.IO sessions opened.");
  w.sample("ignis_handshakes_total", engine_sum(engine, shards, &tc::handshakes));
  w.metric("ignis_upgrades_total", "counter", "Polling sessions upgraded to WebSocket.");
  w.sample("ignis_upgrades_total", engine_sum(engine, shards, &tc::upgrades));

  w.metric("ignis_auth_total", "counter", "Authentication attempts by result.");
  w.sample("ignis_auth_total", static_cast<std::int64_t>(ops_.auth.accepted.load()),
           R"(result="success")");
  w.sample("ignis_auth_total", static_cast<std::int64_t>(ops_.auth.rejected.load()),
           R"(result="rejected")");
  w.sample("ignis_auth_total", static_cast<std::int64_t>(ops_.auth.failed.load()),
           R"(result="error")");

  auto& main = io.of("/");
  const auto room_stats = main.stats();
  w.metric("ignis_room_joins_total", "counter", "Rooms joined (default namespace).");
  w.sample("ignis_room_joins_total", room_stats.joins);
  w.metric("ignis_rooms", "gauge",
           "Rooms with members (default namespace; a room with members on several event loops "
           "counts once per loop).");
  w.sample("ignis_rooms", room_stats.rooms);
  if (const auto r = main.recovery_state()) {
    w.metric("ignis_recovery_packets", "gauge",
             "Packets kept for connection state recovery (default namespace).");
    w.sample("ignis_recovery_packets", static_cast<std::int64_t>(r->packets));
    w.metric("ignis_recovery_bytes", "gauge", "Their bytes (bounded by the recovery store size).");
    w.sample("ignis_recovery_bytes", static_cast<std::int64_t>(r->bytes));
    w.metric("ignis_recovery_sessions", "gauge", "Sessions waiting for their client to come back.");
    w.sample("ignis_recovery_sessions", static_cast<std::int64_t>(r->sessions));
    w.metric("ignis_recovery_evicted_total", "counter",
             "Packets dropped from the recovery store by its size bound before their time.");
    w.sample("ignis_recovery_evicted_total", static_cast<std::int64_t>(r->evicted));
    w.metric("ignis_recoveries_total", "counter", "Recovery attempts by result.");
    w.sample("ignis_recoveries_total", static_cast<std::int64_t>(r->restored),
             R"(result="restored")");
    w.sample("ignis_recoveries_total", static_cast<std::int64_t>(r->missed), R"(result="missed")");
  }
  if (ops_.admin_events_not_sent) {
    w.metric("ignis_admin_events_not_sent_total", "counter",
             "Admin UI event messages left out by --admin-events-per-second.");
    w.sample("ignis_admin_events_not_sent_total",
             static_cast<std::int64_t>(ops_.admin_events_not_sent()));
  }
  w.metric("ignis_broadcasts_total", "counter", "Broadcasts emitted (default namespace).");
  w.sample("ignis_broadcasts_total", static_cast<std::int64_t>(main.broadcast_count()));

  w.metric("ignis_packets_total", "counter", "Engine.IO packets by direction.");
  w.sample("ignis_packets_total", engine_sum(engine, shards, &tc::packets_in), R"(direction="in")");
  w.sample("ignis_packets_total", engine_sum(engine, shards, &tc::packets_out),
           R"(direction="out")");
  w.metric("ignis_bytes_total", "counter", "Engine.IO packet payload bytes by direction.");
  w.sample("ignis_bytes_total", engine_sum(engine, shards, &tc::bytes_in), R"(direction="in")");
  w.sample("ignis_bytes_total", engine_sum(engine, shards, &tc::bytes_out), R"(direction="out")");
  w.metric("ignis_backpressure_dropped_total", "counter",
           "Volatile packets dropped because the client's output was full.");
  w.sample("ignis_backpressure_dropped_total", engine_sum(engine, shards, &tc::dropped));
  w.metric("ignis_slow_consumer_disconnects_total", "counter",
           "Connections closed because their output queue overflowed.");
  w.sample("ignis_slow_consumer_disconnects_total",
           engine_sum(engine, shards, &tc::slow_consumers));

  // Labels by engineio::close_reason, in its order.
  static constexpr std::string_view close_labels[] = {
      "transport close", "transport error", "ping timeout", "parse error",
      "forced close",    "slow consumer",   "write stall"};
  static_assert(std::size(close_labels) == engineio::close_reason_count);
  w.metric("ignis_closes_total", "counter", "Engine.IO sessions closed, by reason.");
  for (std::size_t r = 0; r < std::size(close_labels); ++r) {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < shards; ++i)
      total += engine.counters(static_cast<unsigned>(i)).closes[r].get();
    w.sample("ignis_closes_total", total, "reason=\"" + std::string(close_labels[r]) + '"');
  }
  w.metric("ignis_close_timeouts_total", "counter",
           "WebSocket connections reset because the client did not take the close within "
           "--close-timeout.");
  w.sample("ignis_close_timeouts_total", engine_sum(engine, shards, &tc::close_timeouts));
  if (const auto* c = ops_.connections) {
    w.metric("ignis_tcp_connections", "gauge",
             "Descriptors held by client connections (a TLS connection holds three).");
    w.sample("ignis_tcp_connections", static_cast<std::int64_t>(c->open()));
    w.metric("ignis_tcp_connections_limit", "gauge", "--max-connections.");
    w.sample("ignis_tcp_connections_limit", static_cast<std::int64_t>(c->max()));
    w.metric("ignis_connections_refused_total", "counter",
             "Connections answered 503 because --max-connections was reached.");
    w.sample("ignis_connections_refused_total", static_cast<std::int64_t>(c->refused()));
    w.metric("ignis_http_write_timeouts_total", "counter",
             "HTTP responses the client did not take within --write-stall-timeout.");
    w.sample("ignis_http_write_timeouts_total", static_cast<std::int64_t>(c->write_timeouts()));
  }

  const auto redis = ops_.redis();
  w.metric("ignis_redis_up", "gauge", "1 when the Redis link is connected, 0 otherwise.");
  w.sample("ignis_redis_up", std::int64_t{redis.state == "connected" ? 1 : 0},
           R"(state=")" + redis.state + '"');
  w.metric("ignis_redis_publishes_total", "counter", "Messages published to Redis.");
  w.sample("ignis_redis_publishes_total", static_cast<std::int64_t>(redis.publishes));
  w.metric("ignis_redis_errors_total", "counter", "Redis errors (connection and commands).");
  w.sample("ignis_redis_errors_total", static_cast<std::int64_t>(redis.errors));
  if (!redis.nodes.empty()) {
    w.metric("ignis_redis_node_up", "gauge",
             "1 when both connections to this Redis node (master) are connected.");
    for (const auto& n : redis.nodes) {
      w.sample("ignis_redis_node_up", std::int64_t{n.state == "connected" ? 1 : 0},
               R"(node=")" + n.address + '"');
    }
    w.metric("ignis_redis_node_slots", "gauge", "Hash slots the node serves in the current map.");
    for (const auto& n : redis.nodes) {
      w.sample("ignis_redis_node_slots", static_cast<std::int64_t>(n.slots),
               R"(node=")" + n.address + '"');
    }
    w.metric("ignis_redis_redirects_total", "counter",
             "MOVED and ASK redirections received from the node.");
    for (const auto& n : redis.nodes) {
      w.sample("ignis_redis_redirects_total", static_cast<std::int64_t>(n.moved),
               R"(node=")" + n.address + R"(",kind="moved")");
      w.sample("ignis_redis_redirects_total", static_cast<std::int64_t>(n.ask),
               R"(node=")" + n.address + R"(",kind="ask")");
    }
  }
  if (redis.state != "disabled") {
    w.metric("ignis_redis_topology_refreshes_total", "counter",
             "Redis Cluster maps of slots read (ok) or not obtained (error).");
    w.sample("ignis_redis_topology_refreshes_total",
             static_cast<std::int64_t>(redis.topology_refreshes), R"(result="ok")");
    w.sample("ignis_redis_topology_refreshes_total",
             static_cast<std::int64_t>(redis.topology_refresh_failures), R"(result="error")");
    if (redis.topology_age_seconds >= 0) {
      w.metric("ignis_redis_topology_age_seconds", "gauge",
               "Seconds since the map of slots was last read.");
      w.sample("ignis_redis_topology_age_seconds", redis.topology_age_seconds, "");
    }
  }

  if (redis.streams) {
    w.metric("ignis_redis_stream_entries_total", "counter",
             "Entries read from the Redis stream (streams mode).");
    w.sample("ignis_redis_stream_entries_total", static_cast<std::int64_t>(redis.stream_entries));
    w.metric("ignis_redis_stream_malformed_total", "counter",
             "Stream entries skipped because they are not a message.");
    w.sample("ignis_redis_stream_malformed_total",
             static_cast<std::int64_t>(redis.stream_malformed));
    w.metric("ignis_redis_session_writes_total", "counter",
             "Sessions of connected sockets written to Redis (changes and refreshes).");
    w.sample("ignis_redis_session_writes_total", static_cast<std::int64_t>(redis.session_writes));
    w.metric("ignis_redis_stream_read_errors_total", "counter",
             "XREADs that failed (Redis down, a timeout, a reply of the wrong shape).");
    w.sample("ignis_redis_stream_read_errors_total",
             static_cast<std::int64_t>(redis.stream_read_errors));
    if (redis.stream_lag_ms >= 0) {
      std::uint64_t ms = 0;
      const auto dash = redis.stream_position.find('-');
      for (std::size_t i = 0; i < dash && i < redis.stream_position.size(); ++i)
        ms = ms * 10 + static_cast<std::uint64_t>(redis.stream_position[i] - '0');
      w.metric("ignis_redis_stream_last_id_seconds", "gauge",
               "Time part of the id of the last stream entry read (Unix seconds).");
      w.sample("ignis_redis_stream_last_id_seconds", static_cast<double>(ms) / 1000.0, "");
      w.metric("ignis_redis_stream_lag_seconds", "gauge",
               "How late the last stream entry was read after it was written.");
      w.sample("ignis_redis_stream_lag_seconds", static_cast<double>(redis.stream_lag_ms) / 1000.0,
               "");
    }
  }

  w.metric("ignis_event_loop_lag_seconds", "gauge",
           "How late a periodic timer last fired on each event loop.");
  for (std::size_t i = 0; i < ops_.lag.size(); ++i) {
    w.sample("ignis_event_loop_lag_seconds", static_cast<double>(ops_.lag.lag_us(i)) / 1e6,
             "shard=\"" + std::to_string(i) + '"');
  }
  return w.str();
}

}  // namespace ignis::program
