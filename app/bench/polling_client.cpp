#include "polling_client.hpp"

#include <strings.h>

#include <cstdlib>

namespace ignis::bench {
namespace {

// The value of a header in an HTTP head, or npos-length view when absent.
bool content_length(std::string_view head, std::size_t& length) {
  std::size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string_view::npos) {
    at += 2;
    constexpr std::string_view name = "content-length:";
    if (head.size() - at >= name.size() &&
        ::strncasecmp(head.data() + at, name.data(), name.size()) == 0) {
      length = std::strtoull(head.data() + at + name.size(), nullptr, 10);
      return true;
    }
  }
  return false;
}

}  // namespace

void polling_client::start(const target& t, bool authenticate, std::string& out) {
  target_ = &t;
  authenticate_ = authenticate;
  stage_ = stage::open;
  get(out);
}

void polling_client::get(std::string& out) const {
  out += "GET " + target_->path + "?EIO=4&transport=polling";
  if (!sid_.empty()) out += "&sid=" + sid_;
  out += " HTTP/1.1\r\nHost: " + target_->host + "\r\n\r\n";
}

void polling_client::post(std::string& out, std::string_view body) const {
  out += "POST " + target_->path + "?EIO=4&transport=polling&sid=" + sid_ +
         " HTTP/1.1\r\nHost: " + target_->host +
         "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n";
  out += body;
}

polling_client::step polling_client::on_bytes(std::string_view data, std::string& out) {
  step s;
  for (;;) {
    const std::string_view rest = data.substr(s.used);
    const auto end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      s.failed = rest.size() > 8192;
      break;
    }
    const std::string_view head = rest.substr(0, end);
    std::size_t length = 0;
    if (!head.starts_with("HTTP/1.1 200") || !content_length(head, length)) {
      s.failed = true;
      break;
    }
    if (rest.size() - end - 4 < length) break;
    if (!on_response(rest.substr(end + 4, length), out)) {
      s.failed = true;
      break;
    }
    s.used += end + 4 + length;
  }
  s.ready = ready_;
  if (ready_) reported_ready_ = true;
  return s;
}

// One complete response for the request in flight: queue the next request.
bool polling_client::on_response(std::string_view body, std::string& out) {
  switch (stage_) {
    case stage::open: {
      // 0{"sid":"…",…}
      const auto at = body.find("\"sid\":\"");
      if (!body.starts_with("0{") || at == std::string_view::npos) return false;
      const auto end = body.find('"', at + 7);
      if (end == std::string_view::npos) return false;
      sid_ = std::string(body.substr(at + 7, end - at - 7));
      stage_ = stage::post_connect;
      post(out, "40");
      return true;
    }
    case stage::post_connect:
    case stage::post_auth:
    case stage::post_pong:
      if (body != "ok") return false;
      stage_ = stage_ == stage::post_connect ? stage::get_connect
               : stage_ == stage::post_auth  ? stage::get_auth
                                             : stage::hold;
      get(out);
      return true;
    case stage::get_connect:
      if (body.find("40{") == std::string_view::npos) {
        get(out);  // something else first (a ping): wait for the CONNECT
        return body.find("44") == std::string_view::npos;
      }
      if (authenticate_) {
        stage_ = stage::post_auth;
        post(out, R"(42["authenticate",{"token":"bench"}])");
      } else {
        ready_ = true;
        stage_ = stage::hold;
        get(out);
      }
      return true;
    case stage::get_auth:
      if (body.find(R"(42["authenticated")") != std::string_view::npos) {
        ready_ = true;
        stage_ = stage::hold;
      }
      get(out);
      return true;
    case stage::hold:
      // Packets are separated by \x1e; a ping is "2".
      if (body == "2" || body.starts_with("2\x1e") ||
          body.find("\x1e"
                    "2\x1e") != std::string_view::npos ||
          body.ends_with("\x1e"
                         "2")) {
        stage_ = stage::post_pong;
        post(out, "3");
      } else if (body.starts_with("1")) {
        return false;  // closed by the server
      } else {
        get(out);
      }
      return true;
  }
  return false;
}

}  // namespace ignis::bench
