#pragma once

namespace ignis::program {

/// Runs `ignis-socketio --profile bench`: a Socket.IO server with only the handlers the load
/// generator (ignis-bench) drives, and no authentication. Flags: --host, --port, --threads,
/// --path. Returns the exit code after SIGTERM/SIGINT.
int run_bench_profile(int argc, char** argv);

/// Whether the command line asks for a profile (`--profile NAME` or `--profile=NAME`).
bool wants_profile(int argc, char** argv);

}  // namespace ignis::program
