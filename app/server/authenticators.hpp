#pragma once

// The program's authenticate functions: static tokens, JWT (HS256/RS256), a webhook to an
// existing backend, or none (development).
#include "operations.hpp"
#include "settings.hpp"

#include <ignis/helpers/server_helper.hpp>

namespace ignis::program {

/// The token of a handshake: auth.token, then "Authorization: Bearer <t>", then ?token=.
std::string handshake_token(const socketio::handshake_info& h);

/// The authenticator `cfg.auth` names (the webhook's pool lives on `rt`'s shards).
helpers::authenticate_fn make_authenticator(const settings& cfg, net::runtime& rt);

/// Wraps `inner` so that every outcome is counted in `counters`.
helpers::authenticate_fn counting(helpers::authenticate_fn inner, auth_counters& counters);

}  // namespace ignis::program
