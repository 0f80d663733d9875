#include <ignis/engineio/http_error.hpp>
#include <ignis/engineio/packet.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::engineio;

// engine.io 6.6's Server.errors and Server.errorMessages (lib/server.ts), and abortRequest's
// statuses.
TEST(EngineIoHttpError, MatchesNodesTable) {
  struct row {
    http_error e;
    int code;
    std::string_view message;
    unsigned status;
  };
  for (const auto& r : {
           row{http_error::unknown_transport, 0, "Transport unknown", 400},
           row{http_error::unknown_sid, 1, "Session ID unknown", 400},
           row{http_error::bad_handshake_method, 2, "Bad handshake method", 400},
           row{http_error::bad_request, 3, "Bad request", 400},
           row{http_error::forbidden, 4, "Forbidden", 403},
           row{http_error::unsupported_protocol_version, 5, "Unsupported protocol version", 400},
       }) {
    EXPECT_EQ(code(r.e), r.code);
    EXPECT_EQ(to_string(r.e), r.message);
    EXPECT_EQ(http_status(r.e), r.status);
  }
  static_assert(to_string(http_error::forbidden) == "Forbidden");
  EXPECT_EQ(protocol_version, "4");
}

}  // namespace
