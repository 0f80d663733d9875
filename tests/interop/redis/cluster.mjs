// A mixed Socket.IO cluster on one private Redis, or on a Redis Cluster (startCluster's
// `redisCluster`, from lib/redis-cluster.mjs), for tests/interop/redis*/*.test.mjs:
//   node     – the official socket.io 4.8 server with @socket.io/redis-adapter 8.3 (in process),
//              fixture protocol (lib/sio-reference.mjs) plus the server-side-emit commands below;
//              on a Redis Cluster, sharded mode uses node-redis' createCluster, classic mode a
//              client of one master (see nodeRedisClients);
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
import { redisCommand } from '../lib/redis-cluster.mjs';
import { startRedis } from '../lib/redis-server.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { attachFixtureProtocol, SIO_SERVER_OPTIONS } from '../lib/sio-reference.mjs';
import { spawnChild, API_KEY } from '../lib/server.mjs';
import { closeAllClients, connectSocket, newSocket } from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';

const { Server } = requirePeer('socket.io');
const { createClient, createCluster } = requirePeer('redis');
const { createAdapter, createShardedAdapter } = requirePeer('@socket.io/redis-adapter');
const { createAdapter: createStreamsAdapter } = requirePeer('@socket.io/redis-streams-adapter');

/** How long cluster-wide requests (fetchSockets, serverSideEmit) wait, unless a test says. */
export const REQUESTS_TIMEOUT = 3000;

/** A redis@4 client that never throws on connection trouble (it reconnects by itself). */
export async function redisClient(url) {
  const c = createClient({ url, socket: { reconnectStrategy: (n) => Math.min(50 * n, 300) } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/**
 * The Node server's two Redis clients. On a Redis Cluster: node-redis' createCluster in sharded
 * mode (SSUBSCRIBE on each channel's master, SPUBLISH routed, PUBSUB SHARDNUMSUB summed over the
 * masters by the adapter); in classic mode a plain client of the master with the lowest port,
 * which is where the C++ servers subscribe when every master is up: the classic adapter counts
 * servers with PUBSUB NUMSUB on its own node only (node-redis' cluster client would subscribe on
 * a random node, replicas included, and nobody would count it).
 */
/**
 * The streams adapter subscribes on a duplicate of its client, and node-redis 4.7's cluster client
 * subscribes (SUBSCRIBE) on a node drawn at random among masters and replicas; the servers are
 * counted with PUBSUB NUMSUB summed over the masters, so a subscriber on a replica would not be
 * counted (by Node's adapter either). The duplicates' first SUBSCRIBE draws the first master.
 */
function pinSubscriberToAMaster(cluster) {
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...args) => {
    const copy = duplicate(...args);
    const subscribe = copy.subscribe.bind(copy);
    copy.subscribe = (...a) => {
      const random = Math.random;
      Math.random = () => 0;
      try {
        return subscribe(...a);
      } finally {
        Math.random = random;
      }
    };
    return copy;
  };
}

async function nodeRedisClients(redisUrl, mode, redisCluster) {
  if (redisCluster && (mode === 'sharded' || mode === 'streams')) {
    const pub = createCluster({
      rootNodes: redisCluster.seeds.split(',').map((url) => ({ url })),
      defaults: { socket: { reconnectStrategy: (n) => Math.min(50 * n, 300) } },
    });
    pub.on('error', () => {});
    await pub.connect();
    if (mode === 'streams') pinSubscriberToAMaster(pub);
    const sub = pub.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    // The adapter drops the promise of each SUNSUBSCRIBE (its util.SUNSUBSCRIBE returns
    // nothing): one still waiting on a node that died fails, once the client is closed, where
    // nothing catches it. Caught here, so that it is not taken for a failure of the test.
    const sUnsubscribe = sub.sUnsubscribe.bind(sub);
    sub.sUnsubscribe = (...args) => {
      const p = sUnsubscribe(...args);
      p.catch(() => {});
      return p;
    };
    return { pub, sub };
  }
  const url = redisCluster
    ? `redis://127.0.0.1:${Math.min(...(await redisCluster.masters()).map((m) => m.port))}`
    : redisUrl;
  const pub = await redisClient(url);
  const sub = pub.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  return { pub, sub };
}

export async function startNodeServer(redisUrl, mode, requestsTimeout, redisCluster, { recovery = 0 } = {}) {
  const { pub, sub } = await nodeRedisClients(redisUrl, mode, redisCluster);
  // The sharded adapter has no requestsTimeout: its requests wait 5 s unless the call sets one
  // (io.timeout(ms).fetchSockets()). The streams adapter uses one client (XREADs on an isolated
  // connection of its pool) and its defaults (stream "socket.io", maxLen 10000).
  const adapter = mode === 'streams'
    ? createStreamsAdapter(pub)
    : mode === 'sharded'
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
    ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: recovery, skipMiddlewares: true } } : {}),
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
    /** Set by a test after which node-redis cannot reach Redis again (a failover it does not follow). */
    redisLost: false,
    async stop() {
      if (this.redisLost) {
        // io.close() would close the adapters, whose unsubscribing would wait for ever on a
        // client that cannot reach its node (or, once the client is closed, fail where nothing
        // catches it): the connections and the clients are closed without it.
        io.engine.close();
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => httpServer.close(() => resolve()));
        await Promise.allSettled([pub.disconnect(), sub.disconnect()]);
        return;
      }
      await new Promise((resolve) => io.close(() => resolve()));
      for (const s of sockets) s.destroy();
      // quit() lets the adapter's commands still under way finish (disconnect() would reject them).
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

