#pragma once

// The TOML configuration file (--config FILE or IGNIS_CONFIG). Its keys are the long flags
// without the dashes ("port = 4000", "auth-url = ..."); lists may be TOML arrays. A file value
// becomes the option's default, so flags and IGNIS_* variables still win over it.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace ignis::program {

/// The file named by --config / --config=FILE in argv, else by IGNIS_CONFIG; empty when none.
std::string config_file_path(int argc, char** argv);

/// Reads `path` and applies each key to the option of the same name. Returns an error message
/// naming the file and the key for an unreadable file, a TOML syntax error, an unknown key or a
/// value the option refuses.
std::optional<std::string> apply_config_file(CLI::App& app, const std::string& path);

/// The effective configuration as TOML, one `key = value` per option, secrets masked.
std::string effective_config(const CLI::App& app);

}  // namespace ignis::program
