// ignis-cli: a terminal Socket.IO client for debugging a server.
//
//   ignis-cli URL [--path P] [--auth JSON] [--header K:V]... [--query K=V]...
//             [--transport polling|websocket] [--insecure] [--ca-file FILE]
//             [--authenticate] [--join ROOM]... [--emit EVENT JSON]... [--ack]
//             [--listen EVENT]... [--count N] [--timeout S] [--no-reconnect] [--verbose]
//
// Every received event (all of them, or only the --listen ones) is printed to stdout as one JSON
// line {"event":"…","args":[…]}; binary arguments appear as {"_binary":"<base64>"}. With --ack,
// each --emit asks for an acknowledgement and its answer is printed as {"ack":"…","args":[…]}.
// Exit status: 0 when --count events arrived within --timeout (or, without --count, when the
// timeout or a signal ends a run that did connect); 2 otherwise (timeout, no connection within the
// timeout, refused or lost connection); 1 for bad arguments. Diagnostics go to stderr.
#include <ignis/client/manager.hpp>
#include <ignis/common/base64.hpp>
#include <ignis/socketio/json.hpp>
#include <ignis/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace ignis;
namespace json = boost::json;
namespace asio = boost::asio;

struct settings {
  std::string url;
  std::string path = "/socket.io/";
  std::string auth;
  std::vector<std::string> headers;
  std::vector<std::string> query;
  std::string transport;
  bool insecure = false;
  std::string ca_file;
  bool authenticate = false;
  std::vector<std::string> joins;
  std::vector<std::pair<std::string, std::string>> emits;
  bool ack = false;
  std::vector<std::string> listens;
  std::optional<std::size_t> count;
  double timeout = 0;
  bool no_reconnect = false;
  bool verbose = false;
};

// Placeholders become {"_binary":"<base64>"} so that the line is self-contained JSON.
json::value printable(const json::value& v, const client::payload& p) {
  if (const auto* bytes = p.binary(v)) {
    std::string b64;
    base64::encode(as_bytes(*bytes), b64);
    return json::object{{"_binary", b64}};
  }
  if (const auto* a = v.if_array()) {
    json::array out;
    for (const auto& e : *a)
      out.push_back(printable(e, p));
    return out;
  }
  if (const auto* o = v.if_object()) {
    json::object out;
    for (const auto& kv : *o)
      out[kv.key()] = printable(kv.value(), p);
    return out;
  }
  return v;
}

std::string format_seconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

std::string line(std::string_view key, std::string_view name, const client::payload& p) {
  json::array args;
  for (const auto& v : p.args)
    args.push_back(printable(v, p));
  json::object o;
  o[key] = name;
  o["args"] = std::move(args);
  return socketio::serialize_js(o);
}

// Everything below runs on the manager's strand: no locking needed.
class session : public std::enable_shared_from_this<session> {
 public:
  session(settings s, std::promise<int> exit) : s_(std::move(s)), exit_(std::move(exit)) {}

  void start(client::manager& m, const std::shared_ptr<client::socket>& sock) {
    socket_ = sock;
    auto self = shared_from_this();
    sock->on_connect([self] { self->on_connect(); });
    sock->on_disconnect([self](client::disconnect_reason r) { self->on_disconnect(r); });
    sock->on_connect_error([self](const client::connect_error& e) { self->on_connect_error(e); });
    if (s_.authenticate) {
      sock->on("authenticated", [self](client::payload&, client::ack_responder) {
        self->note("authenticated");
        self->act();
      });
      sock->on("unauthenticated", [self](client::payload& p, client::ack_responder) {
        self->error("authentication refused: " + line("event", "unauthenticated", p));
        self->finish(2);
      });
    }
    if (s_.listens.empty()) {
      sock->on_any([self](std::string_view ev, client::payload& p, client::ack_responder) {
        self->print_event(ev, p);
      });
    } else {
      for (const auto& ev : s_.listens) {
        sock->on(ev, [self, ev](client::payload& p, client::ack_responder) {
          self->print_event(ev, p);
        });
      }
    }
    if (s_.verbose) {
      m.on_upgrade([self](client::transport_kind t) {
        self->note("upgraded to " + std::string(to_string(t)));
      });
      m.on_reconnect_attempt(
          [self](std::size_t n) { self->note("reconnection attempt " + std::to_string(n)); });
    }
    sock->connect();
  }

