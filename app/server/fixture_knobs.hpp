#pragma once

// ignis-fixture's knobs for driving the helper's failure paths (--auth-behaviour,
// --client-connected); the program itself never uses them.
#include <ignis/helpers/server_helper.hpp>

#include <string>

namespace ignis::program {

/// Replaces the authenticator for a behaviour other than "ok": false, throw, reject, never,
/// slow:<ms>.
helpers::authenticate_fn with_behaviour(helpers::authenticate_fn inner,
                                        const std::string& behaviour);
/// The client-connected hook for emit, throw or handler (none otherwise).
helpers::client_connected_fn client_connected_knob(const std::string& knob);

}  // namespace ignis::program
