#include <ignis/engineio/packet.hpp>

#include <benchmark/benchmark.h>

namespace {

void BM_EngineIoDecodePayload(benchmark::State& state) {
  const std::string body =
      "4hello\x1e"
      "2\x1e"
      "4world";
  for (auto _ : state)
    benchmark::DoNotOptimize(ignis::engineio::decode_payload(body));
}
BENCHMARK(BM_EngineIoDecodePayload);

}  // namespace
