#!/usr/bin/env bash
# The project as its users get it: the libraries installed and used by another CMake project (static
# and shared), through pkg-config and through add_subdirectory, and the Debian package of the
# programs. Reuses the dev preset's build (it must be built, `cmake --build --preset dev`):
#
#   install-static   cmake --install build/dev (component development) into a temporary prefix
#   examples-static  examples/ configured as a project of its own, find_package(ignis-socketio)
#   run-examples     news_client and helper_client against the dev build's ignis-socketio:
#                    authenticate, join, receive a message sent through the HTTP API, exit 0
#   pkg-config       a program compiled and linked with only the .pc file's flags
#   install-shared   the shared preset's libraries (build/shared) installed in the prefix instead
#   examples-shared  the examples again, linked to the .so files, news_client run
#   subdir           tests/cmake/subdir_smoke: add_subdirectory from a parent project
#   deb              cpack in build/dev: the .deb of the programs, its files, conffiles, scripts
#   unit             systemd-analyze verify on the unit, in the tree dpkg-deb -x unpacked
#   deb-run          the unpacked ignis-socketio with the packaged configuration: /health, the
#                    demo's browser client and the Admin UI's page found next to it, --version of
#                    the three programs
#
# Prints "PASS name" or "FAIL name: why" per check and ends with
# "packaging checks: N passed, M failed" (scripts/test adds them to its counts).
# Everything it makes is under build/package-check, build/shared and build/subdir-smoke.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEV="$ROOT/build/dev"
WORK="$ROOT/build/package-check"
PREFIX="$WORK/prefix"
EXAMPLES="$WORK/examples"
jobs=$(nproc)
passed=0
failed=0

pass() {
  echo "PASS $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
}
# step NAME COMMAND...: runs COMMAND with its output in $WORK/NAME.log; PASS or FAIL (with the
# log's end).
step() {
  local name=$1 log="$WORK/$1.log" started=$SECONDS
  shift
  if "$@" >"$log" 2>&1; then
    pass "$name ($((SECONDS - started)) s)"
    return 0
  fi
  tail -n 25 "$log" | sed 's/^/    /'
  fail "$name" "see $log"
  return 1
}

# The program under test, started on a free port: start_program LOG ARGS... sets $program_pid and
# $program_url from its "listening on http://HOST:PORT" line.
program_pid=
program_url=
start_program() {
  local log=$1 i
  shift
  stop_program
  rm -f "$log"  # a line of an earlier run must not be taken for this one's
  "$@" >"$log" 2>&1 &
  program_pid=$!
  for ((i = 0; i < 100; i++)); do
    program_url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$program_url" ] && return 0
    kill -0 "$program_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the program did not start:"
  cat "$log"
  return 1
}
stop_program() {
  if [ -n "$program_pid" ]; then
    kill -TERM "$program_pid" 2>/dev/null
    wait "$program_pid" 2>/dev/null
    program_pid=
  fi
}
trap stop_program EXIT

# wait_for_line FILE TEXT: until FILE has a line TEXT (10 s at most). FILE must be new: a line
# left by an earlier run would be taken for this one's.
wait_for_line() {
  local i
  for ((i = 0; i < 100; i++)); do
    grep -qx -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no line '$2' in $1:"
  cat "$1"
  return 1
}

api_send() {  # api_send DESTINATION TOPIC DATA
  curl -fsS -X POST "$program_url/api/send" -H 'X-API-Key: check-key' \
    -H 'Content-Type: application/json' \
    -d "{\"destination\":\"$1\",\"topic\":\"$2\",\"data\":$3}"
}

# Both client examples against the dev build's program: token authentication, a join the server
# acknowledges, a message through the HTTP API. $1: the examples' build directory.
run_client_examples() {
  local dir=$1 out="$WORK/news_client.out" status
  start_program "$WORK/program.log" "$DEV/app/ignis-socketio" --port 0 --auth tokens \
    --tokens check-token --rooms-allow 'news-*' --api-key check-key || return 1
  rm -f "$out"
  "$dir/news_client" "$program_url" check-token news-1 >"$out" 2>&1 &
  local client=$!
  wait_for_line "$out" "joined news-1" || return 1
  api_send news-1 headline '{"text":"hello"}' && echo || return 1
  wait "$client"
  status=$?
  cat "$out"
  [ "$status" -eq 0 ] && grep -qx 'headline \[{"text":"hello"}\]' "$out" || return 1

  [ -x "$dir/helper_client" ] || { stop_program; return 0; }
  out="$WORK/helper_client.out"
  rm -f "$out"
  "$dir/helper_client" "$program_url" check-token alert news-2 >"$out" 2>&1 &
  client=$!
  wait_for_line "$out" "authenticated" || return 1
  api_send io-default alert '{"level":"info"}' && echo || return 1
  wait "$client"
  status=$?
  cat "$out"
  stop_program
  [ "$status" -eq 0 ] && grep -qx 'alert {"level":"info"}' "$out"
}

