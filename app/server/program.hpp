#pragma once

namespace ignis::program {

/// Runs the ignis-socketio program (flags and IGNIS_* environment variables) until SIGTERM/SIGINT.
/// With `test_knobs`, also accepts --mode ignis, --auth-behaviour and --client-connected (used by
/// ignis-fixture to drive the helper's failure paths).
int run(int argc, char** argv, bool test_knobs);

}  // namespace ignis::program
