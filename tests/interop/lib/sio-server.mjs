// The Socket.IO server under test, for tests/interop/socketio/*.test.mjs.
//
//   const server = await startSioServer({ threads: 2 });
//   server.url       -> 'http://127.0.0.1:<port>'  (Socket.IO lives under /socket.io/)
//   server.port      -> <port>
//   server.isNodeReference -> true for the in-process Node `socket.io` server
//   await server.restart()   // stop, then start again ON THE SAME PORT
//   await server.stop()
//
// With env IGNIS_FIXTURE set, the C++ fixture is spawned as
//   $IGNIS_FIXTURE --mode socketio --port 0 --threads <threads> [extraArgs...]
// and the stdout line `listening on http://127.0.0.1:<port>` gives the port.
// restart() sends SIGTERM, waits for the exit and spawns it again with
// `--port <port>` (retrying for a few seconds while the port is still taken).
// IGNIS_FIXTURE_VERBOSE=1 copies the fixture's output to ours.
// lib/sio-node-fixture.mjs is a stand-in with the same command line, backed by
// the Node reference below:
//   IGNIS_FIXTURE=tests/interop/lib/sio-node-fixture.mjs node --test tests/interop/socketio/
//
// Otherwise the official Node `socket.io` server runs in this process
// (`threads` and `extraArgs` are ignored) and implements the FIXTURE PROTOCOL
// (the C++ fixture implements the same; see attachFixtureProtocol below):
//
//   Server options: path /socket.io/, pingInterval 300, pingTimeout 200,
//   connectTimeout 1000, maxHttpBufferSize 1e6, cors origin "*", no
//   connection state recovery.
//   Namespaces: "/", "/custom", "/admin" (middleware: auth.token === "good",
//   else error "unauthorized" with data {reason: "bad token"}), and dynamic
//   namespaces matching /^\/dyn-\d+$/. Anything else: "Invalid namespace".
//   On connection: emit("auth", handshake.auth); in dynamic namespaces then
//   emit("dyn-hello", <namespace name>). Events (the ack is the last argument;
//   when the client sent no ack the handler still runs and just skips it):
//     message (...args)               -> emit("message-back", ...args)
//     message-with-ack (...args, ack) -> ack(...args)
//     join (room, ack)                -> socket.join(room); ack("joined")
//     leave (room, ack)               -> socket.leave(room); ack("left")
//     rooms (ack)                     -> ack([...socket.rooms])
//     conn-info (ack)                 -> ack({ id: socket.id, nsp: <namespace name>,
//                                             eioId: <Engine.IO sid>,
//                                             transport: "polling" | "websocket" })
//     emit-to ({rooms?, except?, event, args, volatile?, fromSocket?}, ack)
//         -> (fromSocket ? socket.broadcast : nsp)[.to(rooms)][.except(except)]
//            [.volatile].emit(event, ...args); ack("sent")
//     emit-to-with-ack ({rooms?, timeout, event, args}, ack)
//         -> nsp[.to(rooms)].timeout(timeout).emit(event, ...args,
//              (err, responses) => ack({ err: err ? err.message : null, responses }))
//     server-ack ({event, args, timeout}, ack)
//         -> socket.timeout(timeout).emit(event, ...args,
//              (err, ...res) => ack({ err: err ? err.message : null, res }))
//     fetch-sockets ({rooms?}, ack)
//         -> ack((await nsp[.in(rooms)].fetchSockets()).map(s => ({ id, rooms: [...s.rooms] })))
//     sockets-join ({rooms?, room}, ack)  -> nsp[.in(rooms)].socketsJoin(room); ack("ok")
//     sockets-leave ({rooms?, room}, ack) -> nsp[.in(rooms)].socketsLeave(room); ack("ok")
//     disconnect-sockets ({rooms?, close}, ack) -> ack("ok"); nsp[.in(rooms)].disconnectSockets(close)
//     disconnect-me (close)           -> socket.disconnect(close)
//     server-disconnect-reasons (ack) -> ack(<reasons of the last 50 server-side
//                                        "disconnect" events of this namespace, oldest first>)
//   On "/" only: socket.onAny((event, ...args) => event.startsWith("any:") &&
//                                  socket.emit("any-back", event, ...args))
//   ("nsp" is the socket's own namespace: for a dynamic one the child, e.g. /dyn-42.)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { requirePeer } from './peers.mjs';

