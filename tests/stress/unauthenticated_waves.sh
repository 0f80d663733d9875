#!/usr/bin/env bash
# Waves of Socket.IO connections that never authenticate, against ignis-socketio on one thread:
# every one must be closed at the authenticate timeout, and the server's memory must not grow from
# wave to wave. Prints the server's resident memory (and its anonymous part) before, during and
# after, sampled every 10 s for a minute after the last wave.
#
#   tests/stress/unauthenticated_waves.sh [WAVES=3] [COUNT=5000] [PROGRAM=build/release/app/ignis-socketio]
set -euo pipefail
cd "$(dirname "$0")/../.."
WAVES=${1:-3}
COUNT=${2:-5000}
PROGRAM=${3:-build/release/app/ignis-socketio}
PORT=${PORT:-3999}
ulimit -n 20000 || true

"$PROGRAM" --threads 1 --port "$PORT" --auth tokens --tokens t --authenticate-timeout 3000 >/dev/null 2>&1 &
SRV=$!
CLI=
trap 'kill $SRV ${CLI:-} 2>/dev/null || true' EXIT
until grep -q . <(ss -ltn "sport = :$PORT" | tail -n +2); do sleep 0.1; done

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SRV/status"; }
anon() { awk '/^Anonymous/ {print $2}' "/proc/$SRV/smaps_rollup"; }
fds() { ls "/proc/$SRV/fd" | wc -l; }
echo "baseline: rss $(rss) kB, anonymous $(anon) kB, fds $(fds)"
base_fds=$(fds)

for w in $(seq 1 "$WAVES"); do
  log=$(mktemp)
  node tests/stress/idle_connections.mjs --url "ws://127.0.0.1:$PORT/socket.io/" --count "$COUNT" \
    --socketio --auth '{"token":"t"}' --concurrency 200 >"$log" 2>&1 &
  CLI=$!
  max_fds=0 max_rss=0 start=$SECONDS
  # Until every connection has been opened ("ready") and closed again by the server.
  while :; do
    f=$(fds) r=$(rss)
    ((f > max_fds)) && max_fds=$f
    ((r > max_rss)) && max_rss=$r
    grep -q ready "$log" && ((f <= base_fds)) && break
    sleep 0.2
  done
  kill "$CLI" 2>/dev/null || true
  wait "$CLI" 2>/dev/null || true
  rm -f "$log"
  echo "wave $w: peak $((max_fds - base_fds)) open connections, peak rss $max_rss kB;" \
       "all closed after $((SECONDS - start)) s: rss $(rss) kB, anonymous $(anon) kB"
done
for k in 1 2 3 4 5 6; do
  sleep 10
  echo "t+$((k * 10)) s: rss $(rss) kB, anonymous $(anon) kB, fds $(fds)"
done
