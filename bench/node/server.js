// The bench profile on Node's socket.io 4.8: the same three handlers as `ignis-socketio --profile
// bench`, for bench/compare. socket.io is loaded from tests/node (NODE_PATH), pinned by its lock file.
// Usage: node bench/node/server.js [--port N] [--host A] [--connection-state-recovery MS]
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = flag("--host", "127.0.0.1");
const port = Number(flag("--port", "3000"));

const httpServer = http.createServer();
const recovery = Number(flag("--connection-state-recovery", "0"));
const io = new Server(httpServer, {
  perMessageDeflate: false,
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
