#pragma once

// What ignis-bench is asked to do (see --help in main.cpp).
#include <cstdint>
#include <string>
#include <vector>

namespace ignis::bench {

enum class scenario : std::uint8_t { connect, echo, fanout, cluster };
enum class transport : std::uint8_t { websocket, polling };

struct target {
  std::string host;  ///< numeric IPv4 address
  unsigned short port = 0;
  std::string path;  ///< e.g. "/socket.io/"
};

struct options {
  bench::scenario scenario = scenario::echo;
  std::vector<target> targets;       ///< receivers round-robin; the fanout sender uses the first
  std::vector<int> server_pids;      ///< sampled from /proc (CPU, resident memory)
  std::vector<std::string> sources;  ///< local addresses to bind, round-robin
  unsigned connections = 100;        ///< echo connections, fanout receivers, connect count
  unsigned threads = 1;              ///< event loops per process
  unsigned processes = 1;            ///< load processes (each under its own open-files cap)
  double connect_rate = 0;           ///< connections per second; 0: as fast as allowed
  unsigned max_pending = 256;        ///< connection attempts in progress per event loop
  bool authenticate = false;         ///< "authenticate" → "authenticated" before counting ready
  bench::transport transport = transport::websocket;
  unsigned window = 1;          ///< echo: per connection; fanout: broadcasts in flight
  double rate = 0;              ///< fanout: broadcasts/s; echo: messages/s over all connections
  unsigned payload = 100;       ///< bytes of the event argument (a string)
  bool ack = false;             ///< echo: ask for an acknowledgement instead of an event
  double warmup = 1;            ///< seconds before measuring
  double duration = 5;          ///< seconds measured
  double hold = 2;              ///< connect: seconds to hold the connections open
  double connect_timeout = 60;  ///< seconds for every connection to be ready
  unsigned rtt_samples = 5000;  ///< fixed-rate echo: loopback TCP round trips measured first
};

}  // namespace ignis::bench