const { Server } = requirePeer('socket.io');

export const SOCKETIO_PATH = '/socket.io/';

export const SIO_SERVER_OPTIONS = Object.freeze({
  path: SOCKETIO_PATH,
  pingInterval: 300,
  pingTimeout: 200,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: Object.freeze({ origin: '*' }),
});

export const DYNAMIC_NAMESPACE_RE = /^\/dyn-\d+$/;
const REASONS_KEPT = 50;

const FIXTURE_START_TIMEOUT_MS = 15_000;
const FIXTURE_STOP_TIMEOUT_MS = 5_000;
const FIXTURE_RESTART_BIND_RETRY_MS = 5_000;

/** True when the tests run against the C++ fixture rather than the Node reference. */
export const usingFixture = Boolean(process.env.IGNIS_FIXTURE);

/**
 * Thread counts each scenario file runs with: [1, 2] against the fixture,
 * a single pass (null) against the Node reference (which has no threads).
 * IGNIS_FIXTURE_THREADS=N runs only the N-thread variant (the ThreadSanitizer
 * stage of scripts/test, where the multi-threaded run is the one that matters).
 */
export const THREAD_VARIANTS = !usingFixture
  ? [null]
  : process.env.IGNIS_FIXTURE_THREADS
    ? [Number(process.env.IGNIS_FIXTURE_THREADS)]
    : [1, 2];

/** Label for a describe() per thread variant. */
export function threadsLabel(threads) {
  return threads == null ? 'Node reference' : `fixture, ${threads} thread${threads === 1 ? '' : 's'}`;
}

export async function startSioServer({ threads = 1, extraArgs = [] } = {}) {
  return usingFixture
    ? startFixture({ threads: threads ?? 1, extraArgs })
    : startNodeReference({ port: 0, ...parseExtraArgs(extraArgs) });
}

/**
 * The extra command-line flags the fixture protocol knows (the Node reference
 * applies them too):
 *   --ping-interval MS   (default 300)
 *   --ping-timeout MS    (default 200)
 * The 200-client test relaxes the heartbeat with them: with the official
 * suite's 300/200 ms a single event-loop stall of ~200 ms in the test process
 * (200 clients, plus the in-process reference) is a spurious "ping timeout".
 */
