#include <ignis/net/websocket.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using namespace ignis::net::ws;

std::string text_payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// A server frame appended to a reused output buffer, as a write queue would.
void BM_WebSocketEncodeServerText(benchmark::State& state) {
  const auto payload = text_payload(static_cast<std::size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_frame(out, opcode::text, payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WebSocketEncodeServerText)->Arg(32)->Arg(1024);

// A server frame framed once into a shared buffer (the broadcast path).
void BM_WebSocketMakeSharedFrame(benchmark::State& state) {
  const auto payload = text_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(make_shared_frame(opcode::text, payload));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WebSocketMakeSharedFrame)->Arg(32)->Arg(1024);

// A masked client text frame through the server's decoder: header, unmasking, UTF-8 validation,
// and the event's string.
void BM_WebSocketDecodeClientText(benchmark::State& state) {
  const auto payload = text_payload(static_cast<std::size_t>(state.range(0)));
  std::string frame;
  encode_frame(frame, opcode::text, payload, true, mask_key{0x37, 0xfa, 0x21, 0x3d});
  frame_decoder decoder(role::server);
  std::vector<event> events;
  events.reserve(1);
  for (auto _ : state) {
    events.clear();
    benchmark::DoNotOptimize(decoder.feed(ignis::as_bytes(frame), events));
    benchmark::DoNotOptimize(events.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WebSocketDecodeClientText)->Arg(32)->Arg(1024);

// The server's answer to a WebSocket handshake: SHA-1 of the key and the RFC's GUID, in base64.
// Every WebSocket connection computes one.
void BM_WebSocketAcceptKey(benchmark::State& state) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  for (auto _ : state)
    benchmark::DoNotOptimize(accept_key(key));
}
BENCHMARK(BM_WebSocketAcceptKey);

}  // namespace
