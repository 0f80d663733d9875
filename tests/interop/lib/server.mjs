#!/usr/bin/env node
// The one launcher of the servers the Node tests run against.
//
// A C++ binary (ignis-fixture in any mode, ignis-socketio, the embedded example) runs as a child
// process: spawnChild() starts it, waits for its stdout line `listening on http(s)://HOST:PORT`,
// and stop() sends SIGTERM and requires exit code 0 (a crash or a failed shutdown is a test
// failure even when every assertion passed). When the binary's variable is not set, the Node
// reference of the same server runs in this process with the same options:
//
//   suite                       start                                     binary
//   tests/interop/engineio      startServer({ mode: 'engineio', options }) $IGNIS_FIXTURE --mode engineio
//   tests/interop/socketio      startSioServer({ threads, extraArgs })     $IGNIS_FIXTURE --mode socketio
//   tests/interop/ignis, ...    startProgram(flags), spawnProgram(flags)   $IGNIS_PROGRAM
//                               startFixture(flags)                        $IGNIS_FIXTURE --mode ignis
//
// Every server has url, port, path and stop(). A child process also has host, process, exited
// (Promise<{code, signal}>), stdout() and stderr() (everything so far), signal(sig) (sends it,
// waits for the exit: SIGKILL after 5 s; resolves with {code, signal}) and restart() (stop(),
// then the same command on the same port, retried for 5 s while the port is still taken).
// Children get this process's environment minus every IGNIS_* variable (the program reads its
// flags from them), plus the `env` given; the Engine.IO and Socket.IO fixtures get all of it.
// A child still running when this process exits is killed. IGNIS_FIXTURE_VERBOSE=1 copies the
// children's output (and the in-process Ignis reference's log) to ours.
//
// Run as a program, this file is a stand-in for ignis-fixture, with the same command line and
// the Node reference behind it (it exercises the child-process path without the C++ build):
//
//   IGNIS_FIXTURE=tests/interop/lib/server.mjs node --test tests/interop/socketio/
//   (tests/interop/engineio/ too, with IGNIS_REF_HEADERS_TIMEOUT_MS=2000 for the slowloris test)
//
//   server.mjs --mode engineio --port 0 [--ping-interval MS] [--ping-timeout MS]
//     [--max-payload BYTES] [--upgrade-timeout MS] [--transports polling,websocket]
//     [--cors-origin ORIGIN[,ORIGIN...]] [--cors-credentials]
//   server.mjs --mode socketio --port PORT [--threads N] [--ping-interval MS] [--ping-timeout MS]
//     (--threads is accepted and ignored)
//   server.mjs --mode ignis [flags and knobs of ignis-reference.mjs]
//
// Engine.IO options (all optional; defaults = the official Engine.IO protocol suite's setup;
// the fixture gets a flag only for an option that differs from its default):
//   pingInterval   300        --ping-interval MS
//   pingTimeout    200        --ping-timeout MS
//   maxPayload     1000000    --max-payload BYTES        (Node: maxHttpBufferSize)
//   upgradeTimeout 10000      --upgrade-timeout MS
//   transports     ['polling','websocket']  --transports polling,websocket
//   corsOrigin     '*'        --cors-origin ORIGIN[,ORIGIN...]
//                  ('*' or an array of origins; Node gets `cors: {origin: '*'}` or
//                  `cors: {origin: [..list..]}`)
//   corsCredentials false     --cors-credentials
// Either Engine.IO server echoes every message (text or binary) back unchanged and closes the
// session itself when it receives the text "close-me". Env IGNIS_REF_HEADERS_TIMEOUT_MS (Node
// reference only) lowers http.Server's headersTimeout, see startEngineioReference().
//
// The Socket.IO servers speak the fixture protocol of sio-reference.mjs; the Ignis servers are
// the program and fixture of ignis-reference.mjs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { main as ignisReferenceMain, parseConfig, startIgnis } from './ignis-reference.mjs';
import { engineio, requirePeer } from './peers.mjs';
import { closeAllClients } from './sio-client.mjs';
import { attachFixtureProtocol, SIO_SERVER_OPTIONS, SOCKETIO_PATH } from './sio-reference.mjs';
import { sleep } from './util.mjs';