export function startFixture(redisUrl, mode, requestsTimeout = REQUESTS_TIMEOUT, extra = []) {
  // Several URLs (a Redis Cluster's seeds) are found to be a cluster by the default
  // --redis-cluster auto, as one URL of a single server is found to be one.
  assert.ok(process.env.IGNIS_FIXTURE, 'IGNIS_FIXTURE must name the ignis-fixture binary');
  return spawnChild(process.env.IGNIS_FIXTURE, [
    '--mode', 'socketio', '--port', '0', '--threads', '2', '--ping-interval', '2000',
    '--ping-timeout', '5000', '--redis', redisUrl, '--redis-mode', mode,
    '--redis-requests-timeout', String(requestsTimeout), ...extra,
  ], { kind: 'fixture' });
}

export function startProgram(redisUrl, mode, requestsTimeout = REQUESTS_TIMEOUT, extra = []) {
  assert.ok(process.env.IGNIS_PROGRAM, 'IGNIS_PROGRAM must name the ignis-socketio binary');
  return spawnChild(process.env.IGNIS_PROGRAM, [
    '--host', '127.0.0.1', '--port', '0', '--threads', '2', '--auth', 'none', '--api-key', API_KEY,
    '--rooms-allow', '*', '--redis', redisUrl, '--redis-mode', mode, '--redis-requests-timeout', String(requestsTimeout),
    ...extra,
  ], { kind: 'program' });
}

// The streams adapter (0.3) counts the subscribers of the namespace's channel, as the classic
// adapter counts those of its request channel.
const countCommand = (mode) => {
  if (mode === 'sharded') return ['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#'];
  if (mode === 'streams') return ['PUBSUB', 'NUMSUB', 'socket.io#/#'];
  return ['PUBSUB', 'NUMSUB', 'socket.io-request#/#'];
};

/** Number of servers subscribed for namespace "/" (what the adapters' serverCount() asks). */
export async function serverCount(client, mode) {
  const [, n] = await client.sendCommand(countCommand(mode));
  return Number(n);
}

/** The same on a Redis Cluster: each master counts its own subscribers; summed, as the adapters do. */
export async function clusterServerCount(redisCluster, mode) {
  let total = 0;
  for (const m of await redisCluster.masters()) {
    const [, n] = await redisCommand(m.port, countCommand(mode));
    total += Number(n);
  }
  return total;
}

/**
 * Redis + the three servers, every one subscribed; stopped (clients first) by stop(). Stopping a
 * C++ server asserts that it did not die and exits with status 0; a test that kills one on
 * purpose marks it `stopped`. The C++ servers and Node's classic adapter wait `requestsTimeout`
 * ms for the others' answers (Node's sharded adapter only when the call says so). With
 * `redisCluster` (started by the caller, who also stops it) the servers use that Redis Cluster
 * instead of a private Redis; `redis` and `admin` are then the cluster and null.
 */
export async function startCluster(mode, { requestsTimeout = REQUESTS_TIMEOUT, redisCluster: given, recovery = 0 } = {}) {
  // A function when the cluster is started by a hook that runs after this call was declared.
  const redisCluster = typeof given === 'function' ? given() : given;
  const redis = redisCluster ?? await startRedis();
  const redisUrl = redisCluster ? redisCluster.seeds : redis.url;
  const admin = redisCluster ? null : await redisClient(redis.url);
  const extra = recovery ? ['--connection-state-recovery', String(recovery)] : [];
  const node = await startNodeServer(redisUrl, mode, requestsTimeout, redisCluster, { recovery });
  const count = () => (redisCluster ? clusterServerCount(redisCluster, mode) : serverCount(admin, mode));
  const fixture = await startFixture(redisUrl, mode, requestsTimeout, extra);
  const program = await startProgram(redisUrl, mode, requestsTimeout, extra);
  await eventually(async () => (await count()) === 3, {
    timeout: 10_000,
    label: 'three servers subscribed',
  });
  return {
    redis,
    admin,
    node,
    fixture,
    program,
    /** Servers subscribed for namespace "/", as the adapters count them. */
    serverCount: count,
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
      if (!redisCluster) {
        await admin.quit().catch(() => {});
        await redis.stop();
      }
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
