#include "api_service.hpp"

#include "secrets.hpp"

#include <ignis/engineio/server.hpp>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ignis::program {
namespace json = boost::json;
namespace http = net::http;

namespace {

void answer(const std::shared_ptr<net::http_exchange>& ex, http::status status,
            const json::value& body) {
  ex->respond(net::make_response(ex->request(), status, json::serialize(body), "application/json"));
}

void error(const std::shared_ptr<net::http_exchange>& ex, http::status status,
           std::string_view message) {
  answer(ex, status, json::object{{"error", message}});
}

std::optional<json::object> body_object(const net::http_request& req) {
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

void api_service::handle(std::shared_ptr<net::http_exchange> ex) {
  const auto path = net::target_path(ex->request().target());
  if (api_key_.empty() || !path.starts_with("/api/"))
    return error(ex, http::status::not_found, "Not found");
  if (!constant_time_equal(ex->request()["X-API-Key"], api_key_))
    return error(ex, http::status::unauthorized, "Unauthorized");
  const auto method = ex->request().method();
  if (path == "/api/send" && method == http::verb::post) return send(ex);
  if (path == "/api/clients" && method == http::verb::get) return clients(ex);
  constexpr std::string_view prefix = "/api/clients/";
  if (path.starts_with(prefix) && method == http::verb::post) {
    const auto rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
      const auto action = rest.substr(slash + 1);
      if (action == "join" || action == "leave")
        return rooms(ex, std::string(rest.substr(0, slash)), action == "join");
    }
  }
  error(ex, http::status::not_found, "Not found");
}

void api_service::send(const std::shared_ptr<net::http_exchange>& ex) {
  auto body = body_object(ex->request());
  if (!body) return error(ex, http::status::bad_request, "Invalid JSON body");
  const auto* topic = body->if_contains("topic");
  if (!topic || !topic->is_string() || topic->get_string().empty()) {
    return error(ex, http::status::bad_request, "Topic is required");
  }
  helpers::send_options opts;
  opts.topic = std::string(topic->get_string());
  if (const auto* dest = body->if_contains("destination"); dest && !dest->is_null()) {
    if (!dest->is_string())
      return error(ex, http::status::bad_request, "Destination must be a string");
    opts.destination = std::string(dest->get_string());
  }
  if (const auto* data = body->if_contains("data")) opts.data = *data;
  try {
    helper_.send(opts);
  } catch (const std::invalid_argument& e) {
    return error(ex, http::status::bad_request, e.what());
  }
  answer(ex, http::status::ok, json::object{{"success", true}});
}

void api_service::clients(const std::shared_ptr<net::http_exchange>& ex) {
  helper_.get_clients([ex](std::vector<helpers::client_summary> all) {
    json::array ids;
    std::size_t authenticated = 0;
    for (const auto& c : all) {
      ids.emplace_back(c.id);
      if (c.state == helpers::client_state::authenticated) ++authenticated;
    }
    answer(ex, http::status::ok,
           json::object{
               {"count", all.size()}, {"authenticated", authenticated}, {"ids", std::move(ids)}});
  });
}

void api_service::rooms(const std::shared_ptr<net::http_exchange>& ex, std::string id, bool join) {
  auto body = body_object(ex->request());
  if (!body) return error(ex, http::status::bad_request, "Invalid JSON body");
  const auto* rooms = body->if_contains("rooms");
  std::vector<std::string> list;
  bool valid = rooms && rooms->is_array();
  if (valid) {
    for (const auto& r : rooms->get_array()) {
      if (!r.is_string() || r.get_string().empty()) {
        valid = false;
        break;
      }
      list.emplace_back(r.get_string());
    }
  }
  if (!valid) return error(ex, http::status::bad_request, "Rooms array is required");
  helper_.io().of("/").with_local_socket(
      id, [ex, id, list = std::move(list), join](const socketio::socket_ptr& s) {
        if (!s) return error(ex, http::status::not_found, "Client not found");
        for (const auto& r : list) {
          if (join) {
            s->join(r);
          } else if (r != id) {
            s->leave(r);
          }
        }
        answer(ex, http::status::ok, json::object{{"success", true}});
      });
}

}  // namespace ignis::program
