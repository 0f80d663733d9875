#pragma once

// Shared by the client helper's tests (against the Node server and against the program).
#include "client/support.hpp"

#include <ignis/client/helper.hpp>

#include <string>
#include <string_view>

namespace ignis::client::test {

/// Points `o`'s state callbacks at `q`, which then receives "connected", "disconnected:<reason>",
/// "error:<msg>", "authenticated" and "unauthenticated:<msg>".
inline void report_to(helper_options& o, queue<std::string>& q) {
  o.on_connected = [&q] { q.push("connected"); };
  o.on_recovered = [&q] { q.push("recovered"); };
  o.on_disconnected = [&q](std::string_view r) { q.push("disconnected:" + std::string(r)); };
  o.on_error = [&q](const connect_error& e) { q.push("error:" + e.message); };
  o.on_authenticated = [&q] { q.push("authenticated"); };
  o.on_unauthenticated = [&q](std::string_view m) { q.push("unauthenticated:" + std::string(m)); };
}

}  // namespace ignis::client::test