const { Server: SioServer } = requirePeer('socket.io');

/** True when the tests run against the C++ fixture rather than the Node reference. */
export const usingFixture = Boolean(process.env.IGNIS_FIXTURE);
/** True when the tests run against the C++ program rather than the Node reference. */
export const usingProgram = Boolean(process.env.IGNIS_PROGRAM);

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const RESTART_BIND_RETRY_MS = 5_000;
const OUTPUT_KEPT = 20_000;
const LISTENING_RE = /listening on (https?):\/\/([^\s:]+|\[[^\]]+\]):(\d+)/;

// ---------------------------------------------------------------------------
// Child processes

function childEnv(extra, inheritEnv) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (inheritEnv || !k.startsWith('IGNIS_')) env[k] = v;
  return { ...env, ...extra };
}

function flagValue(args, flag) {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `args` with the value of --port replaced by `port` (for restart()). */
function onPort(args, port) {
  const i = args.indexOf('--port');
  if (i < 0) throw new Error(`restart() needs a --port flag: ${args.join(' ')}`);
  const out = [...args];
  out[i + 1] = String(port);
  return out;
}

/** One run of `bin args`: its output, its exit, and `listening` (resolves once it listens). */
function launch(bin, args, env) {
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const run = { child, describe: `${bin} ${args.join(' ')}`, out: '', err: '', exitInfo: null, signalled: false };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    if (verbose) process.stderr.write(c);
    run.err = (run.err + c).slice(-OUTPUT_KEPT);
  });
  run.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      run.exitInfo = { code, signal };
      resolve(run.exitInfo);
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  run.forget = () => process.removeListener('exit', killOnExit);

  run.listening = new Promise((resolve, reject) => {
    let done = false;
    const fail = (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      run.forget();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`no "listening on" line within ${START_TIMEOUT_MS} ms: ${run.describe}\n${run.err}`)), START_TIMEOUT_MS);
    child.once('error', (e) => fail(new Error(`cannot start ${run.describe}: ${e.message}`)));
    child.once('exit', (code, signal) => fail(new Error(`exited during start-up (code ${code}, signal ${signal}): ${run.describe}\n${run.err}`)));
    child.stdout.on('data', (c) => {
      if (verbose) process.stdout.write(c);
      run.out = (run.out + c).slice(-OUTPUT_KEPT);
      if (done) return;
      const m = LISTENING_RE.exec(run.out);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve({ scheme: m[1], host: m[2], port: Number(m[3]) });
    });
  });

  run.signal = async (sig) => {
    run.signalled = true;
    if (!run.exitInfo) {
      child.kill(sig);
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await run.exited;
      clearTimeout(killer);
    }
    run.forget();
    return run.exitInfo;
  };
  return run;
}

/**
 * Spawn `bin args` and wait for `listening on http(s)://HOST:PORT`. opts: env (added to the
 * environment), inheritEnv (keep the IGNIS_* variables too), kind (a label: 'fixture',
 * 'program', ...). Resolves with the server (see the header); its path and apiKey are those of
 * --path (default /socket.io) and --api-key, and api is an ApiClient with that key.
 */
