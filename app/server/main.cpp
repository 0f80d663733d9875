// ignis-socketio: the standalone server. See --help.
#include "program.hpp"

int main(int argc, char** argv) {
  return ignis::program::run(argc, argv, false);
}
