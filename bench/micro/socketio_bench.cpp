// Socket.IO packet codec: the three shapes that dominate real traffic.
#include <ignis/socketio/packet.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

namespace {

using namespace ignis::socketio;

// 32 bytes on the wire: a chat message.
const std::string small_event = R"(2["chat","hello world 1234 abc"])";

// About 1 KB: an event whose argument is an object with a few dozen fields.
std::string make_kilobyte_event() {
  std::string text = R"(2["update",{)";
  for (int i = 0; text.size() < 1000; ++i) {
    if (i != 0) text += ',';
    text += "\"field" + std::to_string(i) + "\":{\"id\":" + std::to_string(i * 7919) +
            ",\"name\":\"item-" + std::to_string(i) + "\",\"ok\":true,\"v\":" + std::to_string(i) +
            ".25}";
  }
  text += "}]";
  return text;
}
const std::string kilobyte_event = make_kilobyte_event();

const std::string binary_header = R"(51-["upload",{"_placeholder":true,"num":0}])";
const std::string kilobyte_attachment(1024, '\x5a');

packet decoded(std::string_view text) {
  decoder d;
  return std::move(**d.feed_text(text));
}

void BM_SocketIoEncodeSmallEvent(benchmark::State& state) {
  const auto p = decoded(small_event);
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_to(p, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(small_event.size()));
}
BENCHMARK(BM_SocketIoEncodeSmallEvent);

void BM_SocketIoDecodeSmallEvent(benchmark::State& state) {
  decoder d;
  for (auto _ : state)
    benchmark::DoNotOptimize(d.feed_text(small_event));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(small_event.size()));
}
BENCHMARK(BM_SocketIoDecodeSmallEvent);

void BM_SocketIoEncodeKilobyteEvent(benchmark::State& state) {
  const auto p = decoded(kilobyte_event);
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_to(p, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kilobyte_event.size()));
}
BENCHMARK(BM_SocketIoEncodeKilobyteEvent);

void BM_SocketIoDecodeKilobyteEvent(benchmark::State& state) {
  decoder d;
  for (auto _ : state)
    benchmark::DoNotOptimize(d.feed_text(kilobyte_event));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kilobyte_event.size()));
}
BENCHMARK(BM_SocketIoDecodeKilobyteEvent);

void BM_SocketIoEncodeBinaryEvent(benchmark::State& state) {
  packet p;
  p.data = boost::json::parse(R"(["upload",{"_placeholder":true,"num":0}])");
  p.attachments.push_back(make_attachment(kilobyte_attachment));
  for (auto _ : state)
    benchmark::DoNotOptimize(encode(p));  // the attachment is shared, not copied
}
BENCHMARK(BM_SocketIoEncodeBinaryEvent);

void BM_SocketIoDecodeBinaryEvent(benchmark::State& state) {
  decoder d;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.feed_text(binary_header));
    benchmark::DoNotOptimize(d.feed_binary(kilobyte_attachment));  // copies the 1 KB in
  }
  state.SetBytesProcessed(
      state.iterations() *
      static_cast<std::int64_t>(binary_header.size() + kilobyte_attachment.size()));
}
BENCHMARK(BM_SocketIoDecodeBinaryEvent);

}  // namespace
