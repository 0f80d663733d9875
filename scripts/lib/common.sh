# Shared by scripts/run, scripts/test and scripts/package: installs what the project needs on
# Debian 12 and builds.
# Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The stack of docs/architecture.md §7. Boost comes as the 1.81 packages only: libboost-all-dev and
# the msgpack-c packages would pull Boost 1.74 headers that conflict with them.
APT_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libhiredis-dev libmsgpuck-dev libssl-dev zlib1g-dev
  libcrypt-dev  # libxcrypt: bcrypt for the Admin UI's password (crypt_rn)
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format lld
  redis-server nodejs npm
  gnuplot-nox  # bench/compare draws its chart with it
  iproute2     # ss: the deadline tests check what the kernel keeps of a connection
  chromium
  # Packaging (scripts/package, tests/packaging): manual pages from --help, CPack's dependency
  # scan of the .deb (dpkg-shlibdeps, file), systemd-analyze for the unit, curl for /health.
  help2man dpkg-dev file systemd curl
)

# ccache (the CMake launcher, CMakeLists.txt) serves an object compiled in another build directory
# or checkout only if it hashes neither the working directory (which it does by default when
# debug information is asked for) nor the checkout's absolute path: without these, the packaging
# checks' shared and add_subdirectory builds compiled the dev build's command lines again (about
# four minutes of a run with a cold cache).
export CCACHE_NOHASHDIR=true
export CCACHE_BASEDIR="$ROOT"

log() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # A Node.js that did not come from apt (e.g. a newer one already on the machine) is fine.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local filtered=()
    for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_npm_packages() {
  # The Node peers of the interop tests (socket.io, socket.io-client, ...), pinned by the lock file.
  local dir="$ROOT/tests/node"
  local stamp="$dir/node_modules/.ignis-lock-stamp"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then return; fi
  log "installing npm packages (tests/node)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

# build_preset PRESET [TARGET...]: configures and builds PRESET (everything, or only TARGETs).
build_preset() {
  local preset=$1
  shift
  log "building ($preset${*:+: $*})"
  cmake --preset "$preset" -S "$ROOT" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" --target "$@"
  else
    cmake --build --preset "$preset"
  fi
}
