// The Node side of tests/stress/redis_fanout.mjs: one socket.io 4.8 server in its own process, on
// Redis through @socket.io/redis-adapter (classic: createAdapter, sharded: createShardedAdapter)
// or @socket.io/redis-streams-adapter 0.3 (streams: createAdapter(client), its defaults).
//
//   node tests/stress/redis_fanout_node_server.mjs --port 0 --redis URL[,URL...]
//        [--redis-mode classic|sharded|streams] [--redis-cluster]
//
// --redis-cluster: the URLs are seeds of a Redis Cluster, reached with node-redis' createCluster
// (sharded and streams modes only; in classic mode give the URL of one master instead).
// Prints `listening on http://127.0.0.1:PORT` once it listens; exits 0 after SIGTERM or SIGINT.
//
// It answers the one command of the fixture protocol the fan-out measurement uses:
//   emit-to ({event, args}, ack?) -> nsp.emit(event, ...args); ack("sent")
// (every socket of the namespace, as ignis-fixture's emit-to without rooms).
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const { Server } = require('socket.io');
const { createClient, createCluster } = require('redis');
const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
const { createAdapter: createStreamsAdapter } = require('@socket.io/redis-streams-adapter');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
  }, []),
);
const port = Number(args.port ?? 0);
const mode = args['redis-mode'] ?? 'classic';
const urls = String(args.redis ?? 'redis://127.0.0.1:6379').split(',');
const onCluster = Boolean(args['redis-cluster']);
if (!['classic', 'sharded', 'streams'].includes(mode)) throw new Error(`unknown --redis-mode ${mode}`);
if (onCluster && mode === 'classic') throw new Error('classic mode on a Redis Cluster: give --redis the URL of one master');

// node-redis' cluster client subscribes (SUBSCRIBE) on a node drawn at random among masters and
// replicas; servers are counted with PUBSUB NUMSUB summed over the masters, so the streams
// adapter's subscriber (a duplicate of its client) is made to draw the first master.
function subscribeOnAMaster(cluster) {
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...a) => {
    const copy = duplicate(...a);
    const subscribe = copy.subscribe.bind(copy);
    copy.subscribe = (...s) => {
      const random = Math.random;
      Math.random = () => 0;
      try {
        return subscribe(...s);
      } finally {
        Math.random = random;
      }
    };
    return copy;
  };
}

async function connected(client) {
  client.on('error', (e) => console.error(`redis: ${e.message}`));
  await client.connect();
  return client;
}

const pub = await connected(onCluster
  ? createCluster({ rootNodes: urls.map((url) => ({ url })) })
  : createClient({ url: urls[0] }));
if (onCluster && mode === 'streams') subscribeOnAMaster(pub);
const sub = mode === 'streams' ? null : await connected(pub.duplicate());

const adapter = mode === 'streams'
  ? createStreamsAdapter(pub)
  : mode === 'sharded'
    ? createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' })
    : createAdapter(pub, sub);

const httpServer = http.createServer();
const io = new Server(httpServer, { pingInterval: 20_000, pingTimeout: 20_000, adapter });
const nsp = io.of('/');
nsp.on('connection', (socket) => {
  socket.on('emit-to', (cmd = {}, ack) => {
    nsp.emit(cmd.event, ...(cmd.args ?? []));
    if (typeof ack === 'function') ack('sent');
  });
});

await new Promise((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
console.log(`listening on http://127.0.0.1:${httpServer.address().port} (socket.io, redis mode ${mode})`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const late = setTimeout(() => {
    console.error('not closed within 5 s of the signal');
    process.exit(1);
  }, 5000);
  io.disconnectSockets(true);
  await new Promise((resolve) => io.close(() => resolve()));
  // quit() lets the adapter's commands under way finish.
  await Promise.allSettled([pub.quit(), sub?.quit()]);
  clearTimeout(late);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
