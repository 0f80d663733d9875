// The bench profile on Node's socket.io 4.8: the same three handlers as `ignis-socketio --profile
// bench`, for bench/compare. socket.io is loaded from tests/node (NODE_PATH), pinned by its lock file.
// Usage: node bench/node/server.js [--port N] [--host A] [--connection-state-recovery MS]
//          [--redis URL [--redis-mode classic|sharded] [--redis-key-prefix P]]
// With --redis, several servers share broadcasts through @socket.io/redis-adapter on node-redis
// clients (classic: createAdapter, key P; sharded: createShardedAdapter, channelPrefix P), as
// `ignis-socketio --profile bench --redis URL --redis-mode M --redis-key-prefix P` does; both
// default to socket.io as the prefix, so the two kinds of server can share one Redis. "listening
// on" is printed once both Redis clients are connected.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = flag("--host", "127.0.0.1");
const port = Number(flag("--port", "3000"));
const redisUrl = flag("--redis", "");
const redisMode = flag("--redis-mode", "classic");
const redisPrefix = flag("--redis-key-prefix", "socket.io");
if (!["classic", "sharded"].includes(redisMode)) {
  console.error(`--redis-mode: classic or sharded, not ${redisMode}`);
  process.exit(2);
}

async function redisAdapter() {
  const { createClient } = require("redis");
  const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on("error", (e) => console.error(`redis: ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  return redisMode === "sharded"
    ? createShardedAdapter(pub, sub, { channelPrefix: redisPrefix })
    : createAdapter(pub, sub, { key: redisPrefix });
}

async function main() {
  const httpServer = http.createServer();
  const recovery = Number(flag("--connection-state-recovery", "0"));
  const io = new Server(httpServer, {
    perMessageDeflate: false,
    ...(redisUrl ? { adapter: await redisAdapter() } : {}),
    ...(recovery > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: recovery, skipMiddlewares: true } }
      : {}),
  });

  io.on("connection", (socket) => {
    socket.on("echo", (arg, ack) => {
      if (typeof ack === "function") ack(arg);
      else socket.emit("echo", arg);
    });
    socket.on("broadcast", (arg) => io.emit("broadcast", arg));
    // The "authenticated" event always (ignis-bench waits for it), and {ok: true} as the
    // acknowledgement when one is asked (load tools such as artillery wait for that).
    socket.on("authenticate", (...args) => {
      const ack = args[args.length - 1];
      if (typeof ack === "function") ack({ ok: true });
      socket.emit("authenticated");
    });
  });

  httpServer.listen(port, host, () => {
    console.log(`listening on http://${host}:${httpServer.address().port}`);
  });

  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      io.close();
      process.exit(0);
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
