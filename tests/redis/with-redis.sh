#!/usr/bin/env bash
# with-redis.sh CMD...: runs CMD with a private redis-server on a free loopback port, exported to
# it as IGNIS_TEST_REDIS_URL=redis://127.0.0.1:PORT, and stops the server afterwards whatever
# happens. Exits with CMD's status. No persistence; the server's files live in a temporary
# directory that is removed at the end.
set -uo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD..." >&2
  exit 2
fi

dir=$(mktemp -d /tmp/ignis-with-redis-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=""
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" &
  pid=$!
  for _ in $(seq 1 200); do
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      started=yes
      break
    fi
    kill -0 "$pid" 2>/dev/null || break  # exited: most likely the port was taken meanwhile
    sleep 0.05
  done
  [ -n "$started" ] && break
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
done
if [ -z "$started" ]; then
  echo "with-redis.sh: could not start redis-server" >&2
  [ -f "$dir/redis.log" ] && tail -n 20 "$dir/redis.log" >&2
  exit 1
fi

export IGNIS_TEST_REDIS_URL="redis://127.0.0.1:$port"
echo "with-redis.sh: redis-server on port $port" >&2
"$@"
