// The Ignis program and fixture under test, for tests/interop/ignis/*.test.mjs.
//
//   const server = await startProgram(['--auth', 'tokens', '--tokens', 'good']);
//   const server = await startFixture(['--auth-behaviour', 'throw', ...]);
//   server.url / server.port / server.path ('/socket.io' unless --path)
//   server.api            -> HTTP API client (needs --api-key <server.apiKey>)
//   server.isReference    -> true for the Node reference (in process or spawned)
//   await server.stop()   -> shutdown; a spawned process must exit with code 0
//
// Which implementation:
//   IGNIS_PROGRAM=/path/ignis-socketio  startProgram() spawns
//                                      $IGNIS_PROGRAM --host 127.0.0.1 --port 0 [flags]
//   IGNIS_FIXTURE=/path/ignis-fixture   startFixture() spawns
//                                      $IGNIS_FIXTURE --mode ignis --port 0 [flags]
//   unset: the Node reference (lib/ignis-reference.mjs) runs in this process with
//   the same command line (and an empty environment).
// Either way the port comes from the stdout line `listening on http://127.0.0.1:<port>`.
// spawnProgram() always starts a child process (IGNIS_PROGRAM, or
// `node lib/ignis-reference.mjs`): for environment variables, signals, stderr.
// Children get this process's environment minus every IGNIS_* variable, plus
// the `env` given. IGNIS_FIXTURE_VERBOSE=1 copies their output to ours.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseConfig, startIgnis } from './ignis-reference.mjs';
import { closeAllClients } from './sio-client.mjs';

export const REFERENCE_SCRIPT = fileURLToPath(new URL('./ignis-reference.mjs', import.meta.url));
export const usingProgramBinary = Boolean(process.env.IGNIS_PROGRAM);
export const usingFixtureBinary = Boolean(process.env.IGNIS_FIXTURE);

/** The API key every test server is started with (see withApi()). */
export const API_KEY = 'test-api-key';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** flags + `--api-key API_KEY` unless an --api-key is already there. */
export function withApi(flags) {
  return flags.includes('--api-key') ? flags : [...flags, '--api-key', API_KEY];
}

function apiKeyOf(flags) {
  const i = flags.indexOf('--api-key');
  return i >= 0 ? flags[i + 1] : null;
}

function pathOf(flags) {
  const i = flags.indexOf('--path');
  return i >= 0 ? flags[i + 1] : '/socket.io';
}

/** The program: IGNIS_PROGRAM, else the in-process reference. */
export async function startProgram(flags = [], { env = {} } = {}) {
  if (usingProgramBinary) return spawnProgram(flags, { env });
  return startInProcess(['--host', '127.0.0.1', '--port', '0', ...flags], env, 'program');
}

/** The fixture (`--mode ignis`): IGNIS_FIXTURE, else the in-process reference. */
export async function startFixture(flags = []) {
  if (usingFixtureBinary) return spawnChild(process.env.IGNIS_FIXTURE, ['--mode', 'ignis', '--port', '0', ...flags], {}, 'fixture');
  return startInProcess(['--mode', 'ignis', '--port', '0', ...flags], {}, 'fixture');
}

/**
 * The program as a child process. opts.hostPort (default true) prepends
 * `--host 127.0.0.1 --port 0`; env is added to the (IGNIS_*-free) environment.
 */
export async function spawnProgram(flags = [], { env = {}, hostPort = true } = {}) {
  const args = [...(hostPort ? ['--host', '127.0.0.1', '--port', '0'] : []), ...flags];
  if (usingProgramBinary) return spawnChild(process.env.IGNIS_PROGRAM, args, env, 'program');
  return spawnChild(process.execPath, [REFERENCE_SCRIPT, ...args], env, 'program');
}

async function startInProcess(argv, env, kind) {
  const cfg = parseConfig(argv, env);
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);
  const ref = await startIgnis(cfg, { log: verbose ? (l, m) => process.stderr.write(`[ref ${kind}] ${l}: ${m}\n`) : undefined });
  return decorate({
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
  });
}

function decorate(server) {
  server.api = new ApiClient(server.url, server.apiKey);
  return server;
}

/** A free TCP port on 127.0.0.1 (for tests that must choose the port themselves). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IGNIS_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Spawn `bin args` and wait for `listening on http://HOST:PORT`. Resolves with a
 * server object; extra members: process, exited (Promise<{code, signal}>),
 * stdout()/stderr() (everything so far), signal(sig) -> Promise<{code, signal}>.
 */
export function spawnChild(bin, args, env, kind) {
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
  const describe = () => `${bin} ${args.join(' ')}`;
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    if (verbose) process.stderr.write(c);
    err = (err + c).slice(-20_000);
  });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      process.removeListener('exit', killOnExit);
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`no "listening on" line within ${START_TIMEOUT_MS} ms: ${describe()}\n${err}`)), START_TIMEOUT_MS);
    child.once('error', (e) => fail(new Error(`cannot start ${describe()}: ${e.message}`)));
    child.once('exit', (code, signal) => fail(new Error(`exited during start-up (code ${code}, signal ${signal}): ${describe()}\n${err}`)));
    child.stdout.on('data', (c) => {
      if (verbose) process.stdout.write(c);
      out = (out + c).slice(-20_000);
      if (done) return;
      const m = /listening on (https?):\/\/([^\s:]+|\[[^\]]+\]):(\d+)/.exec(out);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      const port = Number(m[3]);
      let stopping = false;
      const signal = async (sig) => {
        stopping = true;
        if (!exitInfo) {
          child.kill(sig);
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(killer);
        }
        process.removeListener('exit', killOnExit);
        return exitInfo;
      };
      resolve(decorate({
        kind,
        url: `${m[1]}://127.0.0.1:${port}`,
        host: m[2],
        port,
        path: pathOf(args),
        apiKey: apiKeyOf(args),
        isReference: bin === process.execPath || bin.endsWith('ignis-reference.mjs'),
        process: child,
        exited,
        stdout: () => out,
        stderr: () => err,
        signal,
        async stop() {
          if (exitInfo && !stopping) {
            throw new Error(`process died before stop() (code ${exitInfo.code}, signal ${exitInfo.signal}): ${describe()}\n${err}`);
          }
          const info = await signal('SIGTERM');
          if (info.code !== 0) throw new Error(`exit after SIGTERM: code ${info.code}, signal ${info.signal}: ${describe()}\n${err}`);
        },
      }));
    });
  });
}

// ---------------------------------------------------------------------------
// HTTP API client

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

// ---------------------------------------------------------------------------
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
