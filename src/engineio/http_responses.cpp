#include "engineio/http_responses.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace ignis::engineio {

namespace http = net::http;

net::http_response poll_response(const net::http_request& req, std::string body) {
  auto res =
      net::make_response(req, http::status::ok, std::move(body), "text/plain; charset=UTF-8");
  res.set(http::field::cache_control, "no-store");
  return res;
}

net::http_response ok_response(const net::http_request& req) {
  auto res = net::make_response(req, http::status::ok, "ok", "text/html");
  res.set(http::field::cache_control, "no-store");
  return res;
}

net::http_response error_response(const net::http_request& req, http_error e) {
  return error_response(req, e, to_string(e));
}

net::http_response error_response(const net::http_request& req, http_error e,
                                  std::string_view message) {
  std::string body = "{\"code\":" + std::to_string(code(e)) + ",\"message\":";
  body += boost::json::serialize(boost::json::string(message));
  body += '}';
  return net::make_response(req, static_cast<http::status>(http_status(e)), std::move(body),
                            "application/json");
}

net::http_response empty_response(const net::http_request& req, http::status status) {
  return net::make_response(req, status, {}, {});
}

}  // namespace ignis::engineio