  void on_timeout() {
    if (!connected_once_) {
      // A server that accepts the TCP connection but never answers ends here.
      error("timeout: no connection to " + s_.url + " within " + format_seconds(s_.timeout) + " s");
      finish(2);
    } else if (s_.count) {
      error("timeout: " + std::to_string(received_) + " of " + std::to_string(*s_.count) +
            " events");
      finish(2);
    } else {
      finish(0);
    }
  }
  void on_signal() { finish(s_.count && received_ < *s_.count ? 2 : 0); }

 private:
  void note(const std::string& msg) const {
    if (s_.verbose) std::cerr << "ignis-cli: " << msg << std::endl;
  }
  void error(const std::string& msg) const { std::cerr << "ignis-cli: " << msg << std::endl; }

  void finish(int code) {
    if (finished_) return;
    finished_ = true;
    exit_.set_value(code);
  }

  void on_connect() {
    auto sock = socket_.lock();
    if (!sock) return;
    connected_once_ = true;
    note("connected to " + s_.url + " (socket id " + sock->id() + ")");
    if (s_.authenticate) {
      sock->emit("authenticate");  // act() once the server answers
    } else {
      act();
    }
  }

  // After each (re)connection: join the rooms again; the emits go out once.
  void act() {
    auto sock = socket_.lock();
    if (!sock) return;
    if (!s_.joins.empty()) {
      json::array rooms;
      for (const auto& r : s_.joins)
        rooms.emplace_back(r);
      auto self = shared_from_this();
      sock->emit_with_ack("join", socketio::make_args(json::object{{"rooms", rooms}}),
                          std::chrono::seconds(5), [self](error_code ec, client::payload p) {
                            if (ec) {
                              self->note("join not acknowledged (" + ec.message() + ")");
                            } else {
                              self->note(line("ack", "join", p));
                            }
                          });
    }
    if (emitted_) return;
    emitted_ = true;
    for (const auto& [event, text] : s_.emits) {
      auto value = socketio::parse_js(text);
      client::payload args = socketio::make_args(std::move(*value));  // checked in main()
      if (!s_.ack) {
        sock->emit(event, std::move(args));
        continue;
      }
      auto self = shared_from_this();
      const auto wait =
          std::chrono::milliseconds(s_.timeout > 0 ? static_cast<long>(s_.timeout * 1000) : 10'000);
      sock->emit_with_ack(event, std::move(args), wait,
                          [self, event](error_code ec, client::payload p) {
                            if (ec) {
                              self->error("no acknowledgement for " + event + ": " + ec.message());
                              return;
                            }
                            self->out(line("ack", event, p));
                          });
    }
  }

  void print_event(std::string_view event, const client::payload& p) {
    if (finished_) return;
    out(line("event", event, p));
    ++received_;
    if (s_.count && received_ >= *s_.count) finish(0);
  }

  void out(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  void on_disconnect(client::disconnect_reason r) {
    const std::string reason(to_string(r));
    if (r == client::disconnect_reason::io_server_disconnect || s_.no_reconnect) {
      error("disconnected: " + reason);
      finish(2);
      return;
    }
    error("disconnected: " + reason + " (reconnecting)");
  }

  void on_connect_error(const client::connect_error& e) {
    std::string msg = "connect_error: " + e.message;
    if (!e.description.empty()) msg += " (" + e.description + ")";
    if (!e.data.is_null()) msg += " data=" + socketio::serialize_js(e.data);
    // A refusal by the server, or a server never reached: stop. Once connected, a failed
    // reconnection attempt is only reported.
    const bool refused = !e.ec;
    if (refused || !connected_once_ || s_.no_reconnect) {
      error(msg);
      finish(2);
    } else {
      note(msg);
    }
  }

  settings s_;
  std::promise<int> exit_;
  std::weak_ptr<client::socket> socket_;  // the socket's handlers hold this session
  std::size_t received_ = 0;
  bool finished_ = false;
  bool connected_once_ = false;
  bool emitted_ = false;
};

int run(settings s) {
  client::manager_options opts;
  opts.path = s.path;
  if (s.transport == "polling") opts.transports = {client::transport_kind::polling};
  if (s.transport == "websocket") opts.transports = {client::transport_kind::websocket};
  for (const auto& h : s.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "ignis-cli: --header wants NAME:VALUE, got " << h << "\n";
      return 1;
    }
    auto value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.erase(0, 1);
    opts.extra_headers.emplace_back(h.substr(0, colon), value);
  }
  for (const auto& q : s.query) {
    const auto eq = q.find('=');
    opts.query.emplace_back(q.substr(0, eq), eq == std::string::npos ? "" : q.substr(eq + 1));
  }
  opts.tls.verify = !s.insecure;
  opts.tls.ca_file = s.ca_file;
  opts.reconnection.enabled = !s.no_reconnect;

  json::object auth;
  if (!s.auth.empty()) {
    auto v = socketio::parse_js(s.auth);
    if (!v || !v->is_object()) {
      std::cerr << "ignis-cli: --auth wants a JSON object\n";
      return 1;
    }
    auth = std::move(v->as_object());
  }
  for (const auto& [event, text] : s.emits) {
    if (!socketio::parse_js(text)) {
      std::cerr << "ignis-cli: --emit " << event << ": not JSON: " << text
                << " (quote strings: '\"text\"')\n";
      return 1;
    }
    if (socketio::is_reserved_event(event)) {
      std::cerr << "ignis-cli: \"" << event << "\" is a reserved event name\n";
      return 1;
    }
  }

  std::promise<int> exit;
  auto code = exit.get_future();
  client::io_thread io;
  std::optional<client::manager> m;
  try {
    m.emplace(io.executor(), s.url, opts);
  } catch (const std::exception& e) {
    std::cerr << "ignis-cli: " << e.what() << "\n";
    return 1;
  }
  const auto timeout = s.timeout;
  const auto nsp = client::url_namespace(s.url);
  auto sess = std::make_shared<session>(std::move(s), std::move(exit));
  auto sock = m->socket(nsp, std::move(auth));

  asio::steady_timer timer(m->get_executor());
  if (timeout > 0) {
    timer.expires_after(std::chrono::milliseconds(static_cast<long>(timeout * 1000)));
    timer.async_wait([sess](error_code ec) {
      if (!ec) sess->on_timeout();
    });
  }
  asio::signal_set signals(m->get_executor(), SIGINT, SIGTERM);
  signals.async_wait([sess](error_code ec, int) {
    if (!ec) sess->on_signal();
  });
  asio::post(m->get_executor(), [sess, &mgr = *m, sock] { sess->start(mgr, sock); });

  const int rc = code.get();
  // Stop the strand's own work before the client goes: the session must not outlive the manager.
  std::promise<void> stopped;
  asio::post(m->get_executor(), [&] {
    timer.cancel();
    error_code ignored;
    signals.cancel(ignored);
    stopped.set_value();
  });
  stopped.get_future().wait();
  sock.reset();
  m.reset();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{
      "ignis-cli: connect to a Socket.IO server, emit, listen, print events as JSON lines"};
  app.set_version_flag("--version", "ignis-cli " IGNIS_VERSION_STRING);
  app.add_option("url", s.url, "Server URL (http, https, ws, wss); its path is the namespace")
      ->required();
  app.add_option("--path", s.path, "Engine.IO path on the server")->capture_default_str();
  app.add_option("--auth", s.auth, "JSON object sent as the CONNECT auth payload");
  app.add_option("--header", s.headers, "Extra HTTP header NAME:VALUE (repeatable)");
  app.add_option("--query", s.query, "Extra query parameter K=V (repeatable)");
  app.add_option("--transport", s.transport, "Use only this transport")
      ->check(CLI::IsMember({"polling", "websocket"}));
  app.add_flag("--insecure", s.insecure, "Do not verify the server's TLS certificate");
  app.add_option("--ca-file", s.ca_file, "Trust the CA certificates in this PEM file");
  app.add_flag("--authenticate", s.authenticate,
               "Ignis authentication: emit 'authenticate' after connecting, wait for "
               "'authenticated'");
  app.add_option("--join", s.joins, "Emit 'join' {rooms:[ROOM]} after connecting (repeatable)");
  app.add_option("--emit", s.emits, "Emit EVENT with the JSON value as its argument (repeatable)")
      ->type_size(2)
      ->allow_extra_args(false);
  app.add_flag("--ack", s.ack, "Ask for an acknowledgement of each --emit and print it");
  app.add_option("--listen", s.listens, "Print only these events (repeatable; default: all)");
  app.add_option("--count", s.count, "Exit 0 once this many events were printed");
  app.add_option("--timeout", s.timeout, "Give up after this many seconds (exit 2 with --count)");
  app.add_flag("--no-reconnect", s.no_reconnect, "Exit on the first lost connection");
  app.add_flag("-v,--verbose", s.verbose, "Report the connection's lifecycle on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  return run(std::move(s));
}
