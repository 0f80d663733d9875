#include "config_file.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <set>
#include <sstream>
#include <string_view>

namespace ignis::program {
namespace {

// Options that configure the file itself, or that only make sense on a command line.
const std::set<std::string, std::less<>> not_in_file = {"config", "print-config", "help", "version",
                                                        "hash-password"};

// Values never printed in clear: they grant access. The -file options name files, which are not
// secret.
bool is_secret(std::string_view key) {
  if (key.ends_with("-file")) return false;
  return key == "tokens" || key == "api-key" || key.find("secret") != std::string_view::npos ||
         key.find("password") != std::string_view::npos;
}

// Any value holding a URL with credentials, whatever its key: "redis://user:pass@host" ->
// "redis://user:***@host", and "redis://pass@host" (a lone userinfo is the password, as
// redis-cli reads it) -> "redis://***@host". The last '@' ends the userinfo, as the Redis URL
// parser takes it. The rest of a URL is worth seeing.
std::string mask_one_url_password(std::string value) {
  const auto scheme = value.find("://");
  if (scheme == std::string::npos) return value;
  const auto start = scheme + 3;
  const auto at = value.rfind('@');
  if (at == std::string::npos || at < start) return value;
  const auto colon = value.find(':', start);
  const auto from = colon != std::string::npos && colon < at ? colon + 1 : start;
  return value.substr(0, from) + "***" + value.substr(at);
}

// A list of URLs (Redis Cluster seeds: "redis://u:p@h1,redis://u:p@h2") is masked URL by URL. A
// single URL keeps being masked whole, even when its password holds a comma.
std::string mask_url_password(std::string value) {
  const auto first = value.find("://");
  if (first == std::string::npos || value.find("://", first + 3) == std::string::npos) {
    return mask_one_url_password(std::move(value));
  }
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto comma = value.find(',', start);
    out += mask_one_url_password(value.substr(start, comma - start));
    if (comma == std::string::npos) break;
    out += ',';
    start = comma + 1;
  }
  return out;
}

std::string key_of(const CLI::Option& opt) {
  const auto& names = opt.get_lnames();
  return names.empty() ? std::string() : names.front();
}

CLI::Option* find_option(CLI::App& app, std::string_view key) {
  for (auto* opt : app.get_options()) {
    if (key_of(*opt) == key) return opt;
  }
  return nullptr;
}

// A TOML scalar as the text a flag would carry; arrays become comma-separated lists.
std::optional<std::string> as_flag_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  if (const auto* a = node.as_array()) {
    std::string joined;
    for (const auto& item : *a) {
      const auto text = item.is_array() ? std::nullopt : as_flag_text(item);
      if (!text) return std::nullopt;
      if (!joined.empty()) joined += ',';
      joined += *text;
    }
    return joined;
  }
  return std::nullopt;
}

std::string toml_quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string config_file_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with("--config=")) return std::string(arg.substr(9));
  }
  const char* env = std::getenv("IGNIS_CONFIG");
  return env ? env : "";
}

std::optional<std::string> apply_config_file(CLI::App& app, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config file " << path << ": " << e.description();
    if (e.source().begin) msg << " (line " << e.source().begin.line << ")";
    return msg.str();
  }
  for (const auto& [raw_key, node] : table) {
    const std::string key(raw_key.str());
    auto* opt = not_in_file.contains(key) ? nullptr : find_option(app, key);
    if (!opt) return "config file " + path + ": unknown key '" + key + "'";
    const auto text = as_flag_text(node);
    if (!text) return "config file " + path + ": key '" + key + "': not a string, number or list";
    try {
      // The value goes through the option's own conversion and checks, and becomes its default:
      // a flag or an IGNIS_* variable given as well still overrides it.
      opt->run_callback_for_default()->default_val(*text);
    } catch (const CLI::Error& e) {
      return "config file " + path + ": key '" + key + "': " + e.what();
    }
  }
  return std::nullopt;
}

std::string effective_config(const CLI::App& app) {
  std::ostringstream out;
  for (const auto* opt : app.get_options()) {
    const auto key = key_of(*opt);
    if (key.empty() || not_in_file.contains(key)) continue;
    std::string value;
    if (opt->count() > 0 && opt->get_multi_option_policy() == CLI::MultiOptionPolicy::Join) {
      // Every value counts (--redis seeds): joined as the option joins them.
      for (const auto& r : opt->results()) {
        if (!value.empty()) value += ',';
        value += r;
      }
    } else if (opt->count() > 0) {
      for (const auto& r : opt->results()) {
        value = r;  // TakeLast: the last one counts
      }
    } else {
      value = opt->get_default_str();
    }
    if (opt->get_expected_max() == 0) {
      // Switches record "true", "1" or nothing when set, and capture "false" or "0" as default.
      const bool on =
          opt->count() > 0 ? value != "false" && value != "0" : value == "true" || value == "1";
      value = on ? "true" : "false";
    }
    if (is_secret(key) && !value.empty()) value = "***";
    value = mask_url_password(value);
    const bool is_bool = value == "true" || value == "false";
    const bool is_number =
        !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    out << key << " = " << (is_bool || is_number ? value : toml_quoted(value)) << "\n";
  }
  return out.str();
}

}  // namespace ignis::program