export async function spawnChild(bin, args, { env = {}, inheritEnv = false, kind = 'server' } = {}) {
  const environment = childEnv(env, inheritEnv);
  let run = launch(bin, args, environment);
  const { scheme, host, port } = await run.listening;
  const server = {
    kind,
    url: `${scheme}://127.0.0.1:${port}`,
    host,
    port,
    path: flagValue(args, '--path') ?? '/socket.io',
    apiKey: flagValue(args, '--api-key') ?? null,
    isReference: bin === process.execPath || bin.endsWith('ignis-reference.mjs'),
    get process() {
      return run.child;
    },
    get exited() {
      return run.exited;
    },
    stdout: () => run.out,
    stderr: () => run.err,
    signal: (sig) => run.signal(sig),
    async stop() {
      if (run.exitInfo && !run.signalled) {
        run.forget();
        throw new Error(`process died before stop() (code ${run.exitInfo.code}, signal ${run.exitInfo.signal}): ${run.describe}\n${run.err}`);
      }
      const info = await run.signal('SIGTERM');
      if (info.code !== 0) throw new Error(`exit after SIGTERM: code ${info.code}, signal ${info.signal}: ${run.describe}\n${run.err}`);
    },
    async restart() {
      await server.stop();
      // The port may stay busy for a moment: retry the bind for a while.
      const deadline = Date.now() + RESTART_BIND_RETRY_MS;
      for (;;) {
        run = launch(bin, onPort(args, port), environment);
        try {
          const got = await run.listening;
          if (got.port === port) return;
          await run.signal('SIGKILL');
          throw new Error(`restarted on port ${got.port}, expected ${port}: ${run.describe}`);
        } catch (e) {
          if (Date.now() >= deadline) throw e;
          await sleep(100);
        }
      }
    },
  };
  server.api = new ApiClient(server.url, server.apiKey);
  return server;
}

// ---------------------------------------------------------------------------
// Engine.IO (tests/interop/engineio)

export const ENGINEIO_PATH = '/engine.io/';

export const DEFAULT_ENGINEIO_OPTIONS = Object.freeze({
  pingInterval: 300,
  pingTimeout: 200,
  maxPayload: 1_000_000,
  upgradeTimeout: 10_000,
  transports: Object.freeze(['polling', 'websocket']),
  corsOrigin: '*',
  corsCredentials: false,
});

/** True when the Node reference runs with a lowered header timeout (IGNIS_REF_HEADERS_TIMEOUT_MS). */
export const referenceHasHeaderTimeout = !usingFixture && Number(process.env.IGNIS_REF_HEADERS_TIMEOUT_MS || 0) > 0;

/**
 * The Engine.IO server: $IGNIS_FIXTURE --mode engineio --port 0 [flags], else the Node reference.
 * server.options are the options in effect, server.isNodeReference tells which one runs.
 */
export async function startServer({ mode = 'engineio', options = {} } = {}) {
  if (mode !== 'engineio') {
    throw new Error(`startServer: unsupported mode ${JSON.stringify(mode)}`);
  }
  const unknown = Object.keys(options).filter((k) => !(k in DEFAULT_ENGINEIO_OPTIONS));
  if (unknown.length) throw new Error(`startServer: unknown option(s) ${unknown.join(', ')}`);
  const opts = { ...DEFAULT_ENGINEIO_OPTIONS, ...options };
  if (!usingFixture) return startEngineioReference(opts);
  const server = await spawnChild(process.env.IGNIS_FIXTURE, engineioFlags(opts), { inheritEnv: true, kind: 'fixture' });
  server.path = ENGINEIO_PATH;
  server.options = opts;
  server.isNodeReference = false;
  return server;
}

function engineioFlags(opts) {
  const d = DEFAULT_ENGINEIO_OPTIONS;
  const flags = ['--mode', 'engineio', '--port', '0'];
  if (opts.pingInterval !== d.pingInterval) flags.push('--ping-interval', String(opts.pingInterval));
  if (opts.pingTimeout !== d.pingTimeout) flags.push('--ping-timeout', String(opts.pingTimeout));
  if (opts.maxPayload !== d.maxPayload) flags.push('--max-payload', String(opts.maxPayload));
  if (opts.upgradeTimeout !== d.upgradeTimeout) flags.push('--upgrade-timeout', String(opts.upgradeTimeout));
  if (opts.transports.join(',') !== d.transports.join(',')) flags.push('--transports', opts.transports.join(','));
  const origins = corsOriginList(opts).join(',');
  if (origins !== '*') flags.push('--cors-origin', origins);
  if (opts.corsCredentials) flags.push('--cors-credentials');
  return flags;
}