export function parseExtraArgs(extraArgs) {
  const out = {};
  for (let i = 0; i < extraArgs.length; i++) {
    const flag = extraArgs[i];
    const value = extraArgs[i + 1];
    const num = () => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`bad value for ${flag}: ${value}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--ping-interval': out.pingInterval = num(); break;
      case '--ping-timeout': out.pingTimeout = num(); break;
      default: throw new Error(`unknown fixture flag ${flag}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The fixture protocol on an official socket.io Server

/** Install the fixture protocol (see the header) on a socket.io `Server`. */
export function attachFixtureProtocol(io) {
  const reasons = new Map(); // namespace name -> [reason, ...] (last REASONS_KEPT)
  const recordReason = (name, reason) => {
    let list = reasons.get(name);
    if (!list) reasons.set(name, (list = []));
    list.push(String(reason));
    if (list.length > REASONS_KEPT) list.splice(0, list.length - REASONS_KEPT);
  };

  const onConnection = (socket, { dynamic, root }) => {
    const nsp = socket.nsp;
    socket.on('disconnect', (reason) => recordReason(nsp.name, reason));

    socket.emit('auth', socket.handshake.auth);
    if (dynamic) socket.emit('dyn-hello', nsp.name);

    // Every handler tolerates a missing ack (the last argument is then not a function).
    const on = (event, handler) => {
      socket.on(event, (...args) => {
        const ack = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
        handler(ack, ...args);
      });
    };
    const target = (base, rooms) => (Array.isArray(rooms) ? base.in(rooms) : base);

    socket.on('message', (...args) => {
      if (typeof args[args.length - 1] === 'function') args.pop();
      socket.emit('message-back', ...args);
    });
    on('message-with-ack', (ack, ...args) => ack(...args));
    on('join', (ack, room) => {
      socket.join(room);
      ack('joined');
    });
    on('leave', (ack, room) => {
      socket.leave(room);
      ack('left');
    });
    on('rooms', (ack) => ack([...socket.rooms]));
    on('conn-info', (ack) => ack({
      id: socket.id,
      nsp: nsp.name,
      eioId: socket.conn.id,
      transport: socket.conn.transport.name,
    }));
    on('emit-to', (ack, opts = {}) => {
      let op = opts.fromSocket ? socket.broadcast : nsp;
      if (Array.isArray(opts.rooms)) op = op.to(opts.rooms);
      if (Array.isArray(opts.except)) op = op.except(opts.except);
      if (opts.volatile) op = op.volatile;
      op.emit(opts.event, ...(opts.args ?? []));
      ack('sent');
    });
    on('emit-to-with-ack', (ack, opts = {}) => {
      let op = nsp;
      if (Array.isArray(opts.rooms)) op = op.to(opts.rooms);
      op.timeout(opts.timeout).emit(opts.event, ...(opts.args ?? []), (err, responses) => {
        ack({ err: err ? err.message : null, responses });
      });
    });
    on('server-ack', (ack, opts = {}) => {
      socket.timeout(opts.timeout).emit(opts.event, ...(opts.args ?? []), (err, ...res) => {
        ack({ err: err ? err.message : null, res });
      });
    });
    on('fetch-sockets', async (ack, opts = {}) => {
      const sockets = await target(nsp, opts.rooms).fetchSockets();
      ack(sockets.map((s) => ({ id: s.id, rooms: [...s.rooms] })));
    });
    on('sockets-join', (ack, opts = {}) => {
      target(nsp, opts.rooms).socketsJoin(opts.room);
      ack('ok');
    });
    on('sockets-leave', (ack, opts = {}) => {
      target(nsp, opts.rooms).socketsLeave(opts.room);
      ack('ok');
    });
    on('disconnect-sockets', (ack, opts = {}) => {
      ack('ok');
      target(nsp, opts.rooms).disconnectSockets(Boolean(opts.close));
    });
    socket.on('disconnect-me', (close) => {
      socket.disconnect(close === true);
    });
    on('server-disconnect-reasons', (ack) => ack([...(reasons.get(nsp.name) ?? [])]));

    if (root) {
      socket.onAny((event, ...args) => {
        if (typeof event === 'string' && event.startsWith('any:')) {
          if (typeof args[args.length - 1] === 'function') args.pop();
          socket.emit('any-back', event, ...args);
        }
      });
    }
  };

  io.of('/').on('connection', (socket) => onConnection(socket, { dynamic: false, root: true }));
  io.of('/custom').on('connection', (socket) => onConnection(socket, { dynamic: false, root: false }));
  const admin = io.of('/admin');
  admin.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === 'good') return next();
    const err = new Error('unauthorized');
    err.data = { reason: 'bad token' };
    return next(err);
  });
  admin.on('connection', (socket) => onConnection(socket, { dynamic: false, root: false }));
  io.of(DYNAMIC_NAMESPACE_RE).on('connection', (socket) => onConnection(socket, { dynamic: true, root: false }));
}

// ---------------------------------------------------------------------------
// Node reference (official socket.io, in process)

/** One listening instance: http.Server + socket.io Server. */
async function listenReference(port, overrides = {}) {
  const httpServer = http.createServer();
  const sockets = new Set();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const io = new Server(httpServer, {
    ...SIO_SERVER_OPTIONS,
    cors: { ...SIO_SERVER_OPTIONS.cors },
    ...overrides,
  });
  attachFixtureProtocol(io);
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, '127.0.0.1', () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  return {
    io,
    port: httpServer.address().port,
    async close() {
      // io.close() disconnects every socket ("server shutting down"), closes the
      // Engine.IO clients and the http server; drop whatever is left.
      const closed = new Promise((resolve) => io.close(() => resolve()));
      for (const s of sockets) s.destroy();
      httpServer.closeAllConnections?.();
      await closed;
    },
  };
}