configure_examples() {
  rm -rf "$EXAMPLES"
  cmake -S "$ROOT/examples" -B "$EXAMPLES" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache &&
    cmake --build "$EXAMPLES" -j "$jobs"
}

check_static_install() {
  rm -rf "$PREFIX"
  cmake --install "$DEV" --prefix "$PREFIX" --component development || return 1
  local f
  for f in include/ignis/version.hpp include/ignis/helpers/server_helper.hpp \
    lib/libignis_protocol.a lib/libignis_client.a lib/libignis_redis_adapter.a \
    lib/cmake/ignis-socketio/ignis-socketio-config.cmake \
    lib/cmake/ignis-socketio/ignis-socketio-config-version.cmake \
    lib/cmake/ignis-socketio/ignis-socketio-targets.cmake lib/pkgconfig/ignis-socketio.pc \
    share/doc/ignis-socketio/docs/performance.md; do
    [ -f "$PREFIX/$f" ] || { echo "missing $f"; return 1; }
  done
  # No path of the build tree or the sources in what is installed.
  if grep -rl -e "$ROOT/src" -e "$ROOT/include" -e "$DEV" "$PREFIX/lib/cmake" "$PREFIX/lib/pkgconfig"; then
    echo "paths of the build machine in the package files"
    return 1
  fi
  find "$PREFIX" -type f | sed "s|^$PREFIX/||" | sort | sed -n '1,400p'
}

check_static_examples() {
  configure_examples || return 1
  local libraries
  libraries=$(ldd "$EXAMPLES/news_client") || return 1
  if grep libignis <<<"$libraries"; then
    echo "a static install gave a program shared libraries of the project"
    return 1
  fi
}

check_pkg_config() {
  local pc="$PREFIX/lib/pkgconfig"
  PKG_CONFIG_PATH="$pc" pkg-config --validate ignis-socketio || return 1
  PKG_CONFIG_PATH="$pc" pkg-config --modversion ignis-socketio || return 1
  # shellcheck disable=SC2046
  g++ -std=c++20 "$ROOT/tests/cmake/pkg_config_smoke.cpp" -o "$WORK/pkg_config_smoke" \
    $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs ignis-socketio) || return 1
  "$WORK/pkg_config_smoke"
}

check_shared_install() {
  cmake --preset shared -S "$ROOT" >/dev/null || return 1
  cmake --build --preset shared -j "$jobs" || return 1
  rm -rf "$PREFIX"
  cmake --install "$ROOT/build/shared" --prefix "$PREFIX" || return 1
  ls -l "$PREFIX/lib"
  # The link for the linker, and the library named by its SONAME (libignis_client.so.0.2).
  [ -L "$PREFIX/lib/libignis_client.so" ] &&
    [ -n "$(find "$PREFIX/lib" -name 'libignis_client.so.*' -type f)" ]
}

check_shared_examples() {
  configure_examples || return 1
  local libraries
  libraries=$(ldd "$EXAMPLES/news_client") || return 1
  grep libignis <<<"$libraries"
  grep -q "$PREFIX/lib/libignis_client.so" <<<"$libraries" || {
    echo "news_client does not use the installed libignis_client.so"
    return 1
  }
  run_client_examples "$EXAMPLES"
}

check_subdir() {
  # Next to build/dev, with the dev preset's flags: the same command lines but for the include
  # directory of ignis/version.hpp, so that ccache (in its preprocessor mode) serves the objects
  # the dev build compiled.
  local dir="$ROOT/build/subdir-smoke"
  rm -rf "$dir"
  cmake -S "$ROOT/tests/cmake/subdir_smoke" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DIGNIS_WERROR=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache || return 1
  cmake --build "$dir" -j "$jobs" || return 1
  # The project's warnings (and -Werror, asked for above) and lld stay with its own targets.
  local lines
  lines=$(grep -A4 -e '^build CMakeFiles/subdir_smoke.dir/main.cpp.o' -e '^build subdir_smoke:' \
    "$dir/build.ninja")
  if grep -e '-Wshadow' -e '-Werror' -e '-fuse-ld' <<<"$lines"; then
    echo "the parent's program got the project's build settings"
    return 1
  fi
  "$dir/subdir_smoke"
}