function corsOriginList(opts) {
  return Array.isArray(opts.corsOrigin) ? opts.corsOrigin : [opts.corsOrigin];
}

/** The official engine.io server in this process with full options (defaults merged). */
async function startEngineioReference(opts) {
  // Node's http.Server closes a connection whose request headers are incomplete
  // only after headersTimeout (60 s), checked every connectionsCheckingInterval
  // (30 s). Env IGNIS_REF_HEADERS_TIMEOUT_MS lowers both so that the slowloris
  // test can be proven against Node too (see robustness.test.mjs).
  const headersTimeout = Number(process.env.IGNIS_REF_HEADERS_TIMEOUT_MS || 0);
  const httpServer = http.createServer(headersTimeout > 0
    ? { headersTimeout, requestTimeout: headersTimeout * 2, connectionsCheckingInterval: 250 }
    : {});
  const sockets = new Set();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const cors = opts.corsOrigin === '*'
    ? { origin: '*' }
    : { origin: corsOriginList(opts) };
  if (opts.corsCredentials) cors.credentials = true;

  const engine = engineio.attach(httpServer, {
    path: ENGINEIO_PATH,
    pingInterval: opts.pingInterval,
    pingTimeout: opts.pingTimeout,
    maxHttpBufferSize: opts.maxPayload,
    upgradeTimeout: opts.upgradeTimeout,
    transports: [...opts.transports],
    cors,
  });
  // engine.io leaves a 30 s "closeTimeout" timer on a polling transport that was
  // closed while no GET was pending (e.g. a session killed by a parse error);
  // those timers would keep node:test alive, so stop() completes them.
  const pollingTransports = new Set();
  engine.on('connection', (socket) => {
    if (socket.transport.name === 'polling') pollingTransports.add(socket.transport);
    socket.on('message', (data) => {
      if (data === 'close-me') socket.close();
      else socket.send(data);
    });
  });

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', resolve);
  });
  const { port } = httpServer.address();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    path: ENGINEIO_PATH,
    options: opts,
    isNodeReference: true,
    engine,
    async stop() {
      engine.close();
      for (const t of pollingTransports) {
        if (typeof t.shouldClose === 'function') t.shouldClose();
      }
      pollingTransports.clear();
      const closed = new Promise((resolve) => httpServer.close(resolve));
      for (const s of sockets) s.destroy();
      httpServer.closeAllConnections?.();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------
// Socket.IO (tests/interop/socketio)

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

/**
 * The Socket.IO server of the fixture protocol:
 * $IGNIS_FIXTURE --mode socketio --port 0 --threads <threads> [extraArgs...], else the Node
 * reference in this process (`threads` ignored). restart() stops it and starts it again on the
 * same port.
 */
export async function startSioServer({ threads = 1, extraArgs = [] } = {}) {
  if (!usingFixture) return startSioReference({ port: 0, ...parseExtraArgs(extraArgs) });
  const server = await spawnChild(process.env.IGNIS_FIXTURE,
    ['--mode', 'socketio', '--port', '0', '--threads', String(threads ?? 1), ...extraArgs],
    { inheritEnv: true, kind: 'fixture' });
  server.path = SOCKETIO_PATH;
  server.isNodeReference = false;
  return server;
}

/**
 * The extra command-line flags the fixture protocol knows (the Node reference
 * applies them too):
 *   --ping-interval MS   (default 300)
 *   --ping-timeout MS    (default 200)
 *   --connection-state-recovery MS  (default off: maxDisconnectionDuration, skipMiddlewares)
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
      case '--connection-state-recovery':
        out.connectionStateRecovery = { maxDisconnectionDuration: num(), skipMiddlewares: true };
        break;
      default: throw new Error(`unknown fixture flag ${flag}`);
    }
  }
  return out;
}

/** One listening instance: http.Server + socket.io Server with the fixture protocol. */
async function listenSioReference(port, overrides = {}) {
  const httpServer = http.createServer();
  const sockets = new Set();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const io = new SioServer(httpServer, {
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
 * The official socket.io server with the fixture protocol, in this process, on `port` (0: any),
 * with socket.io Server option overrides (pingInterval, pingTimeout, ...).
 */
export async function startSioReference({ port = 0, ...overrides } = {}) {
  let current = await listenSioReference(port, overrides);
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
      current = await listenSioReference(fixedPort, overrides);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await current.close();
    },
  };
}

// ---------------------------------------------------------------------------
// Ignis: the program and the fixture's ignis mode (tests/interop/ignis, product, redis, ...)

/** The API key every test server is started with (see withApi()). */
export const API_KEY = 'test-api-key';

/** The reference as a program, for spawnProgram() without IGNIS_PROGRAM. */
export const REFERENCE_SCRIPT = fileURLToPath(new URL('./ignis-reference.mjs', import.meta.url));

/** flags + `--api-key API_KEY` unless an --api-key is already there. */
export function withApi(flags) {
  return flags.includes('--api-key') ? flags : [...flags, '--api-key', API_KEY];
}

/** The program: IGNIS_PROGRAM, else the in-process reference. */
export async function startProgram(flags = [], { env = {} } = {}) {
  if (usingProgram) return spawnProgram(flags, { env });
  return startIgnisInProcess(['--host', '127.0.0.1', '--port', '0', ...flags], env, 'program');
}

/** The fixture (`--mode ignis`): IGNIS_FIXTURE, else the in-process reference. */
export async function startFixture(flags = []) {
  const argv = ['--mode', 'ignis', '--port', '0', ...flags];
  if (usingFixture) return spawnChild(process.env.IGNIS_FIXTURE, argv, { kind: 'fixture' });
  return startIgnisInProcess(argv, {}, 'fixture');
}

/**
 * The program as a child process (IGNIS_PROGRAM, else `node ignis-reference.mjs`): for
 * environment variables, signals, stderr. opts.hostPort (default true) prepends
 * `--host 127.0.0.1 --port 0`; env is added to the (IGNIS_*-free) environment.
 */
export async function spawnProgram(flags = [], { env = {}, hostPort = true } = {}) {
  const args = [...(hostPort ? ['--host', '127.0.0.1', '--port', '0'] : []), ...flags];
  if (usingProgram) return spawnChild(process.env.IGNIS_PROGRAM, args, { env, kind: 'program' });
  return spawnChild(process.execPath, [REFERENCE_SCRIPT, ...args], { env, kind: 'program' });
}

async function startIgnisInProcess(argv, env, kind) {
  const cfg = parseConfig(argv, env);
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);
  const ref = await startIgnis(cfg, { log: verbose ? (l, m) => process.stderr.write(`[ref ${kind}] ${l}: ${m}\n`) : undefined });
  const server = {
    kind,
    url: `http://127.0.0.1:${ref.port}`,
    port: ref.port,
    path: cfg.path,
    apiKey: cfg.apiKey,
    isReference: true,
    reference: ref,
    stdout: () => '',
    stderr: () => '',
    stop: () => ref.stop(),
  };
  server.api = new ApiClient(server.url, server.apiKey);
  return server;
}

/** A free TCP port on 127.0.0.1 (for tests that must choose the port themselves). */
export { freePort } from './util.mjs';

/** The program's HTTP API (needs --api-key). */
export class ApiClient {
  constructor(url, apiKey) {
    this.url = url;
    this.apiKey = apiKey;
  }

  /**
   * One request. body: object (JSON-encoded) or string (sent as is).
   * key: API key to send (default: the server's; null: no header).
   * Returns { status, headers, text, json (or undefined) }.
   */
  async request(method, path, { body, key = this.apiKey, headers = {}, timeout = 5000 } = {}) {
    const h = { ...headers };
    if (key != null) h['X-API-Key'] = key;
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.url + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  async ok(method, path, body) {
    const r = await this.request(method, path, { body });
    assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  }

  /** POST /api/send; asserts 200 {"success":true}. */
  async send(msg) {
    assert.deepEqual(await this.ok('POST', '/api/send', msg), { success: true });
  }

  /** GET /api/clients -> {count, authenticated, ids}. */
  clients() {
    return this.ok('GET', '/api/clients');
  }

  async join(id, rooms) {
    assert.deepEqual(await this.ok('POST', `/api/clients/${encodeURIComponent(id)}/join`, { rooms }), { success: true });
  }

  async leave(id, rooms) {
    assert.deepEqual(await this.ok('POST', `/api/clients/${encodeURIComponent(id)}/leave`, { rooms }), { success: true });
  }
}

// Per-test servers (node:test): started with --api-key API_KEY, stopped after the
// test (clients first, so that the stop is not disturbed by them).

/**
 * startProgram(withApi(flags)) for test context `t`; every client is closed
 * and the server stopped when the test ends.
 */
export async function useProgram(t, flags, { env } = {}) {
  const s = await startProgram(withApi(flags), { env });
  t.after(async () => {
    closeAllClients();
    await s.stop();
  });
  return s;
}

/** startFixture(withApi(flags)) for test context `t`, like useProgram(). */
export async function useFixture(t, flags) {
  const s = await startFixture(withApi(flags));
  t.after(async () => {
    closeAllClients();
    await s.stop();
  });
  return s;
}

// ---------------------------------------------------------------------------
// The stand-in for ignis-fixture (this file run as a program)

function engineioStandInOptions(args) {
  const opts = { ...DEFAULT_ENGINEIO_OPTIONS };
  const value = (i) => {
    if (i + 1 >= args.length) throw new Error(`missing value for ${args[i]}`);
    return args[i + 1];
  };
  for (let i = 0; i < args.length; i++) {
    switch (args[i]) {
      case '--mode': i++; break;
      case '--port':
        if (value(i) !== '0') throw new Error('only --port 0 is supported');
        i++;
        break;
      case '--ping-interval': opts.pingInterval = Number(value(i++)); break;
      case '--ping-timeout': opts.pingTimeout = Number(value(i++)); break;
      case '--max-payload': opts.maxPayload = Number(value(i++)); break;
      case '--upgrade-timeout': opts.upgradeTimeout = Number(value(i++)); break;
      case '--transports': opts.transports = value(i++).split(','); break;
      case '--cors-origin': {
        const list = value(i++).split(',');
        opts.corsOrigin = list.length === 1 && list[0] === '*' ? '*' : list;
        break;
      }
      case '--cors-credentials': opts.corsCredentials = true; break;
      default:
        throw new Error(`unknown flag ${args[i]}`);
    }
  }
  return opts;
}

function socketioStandInOptions(args) {
  let port = 0;
  const extra = [];
  const value = (i) => {
    if (i + 1 >= args.length) throw new Error(`missing value for ${args[i]}`);
    return args[i + 1];
  };
  for (let i = 0; i < args.length; i++) {
    switch (args[i]) {
      case '--mode': i++; break;
      case '--port': port = Number(value(i++)); break;
      case '--threads': value(i++); break;
      case '--ping-interval':
      case '--ping-timeout':
        extra.push(args[i], value(i));
        i++;
        break;
      default:
        throw new Error(`unknown flag ${args[i]}`);
    }
  }
  return { port, ...parseExtraArgs(extra) };
}

async function standIn(args) {
  const mode = flagValue(args, '--mode');
  if (mode === 'ignis') return ignisReferenceMain(args);
  let server;
  if (mode === 'engineio') server = await startEngineioReference(engineioStandInOptions(args));
  else if (mode === 'socketio') server = await startSioReference(socketioStandInOptions(args));
  else throw new Error(`unsupported mode ${mode}`);
  console.log(`listening on http://127.0.0.1:${server.port}`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

const isMain = (() => {
  try {
    return Boolean(process.argv[1]) && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
})();
if (isMain) {
  await standIn(process.argv.slice(2));
}
