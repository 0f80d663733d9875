// A mixed Socket.IO cluster on one private Redis, for tests/interop/redis/*.test.mjs:
//   node     – the official socket.io 4.8 server with @socket.io/redis-adapter 8.3 (in process),
//              fixture protocol (lib/sio-reference.mjs) plus the server-side-emit commands below;
//   fixture  – $IGNIS_FIXTURE --mode socketio --redis … (same fixture protocol, 2 shards);
//   program  – $IGNIS_PROGRAM --auth none --rooms-allow '*' --redis … (the helper; HTTP API for
//              send()). Every room is allowed, as in the demo: ids must still never be joinable.
//
// Extra fixture-protocol commands (both the Node server here and the C++ fixture):
//   server-side-emit (...args, ack) -> nsp.serverSideEmit("ping-servers", ...args, cb);
//                                      ack({err, replies: <count>, values: [<first ack arg>…]})
//   notify-servers (...args, ack)   -> nsp.serverSideEmit("notify-clients", ...args); ack("ok")
// Server-side handlers: "ping-servers" answers {from: "node"|"ignis", args};
// "notify-clients" emits "server-event" (...args) to the server's own clients.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import { startRedis } from '../lib/redis-server.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { attachFixtureProtocol, SIO_SERVER_OPTIONS } from '../lib/sio-reference.mjs';
import { spawnChild, API_KEY } from '../lib/server.mjs';
import { closeAllClients, connectSocket, newSocket } from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';

const { Server } = requirePeer('socket.io');
const { createClient } = requirePeer('redis');
const { createAdapter, createShardedAdapter } = requirePeer('@socket.io/redis-adapter');

/** How long cluster-wide requests (fetchSockets, serverSideEmit) wait, unless a test says. */
export const REQUESTS_TIMEOUT = 3000;

