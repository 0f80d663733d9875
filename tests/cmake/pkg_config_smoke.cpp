// Built with nothing but `pkg-config --cflags --libs ignis-socketio` (tests/packaging/check.sh):
// the installed headers and libraries, and their dependencies, are all the file names.
#include <ignis/socketio/packet.hpp>
#include <ignis/version.hpp>

#include <cstdio>

int main() {
  ignis::socketio::packet p;
  p.type = ignis::socketio::packet_type::event;
  p.nsp = "/chat";
  p.data = boost::json::array{"hello", 42};
  const auto encoded = ignis::socketio::encode(p);
  std::printf("ignis-socketio %s: %s\n", IGNIS_VERSION_STRING, encoded.text.c_str());
  return encoded.text == "2/chat,[\"hello\",42]" ? 0 : 1;
}
