// Links the client from a parent project (see CMakeLists.txt); exits 0 when it works.
#include <ignis/client/manager.hpp>
#include <ignis/version.hpp>

#include <cstdio>

int main() {
  const bool ok = ignis::client::url_namespace("http://127.0.0.1:3000/admin") == "/admin";
  std::printf("ignis-socketio %s from add_subdirectory: %s\n", IGNIS_VERSION_STRING,
              ok ? "ok" : "wrong");
  return ok ? 0 : 1;
}
