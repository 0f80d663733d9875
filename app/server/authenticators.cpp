#include "authenticators.hpp"

#include "jwt.hpp"
#include "secrets.hpp"
#include "text_list.hpp"
#include "webhook_auth.hpp"

namespace ignis::program {

std::string handshake_token(const socketio::handshake_info& h) {
  if (const auto* t = h.auth.if_contains("token");
      t && t->is_string() && !t->get_string().empty()) {
    return std::string(t->get_string());
  }
  const auto authorization = h.header("authorization");
  if (authorization.size() > 7) {
    std::string scheme(authorization.substr(0, 7));
    for (auto& c : scheme)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "bearer ") return std::string(authorization.substr(7));
  }
  return std::string(h.query_param("token"));
}

namespace {

helpers::authenticate_fn jwt_authenticator(const settings& cfg) {
  // The key file was read (and checked) at start: load_secrets().
  program::jwt_key key;
  key.hs256_secret = cfg.jwt_secret;
  key.rs256_pem = cfg.jwt_public_key_pem;
  program::jwt_rules rules;
  rules.require_exp = cfg.jwt_require_exp;
  rules.max_age = cfg.jwt_max_age;
  return [key, rules](const socketio::handshake_info& h,
                      std::function<void(helpers::auth_result)> done) {
    const auto claims = verify_jwt(handshake_token(h), key, rules);
    if (!claims) return done(helpers::auth_result::reject());
    auto result = helpers::auth_result::accept();
    if (const auto* rooms = claims->if_contains("rooms")) {
      if (!rooms->is_array()) return done(helpers::auth_result::reject());
      std::vector<std::string> patterns;
      for (const auto& r : rooms->get_array()) {
        if (!r.is_string()) return done(helpers::auth_result::reject());
        patterns.emplace_back(r.get_string());
      }
      result.room_patterns = std::move(patterns);
    }
    done(std::move(result));
  };
}

}  // namespace

helpers::authenticate_fn make_authenticator(const settings& cfg, net::runtime& rt) {
  if (cfg.auth == "none") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      done(helpers::auth_result::accept());
    };
  }
  if (cfg.auth == "tokens") {
    auto tokens = split_list(cfg.tokens);
    return [tokens](const socketio::handshake_info& h,
                    std::function<void(helpers::auth_result)> done) {
      const auto token = handshake_token(h);
      // Every token is compared, each in constant time: the time taken tells nothing of which
      // token, or which part of one, a guess came close to.
      bool ok = false;
      for (const auto& t : tokens)
        ok = constant_time_equal(t, token) || ok;
      done(ok && !token.empty() ? helpers::auth_result::accept() : helpers::auth_result::reject());
    };
  }
  if (cfg.auth == "webhook") {
    webhook_options options;
    options.url = cfg.auth_url;
    options.timeout = std::chrono::milliseconds(cfg.auth_timeout);
    options.forwarded_headers = split_list(cfg.auth_headers);
    options.pool_size = cfg.auth_pool_size;
    auto client = std::make_shared<webhook_client>(rt, std::move(options));
    return [client](const socketio::handshake_info& h,
                    std::function<void(helpers::auth_result)> done) {
      client->authenticate(h, std::move(done));
    };
  }
  return jwt_authenticator(cfg);
}

helpers::authenticate_fn counting(helpers::authenticate_fn inner, auth_counters& counters) {
  return [inner = std::move(inner), &counters](const socketio::handshake_info& h,
                                               std::function<void(helpers::auth_result)> done) {
    auto counted = [&counters, done = std::move(done)](helpers::auth_result r) {
      switch (r.outcome) {
        case helpers::auth_result::kind::accepted:
          counters.accepted.fetch_add(1, std::memory_order_relaxed);
          break;
        case helpers::auth_result::kind::rejected:
          counters.rejected.fetch_add(1, std::memory_order_relaxed);
          break;
        case helpers::auth_result::kind::failed:
          counters.failed.fetch_add(1, std::memory_order_relaxed);
          break;
      }
      done(std::move(r));
    };
    try {
      inner(h, counted);
    } catch (...) {
      // The helper turns the exception into a failure; count it as one.
      counters.failed.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
  };
}

}  // namespace ignis::program
