#include "socketio/client.hpp"
#include "socketio/namespace_state.hpp"

#include <ignis/net/shards.hpp>
#include <ignis/socketio/server.hpp>

#include <mutex>

namespace ignis::socketio {

class server::engine_bridge final : public engineio::session_handler {
 public:
  explicit engine_bridge(server& srv) : server_(srv) {}
  server& srv() const noexcept { return server_; }
  void on_open(const std::shared_ptr<engineio::session>& s,
               engineio::session::handshake_request request) override {
    s->emplace_listener<client>(*s).start(std::move(request));
  }
  // Every session has its client as listener.
  void on_message(engineio::session&, const engineio::packet&) override {}
  void on_close(engineio::session&, engineio::close_reason) override {}

 private:
  server& server_;
};

server& server::of(const engineio::session& s) noexcept {
  return static_cast<engine_bridge&>(s.owner().handler()).srv();
}

server::server(net::runtime& rt, server_options options, adapter_factory adapters)
    : runtime_(rt), options_(std::move(options)), adapter_factory_(std::move(adapters)) {
  bridge_ = std::make_shared<engine_bridge>(*this);
  engine_ = std::make_shared<engineio::server>(rt, options_.engine, bridge_);
  of("/");
}

// A server let go of without close() (a program that ends, a test) may still have connections,
// whose Engine.IO session, client and sockets refer to each other: cut those links so that they
// go with the server instead of staying allocated for ever.
server::~server() {
  // Every namespace's sockets first: the tables do not own them, and a client let go of lets go
  // of its sockets in every namespace.
  std::vector<socket_ptr> sockets;
  auto collect = [&](namespace_& nsp) {
    for (unsigned i = 0; i < runtime_.size(); ++i) {
      for (auto& s : nsp.local(i).sockets.snapshot())
        sockets.push_back(std::move(s));
      nsp.local(i).sockets.clear();
    }
  };
  for (auto& [name, nsp] : namespaces_)
    collect(*nsp);
  for (auto& d : dynamic_)
    collect(*d.parent);
  for (const auto& s : sockets) {
    if (s->client_) s->client_->abandon();
  }
}

std::unique_ptr<adapter> server::make_adapter(namespace_& nsp) {
  if (adapter_factory_) return adapter_factory_(nsp);
  return std::make_unique<adapter>(nsp);
}

namespace_& server::of(std::string name) {
  name = normalize_namespace(std::move(name));
  std::unique_lock lock(namespaces_mutex_);
  auto& slot = namespaces_[name];
  if (!slot) slot = std::make_unique<namespace_>(*this, name);
  return *slot;
}

namespace_& server::of(std::function<bool(std::string_view, const boost::json::object&)> accept) {
  std::unique_lock lock(namespaces_mutex_);
  dynamic_.push_back({std::move(accept), std::make_unique<namespace_>(*this, "/_parent")});
  return *dynamic_.back().parent;
}

namespace_& server::of(const std::regex& pattern) {
  return of([pattern](std::string_view name, const boost::json::object&) {
    return std::regex_match(name.begin(), name.end(), pattern);
  });
}

namespace_* server::find(std::string_view name) const {
  std::shared_lock lock(namespaces_mutex_);
  const auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : it->second.get();
}

std::vector<namespace_*> server::namespaces() const {
  std::shared_lock lock(namespaces_mutex_);
  std::vector<namespace_*> out;
  out.reserve(namespaces_.size());
  for (const auto& [name, nsp] : namespaces_)
    out.push_back(nsp.get());
  return out;
}

void server::observe(std::shared_ptr<observer> o) {
  observing_ = o.get();
  observer_ = std::move(o);
}

namespace_* server::find_or_create_dynamic(std::string_view name, const boost::json::object& auth) {
  std::unique_lock lock(namespaces_mutex_);
  if (const auto it = namespaces_.find(name); it != namespaces_.end()) return it->second.get();
  for (auto& d : dynamic_) {
    if (!d.accept(name, auth)) continue;
    auto child = std::make_unique<namespace_>(*this, std::string(name));
    child->copy_handlers_from(*d.parent);
    auto* raw = child.get();
    namespaces_.emplace(std::string(name), std::move(child));
    return raw;
  }
  return nullptr;
}

inline_id server::new_socket_id(unsigned shard_index) const {
  return engineio::generate_id(shard_index, static_cast<unsigned>(runtime_.size()));
}

void server::close() {
  std::vector<namespace_*> all;
  {
    std::shared_lock lock(namespaces_mutex_);
    for (auto& [name, nsp] : namespaces_)
      all.push_back(nsp.get());
  }
  net::for_each_shard(runtime_, [all](net::shard& shard) {
    for (auto* nsp : all) {
      for (auto& s : nsp->local(shard.index()).sockets.snapshot())
        s->on_close(disconnect_reason::server_shutting_down);
    }
  });
  engine_->close_all();
}

}  // namespace ignis::socketio