/** A redis@4 client that never throws on connection trouble (it reconnects by itself). */
export async function redisClient(url) {
  const c = createClient({ url, socket: { reconnectStrategy: (n) => Math.min(50 * n, 300) } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function startNodeServer(redisUrl, mode, requestsTimeout) {
  const pub = await redisClient(redisUrl);
  const sub = pub.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  // The sharded adapter has no requestsTimeout: its requests wait 5 s unless the call sets one
  // (io.timeout(ms).fetchSockets()).
  const adapter = mode === 'sharded'
    ? createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' })
    : createAdapter(pub, sub, { requestsTimeout });
  const httpServer = http.createServer();
  const sockets = new Set();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const io = new Server(httpServer, {
    ...SIO_SERVER_OPTIONS,
    pingInterval: 2000,
    pingTimeout: 5000,
    cors: { origin: '*' },
    adapter,
  });
  attachFixtureProtocol(io);
  const root = io.of('/');
  root.on('connection', (socket) => {
    socket.on('server-side-emit', (...args) => {
      const ack = args.pop();
      root.serverSideEmit('ping-servers', ...args, (err, replies) => {
        ack({ err: err ? err.message : null, replies: replies.length, values: replies });
      });
    });
    socket.on('notify-servers', (...args) => {
      const ack = args.pop();
      root.serverSideEmit('notify-clients', ...args);
      ack('ok');
    });
  });
  root.on('ping-servers', (...args) => {
    const cb = args.pop();
    cb({ from: 'node', args });
  });
  root.on('notify-clients', (...args) => root.local.emit('server-event', ...args));
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = httpServer.address().port;
  return {
    io,
    port,
    url: `http://127.0.0.1:${port}`,
    path: '/socket.io/',
    async stop() {
      await new Promise((resolve) => io.close(() => resolve()));
      for (const s of sockets) s.destroy();
      // quit() lets the adapter's commands still under way finish (disconnect() would reject them).
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

export function startFixture(redisUrl, mode, requestsTimeout = REQUESTS_TIMEOUT) {
  assert.ok(process.env.IGNIS_FIXTURE, 'IGNIS_FIXTURE must name the ignis-fixture binary');
  return spawnChild(process.env.IGNIS_FIXTURE, [
    '--mode', 'socketio', '--port', '0', '--threads', '2', '--ping-interval', '2000',
    '--ping-timeout', '5000', '--redis', redisUrl, '--redis-mode', mode,
    '--redis-requests-timeout', String(requestsTimeout),
  ], { kind: 'fixture' });
}

export function startProgram(redisUrl, mode, requestsTimeout = REQUESTS_TIMEOUT) {
  assert.ok(process.env.IGNIS_PROGRAM, 'IGNIS_PROGRAM must name the ignis-socketio binary');
  return spawnChild(process.env.IGNIS_PROGRAM, [
    '--host', '127.0.0.1', '--port', '0', '--threads', '2', '--auth', 'none', '--api-key', API_KEY,
    '--rooms-allow', '*', '--redis', redisUrl, '--redis-mode', mode, '--redis-requests-timeout', String(requestsTimeout),
  ], { kind: 'program' });
}

/** Number of servers subscribed for namespace "/" (what the adapters' serverCount() asks). */
export async function serverCount(client, mode) {
  const [, n] = mode === 'sharded'
    ? await client.sendCommand(['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#'])
    : await client.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io-request#/#']);
  return Number(n);
}

/**
 * Redis + the three servers, every one subscribed; stopped (clients first) by stop(). Stopping a
 * C++ server asserts that it did not die and exits with status 0; a test that kills one on
 * purpose marks it `stopped`. The C++ servers and Node's classic adapter wait `requestsTimeout`
 * ms for the others' answers (Node's sharded adapter only when the call says so).
 */
export async function startCluster(mode, { requestsTimeout = REQUESTS_TIMEOUT } = {}) {
  const redis = await startRedis();
  const admin = await redisClient(redis.url);
  const node = await startNodeServer(redis.url, mode, requestsTimeout);
  const fixture = await startFixture(redis.url, mode, requestsTimeout);
  const program = await startProgram(redis.url, mode, requestsTimeout);
  await eventually(async () => (await serverCount(admin, mode)) === 3, {
    timeout: 10_000,
    label: 'three servers subscribed',
  });
  return {
    redis,
    admin,
    node,
    fixture,
    program,
    async stop() {
      closeAllClients();
      const errors = [];
      for (const s of [program, fixture, node]) {
        try {
          if (s.stopped) continue;
          await s.stop();
        } catch (e) {
          errors.push(e);
        }
      }
      await admin.quit().catch(() => {});
      await redis.stop();
      if (errors.length) throw errors[0];
    },
  };
}

/**
 * For a describe() block: a cluster started before its tests and stopped after them, with the
 * clients the fault tests watch: `n1` on Node, `f1` and `f2` on the fixture, `p1` on the program
 * (authenticated). The returned object's fields ({c, n1, f1, f2, p1}) are set once before() ran.
 */
export function clusterWithClients(mode, options) {
  const s = {};
  before(async () => {
    s.c = await startCluster(mode, options);
    [s.n1, s.f1, s.f2] = await Promise.all([sioClient(s.c.node), sioClient(s.c.fixture), sioClient(s.c.fixture)]);
    s.p1 = await programClient(s.c.program);
  });
  after(async () => {
    await s.c?.stop();
  });
  return s;
}

/** A socket.io-client to the fixture protocol of `server` (Node or fixture). */
export function sioClient(server) {
  return connectSocket(server.url, { path: server.path ?? '/socket.io/' });
}

/** A socket.io-client to the program, authenticated (--auth none). */
export async function programClient(program) {
  const socket = newSocket(program.url, { path: '/socket.io' });
  await waitFor(socket, 'connect', { failOn: ['connect_error', 'disconnect'] });
  socket.emit('authenticate');
  await socket.log.next('authenticated');
  return socket;
}

/** Emits a fixture command and resolves with its ack. */
export function command(socket, event, ...args) {
  return socket.timeout(8000).emitWithAck(event, ...args);
}
