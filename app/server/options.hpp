#pragma once

// The program's options: one CLI11 option per settings member, each also read from IGNIS_<FLAG>
// and from the configuration file key <flag> (see config_file.hpp).
#include "settings.hpp"

#include <CLI/CLI.hpp>

namespace ignis::program {

/// Adds every option bound to `cfg`. With `test_knobs`, also the fixture's --mode,
/// --auth-behaviour and --client-connected.
void add_options(CLI::App& app, settings& cfg, bool test_knobs);

/// Checks what single options cannot (an option needing another, options excluding each other);
/// returns an error message.
std::optional<std::string> check_settings(const settings& cfg);

/// Whether browsers' Origin headers are checked against --cors-origin (--check-origin, whose
/// "auto" means: when --cors-origin is a list of origins).
bool origins_checked(const settings& cfg);

/// A namespace name as Socket.IO reads it (a leading '/' added if missing).
std::string socketio_namespace(std::string name);
/// --admin-ui-path without its trailing slashes ("/admin").
std::string admin_ui_prefix(const settings& cfg);
/// Whether --admin-ui-path is a path of its own: an error message when it is not one, or when it
/// overlaps the Socket.IO path or another endpoint of the program.
std::optional<std::string> check_admin_ui_path(const settings& cfg);

}  // namespace ignis::program