DEB=
ROOTFS="$WORK/root"
check_deb() {
  rm -rf "$DEV/packages"
  (cd "$DEV" && cpack -G DEB) || return 1
  DEB=$(ls "$DEV"/packages/ignis-socketio_*.deb) || return 1
  dpkg-deb --info "$DEB" || return 1
  local files
  files=$(dpkg-deb --contents "$DEB" | awk '{print $6}') || return 1
  echo "$files"
  local f
  for f in ./usr/bin/ignis-socketio ./usr/bin/ignis-cli ./usr/bin/ignis-emit \
    ./usr/lib/systemd/system/ignis-socketio.service ./etc/ignis-socketio/config.toml \
    ./usr/share/ignis-socketio/socket.io.min.js \
    ./usr/share/doc/ignis-socketio/socket.io-client/LICENSE \
    ./usr/share/ignis-socketio/admin-ui/index.html \
    ./usr/share/doc/ignis-socketio/socket.io-admin-ui/LICENSE \
    ./usr/share/man/man1/ignis-socketio.1.gz ./usr/share/man/man1/ignis-cli.1.gz \
    ./usr/share/man/man1/ignis-emit.1.gz; do
    grep -qx -- "$f" <<<"$files" || { echo "missing $f"; return 1; }
  done
  if grep -q -e '^./usr/include' -e '\.a$' <<<"$files"; then
    echo "the program's package carries the development files"
    return 1
  fi
  if grep -q '^./usr/share/ignis-socketio/admin-ui/.*\.map$' <<<"$files"; then
    echo "the program's package carries the Admin UI's source maps"
    return 1
  fi
  local control="$WORK/control"
  rm -rf "$control"
  dpkg-deb --control "$DEB" "$control" || return 1
  grep -qx /etc/ignis-socketio/config.toml "$control/conffiles" || {
    echo "config.toml is not a conffile"
    return 1
  }
  for f in postinst prerm postrm; do
    [ -x "$control/$f" ] && sh -n "$control/$f" || { echo "bad maintainer script $f"; return 1; }
  done
  # Every dependency dpkg-shlibdeps found is installed here, as it is where the programs built.
  dpkg-deb --field "$DEB" Depends
  rm -rf "$ROOTFS"
  dpkg-deb --extract "$DEB" "$ROOTFS" || return 1
  local page
  page=$(zcat "$ROOTFS/usr/share/man/man1/ignis-socketio.1.gz") || return 1
  grep -q '^\.TH "\?IGNIS-SOCKETIO' <<<"$page" || {
    echo "no manual page title"
    return 1
  }
}

check_unit() {
  local out
  # --man=no: the manual page is checked in check_deb (man(1) cannot look into the unpacked tree).
  out=$(systemd-analyze verify --recursive-errors=no --man=no --root="$ROOTFS" \
    ignis-socketio.service 2>&1)
  local status=$?
  echo "$out"
  [ "$status" -eq 0 ] && [ -z "$out" ] || return 1
  systemd-analyze security --offline=true --root="$ROOTFS" ignis-socketio.service 2>&1 | tail -n 3
  return 0
}

check_deb_run() {
  local bin="$ROOTFS/usr/bin" p out
  for p in ignis-socketio ignis-cli ignis-emit; do
    out=$("$bin/$p" --version) || return 1
    echo "$out"
    grep -qx "$p [0-9]*\.[0-9]*\.[0-9]*" <<<"$out" || return 1
  done
  # The packaged configuration, on a free port, with the demo page served to check that its
  # browser client is found next to the installed program (IGNIS_* variables win over the file).
  IGNIS_NO_DEMO=false start_program "$WORK/deb-program.log" "$bin/ignis-socketio" \
    --config "$ROOTFS/etc/ignis-socketio/config.toml" --port 0 || return 1
  out=$(curl -fsS "$program_url/health") || return 1
  echo "$out"
  grep -q '"status":"ok"' <<<"$out" || return 1
  curl -fsS -o "$WORK/served.js" "$program_url/demo/socket.io.min.js" || return 1
  cmp "$WORK/served.js" "$ROOTFS/usr/share/ignis-socketio/socket.io.min.js" || return 1
  stop_program
  # The Admin UI's page, found next to the installed program too.
  local hash
  hash=$(echo 'packaging check' | "$bin/ignis-socketio" --hash-password) || return 1
  IGNIS_ADMIN_UI=prod IGNIS_ADMIN_USERNAME=ops IGNIS_ADMIN_PASSWORD_HASH=$hash \
    start_program "$WORK/deb-admin.log" "$bin/ignis-socketio" \
    --config "$ROOTFS/etc/ignis-socketio/config.toml" --port 0 || return 1
  curl -fsS -o "$WORK/admin.html" "$program_url/admin/" || return 1
  cmp "$WORK/admin.html" "$ROOTFS/usr/share/ignis-socketio/admin-ui/index.html" || return 1
  stop_program
  cat "$WORK/deb-program.log"
}

rm -rf "$WORK"
mkdir -p "$WORK"
if [ ! -x "$DEV/app/ignis-socketio" ]; then
  fail all "build the dev preset first (no $DEV/app/ignis-socketio)"
  echo "packaging checks: $passed passed, $failed failed"
  exit 1
fi

if step install-static check_static_install; then
  step examples-static check_static_examples && step run-examples run_client_examples "$EXAMPLES"
  step pkg-config check_pkg_config
fi
step install-shared check_shared_install && step examples-shared check_shared_examples
step subdir check_subdir
if step deb check_deb; then
  step unit check_unit
  step deb-run check_deb_run
fi

echo "packaging checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
