#pragma once

// The HTTP responses of the polling transport, with Node's statuses, headers and bodies.
#include <ignis/engineio/http_error.hpp>
#include <ignis/net/http.hpp>

#include <string>
#include <string_view>

namespace ignis::engineio {

/// A poll answered with packets: 200, text/plain; charset=UTF-8.
net::http_response poll_response(const net::http_request& req, std::string body);
/// A POST accepted: 200 "ok", text/html.
net::http_response ok_response(const net::http_request& req);
/// A refused request: the error's status, application/json {"code":N,"message":"..."} with Node's
/// message for it, or `message` instead (an allow_request refusal's own).
net::http_response error_response(const net::http_request& req, http_error e);
net::http_response error_response(const net::http_request& req, http_error e,
                                  std::string_view message);
/// A status with an empty body (overlapping requests, octet-stream POSTs, unknown methods).
net::http_response empty_response(const net::http_request& req, net::http::status status);

}  // namespace ignis::engineio