/**
 * Start the Node reference on `port` (0: any), with optional pingInterval /
 * pingTimeout overrides; exported for sio-node-fixture.mjs.
 */
export async function startNodeReference({ port = 0, ...overrides } = {}) {
  let current = await listenReference(port, overrides);
  const fixedPort = current.port;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${fixedPort}`,
    port: fixedPort,
    path: SOCKETIO_PATH,
    isNodeReference: true,
    get io() {
      return current.io;
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await current.close();
      current = await listenReference(fixedPort, overrides);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await current.close();
    },
  };
}

// ---------------------------------------------------------------------------
// C++ fixture

function spawnFixture(args) {
  const bin = process.env.IGNIS_FIXTURE;
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const describeCmd = () => `${bin} ${args.join(' ')}`;
  const state = { child, stderrTail: '', exited: null, describe: describeCmd };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    if (verbose) process.stderr.write(chunk);
    state.stderrTail = (state.stderrTail + chunk).slice(-8000);
  });
  state.exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      state.exited = { code, signal };
      resolve(state.exited);
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  state.forget = () => process.removeListener('exit', killOnExit);

  state.ready = new Promise((resolve, reject) => {
    let stdoutBuf = '';
    let done = false;
    const timer = setTimeout(() => {
      fail(new Error(`fixture did not print "listening on" within ${FIXTURE_START_TIMEOUT_MS} ms: ${describeCmd()}\n${state.stderrTail}`));
    }, FIXTURE_START_TIMEOUT_MS);
    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    child.once('error', (err) => fail(new Error(`cannot start fixture ${describeCmd()}: ${err.message}`)));
    child.once('exit', (code, signal) => fail(new Error(
      `fixture exited during start-up (code ${code}, signal ${signal}): ${describeCmd()}\n${state.stderrTail}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (verbose) process.stdout.write(chunk);
      if (done) return;
      stdoutBuf += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdoutBuf);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve(Number(m[1]));
    });
  });
  return state;
}

async function terminate(state) {
  if (!state.exited) {
    state.child.kill('SIGTERM');
    const killer = setTimeout(() => state.child.kill('SIGKILL'), FIXTURE_STOP_TIMEOUT_MS);
    await state.exitPromise;
    clearTimeout(killer);
  }
  state.forget();
  state.child.stdout.destroy();
  state.child.stderr.destroy();
}

async function startFixture({ threads, extraArgs }) {
  const argsFor = (port) => ['--mode', 'socketio', '--port', String(port), '--threads', String(threads), ...extraArgs];
  let state = spawnFixture(argsFor(0));
  const port = await state.ready;
  let stopping = false;

  const diedEarly = () => {
    if (state.exited && !stopping) {
      return new Error(`fixture died before stop()/restart() (code ${state.exited.code}, signal ${state.exited.signal}): ${state.describe()}\n${state.stderrTail}`);
    }
    return null;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    path: SOCKETIO_PATH,
    isNodeReference: false,
    get process() {
      return state.child;
    },
    async restart() {
      const err = diedEarly();
      stopping = true;
      await terminate(state);
      stopping = false;
      if (err) throw err;
      // The port may stay busy for a moment: retry the bind for a while.
      const deadline = Date.now() + FIXTURE_RESTART_BIND_RETRY_MS;
      for (;;) {
        state = spawnFixture(argsFor(port));
        try {
          const got = await state.ready;
          if (got !== port) throw new Error(`fixture restarted on port ${got}, expected ${port}`);
          return;
        } catch (e) {
          state.forget();
          if (Date.now() >= deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async stop() {
      const err = diedEarly();
      stopping = true;
      await terminate(state);
      if (err) throw err;
    },
  };
}
