// ignis-socketio: the standalone server. See --help (and --profile bench --help).
#include "bench_profile.hpp"
#include "program.hpp"

int main(int argc, char** argv) {
  if (ignis::program::wants_profile(argc, argv))
    return ignis::program::run_bench_profile(argc, argv);
  return ignis::program::run(argc, argv, false);
}
