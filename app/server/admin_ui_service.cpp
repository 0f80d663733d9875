#include "admin_ui_service.hpp"

#include "demo_service.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ignis::program {
namespace http = net::http;
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t max_total_bytes = 64 * 1024 * 1024;
constexpr std::size_t max_files = 4'096;

// webpack's file names carry a hash of their content (js/app.0d7d7845.js).
bool has_content_hash(std::string_view name) {
  const auto slash = name.rfind('/');
  const auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const auto first = base.find('.');
  const auto last = base.rfind('.');
  if (first == std::string_view::npos || first == last) return false;
  const auto hash = base.substr(first + 1, last - first - 1);
  return hash.size() >= 8 && hash.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string default_admin_ui_dir() {
  return program_data("admin-ui");
}

std::string_view admin_ui_service::content_type_of(std::string_view name) noexcept {
  const auto dot = name.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "png") return "image/png";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff") return "font/woff";
  if (ext == "woff2") return "font/woff2";
  if (ext == "ttf") return "font/ttf";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

admin_ui_service::admin_ui_service(std::string prefix, const std::string& dir)
    : prefix_(std::move(prefix)) {
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec))
    throw std::runtime_error("--admin-ui-dir: " + dir + " is not a directory");
  std::uintmax_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto relative = it->path().lexically_relative(root).generic_string();
    if (relative.ends_with(".map")) continue;
    total += it->file_size(ec);
    if (files_.size() >= max_files || total > max_total_bytes)
      throw std::runtime_error("--admin-ui-dir: " + dir + " is too large for the Admin UI");
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in) throw std::runtime_error("--admin-ui-dir: cannot read " + it->path().string());
    files_.emplace(relative,
                   file{content.str(), content_type_of(relative), has_content_hash(relative)});
  }
  if (ec) throw std::runtime_error("--admin-ui-dir: cannot read " + dir + ": " + ec.message());
  if (!files_.contains("index.html"))
    throw std::runtime_error("--admin-ui-dir: " + dir + " holds no index.html");
}

bool admin_ui_service::matches(const net::http_request& req) const {
  const auto path = net::target_path(req.target());
  return path == prefix_ ||
         (path.size() > prefix_.size() && path.starts_with(prefix_) && path[prefix_.size()] == '/');
}

void admin_ui_service::handle(std::shared_ptr<net::http_exchange> ex) {
  const auto& req = ex->request();
  const bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    auto res = net::make_response(req, http::status::method_not_allowed, "Method Not Allowed",
                                  "text/plain");
    res.set(http::field::allow, "GET, HEAD");
    return ex->respond(std::move(res));
  }
  const auto path = net::target_path(req.target());
  if (path == prefix_) {
    // The page's files are relative to the directory: /admin -> /admin/.
    auto res = net::make_response(req, http::status::moved_permanently, "", "");
    res.set(http::field::location, prefix_ + "/");
    return ex->respond(std::move(res));
  }
  auto name = std::string(path.substr(prefix_.size() + 1));
  if (name.empty()) name = "index.html";
  const auto found = files_.find(name);
  if (found == files_.end()) {
    return ex->respond(net::make_response(req, http::status::not_found, "Not Found", "text/plain"));
  }
  const auto& f = found->second;
  auto res =
      net::make_response(req, http::status::ok, head ? std::string() : f.body, f.content_type);
  if (head) res.content_length(f.body.size());
  res.set(http::field::cache_control,
          f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  // The page lets its user disconnect every client: no other site may frame it.
  res.set("X-Frame-Options", "DENY");
  res.set("Content-Security-Policy", "frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");
  ex->respond(std::move(res));
}

}  // namespace ignis::program
