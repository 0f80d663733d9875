// The server under test.
//
//   const server = await startServer({ mode: 'engineio', options: { pingInterval: 300 } });
//   server.url      -> 'http://127.0.0.1:<port>'   (no path; Engine.IO lives under server.path)
//   server.path     -> '/engine.io/'
//   server.port     -> <port>
//   server.isNodeReference -> true when the in-process Node `engine.io` server is used
//   server.process  -> the ChildProcess of the C++ fixture (absent for the Node reference)
//   await server.stop()
//
// With env IGNIS_FIXTURE set, the C++ fixture binary is spawned as
//   $IGNIS_FIXTURE --mode engineio --port 0 [flags]
// (flags only for options that differ from the defaults below) and we wait for
// the stdout line `listening on http://127.0.0.1:<port>`. Its stderr is kept for
// error messages; IGNIS_FIXTURE_VERBOSE=1 also copies its output to ours.
// lib/node-fixture.mjs is a stand-in with the same command line.
// Otherwise the official Node `engine.io` server is started in this process with the
// same configuration. Either way the server echoes every message (text or binary)
// back unchanged and closes the session itself when it receives the text "close-me".
//
// Env IGNIS_REF_HEADERS_TIMEOUT_MS (Node reference only): lower http.Server's
// headersTimeout, see startNodeReference().
//
// Options (all optional; defaults = the official Engine.IO protocol suite's setup):
//   pingInterval   300        --ping-interval MS
//   pingTimeout    200        --ping-timeout MS
//   maxPayload     1000000    --max-payload BYTES        (Node: maxHttpBufferSize)
//   upgradeTimeout 10000      --upgrade-timeout MS
//   transports     ['polling','websocket']  --transports polling,websocket
//   corsOrigin     '*'        --cors-origin ORIGIN[,ORIGIN...]
//                  ('*' or an array of origins; Node gets `cors: {origin: '*'}` or
//                  `cors: {origin: [..list..]}`)
//   corsCredentials false     --cors-credentials
//
// stop() closes everything (sockets included) so that node:test can exit. For the
// fixture it also rejects when the process had died before stop() was called
// (a crash is a test failure even when every assertion passed).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { engineio } from './peers.mjs';

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

const FIXTURE_START_TIMEOUT_MS = 15_000;
const FIXTURE_STOP_TIMEOUT_MS = 5_000;

/** True when the tests run against the C++ fixture rather than the Node reference. */
export const usingFixture = Boolean(process.env.IGNIS_FIXTURE);

/** True when the Node reference runs with a lowered header timeout (IGNIS_REF_HEADERS_TIMEOUT_MS). */
export const referenceHasHeaderTimeout = !usingFixture && Number(process.env.IGNIS_REF_HEADERS_TIMEOUT_MS || 0) > 0;

export async function startServer({ mode = 'engineio', options = {} } = {}) {
  if (mode !== 'engineio') {
    throw new Error(`startServer: unsupported mode ${JSON.stringify(mode)}`);
  }
  const unknown = Object.keys(options).filter((k) => !(k in DEFAULT_ENGINEIO_OPTIONS));
  if (unknown.length) throw new Error(`startServer: unknown option(s) ${unknown.join(', ')}`);
  const opts = { ...DEFAULT_ENGINEIO_OPTIONS, ...options };
  return usingFixture ? startFixture(opts) : startNodeReference(opts);
}

// ---------------------------------------------------------------------------
// C++ fixture

// Only options that differ from the defaults are passed: the fixture's own
// defaults are the official suite's configuration.
function fixtureFlags(opts) {
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

function startFixture(opts) {
  const bin = process.env.IGNIS_FIXTURE;
  const args = fixtureFlags(opts);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const verbose = Boolean(process.env.IGNIS_FIXTURE_VERBOSE);

  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    if (verbose) process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-8000);
  });

  let exited = null; // { code, signal } once the process is gone
  let stopping = false;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  // Never leave a fixture behind if the test process dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const describe = () => `${bin} ${args.join(' ')}`;

  return new Promise((resolve, reject) => {
    let stdoutBuf = '';
    let done = false;
    const timer = setTimeout(() => {
      fail(new Error(`fixture did not print "listening on" within ${FIXTURE_START_TIMEOUT_MS} ms: ${describe()}\n${stderrTail}`));
    }, FIXTURE_START_TIMEOUT_MS);

    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }

    child.once('error', (err) => fail(new Error(`cannot start fixture ${describe()}: ${err.message}`)));
    child.once('exit', (code, signal) =>
      fail(new Error(`fixture exited during start-up (code ${code}, signal ${signal}): ${describe()}\n${stderrTail}`)));

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (verbose) process.stdout.write(chunk);
      if (done) return;
      stdoutBuf += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdoutBuf);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        path: ENGINEIO_PATH,
        options: opts,
        isNodeReference: false,
        process: child,
        async stop() {
          process.removeListener('exit', killOnExit);
          if (exited && !stopping) {
            throw new Error(`fixture died before stop() (code ${exited.code}, signal ${exited.signal}): ${describe()}\n${stderrTail}`);
          }
          stopping = true;
          if (!exited) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), FIXTURE_STOP_TIMEOUT_MS);
            await exitPromise;
            clearTimeout(killer);
          }
          child.stdout.destroy();
          child.stderr.destroy();
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------
// Node reference (official engine.io, in process)

/**
 * Start the Node reference in this process with full options (defaults merged);
 * exported for node-fixture.mjs.
 */
export async function startNodeReference(opts) {
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
