// Cross-instance delivery rate: two ignis-fixture instances on one private Redis, or with
// --redis-cluster on a private Redis Cluster of six nodes (three masters, three replicas, given
// to the fixtures as seeds); a client on A makes A broadcast N events (one publish each), C raw
// WebSocket clients on B count them. Prints the deliveries per second at B (first command sent ->
// last delivery counted).
//
//   node tests/stress/redis_fanout.mjs --fixture build/release/app/ignis-fixture
//        [--clients 200] [--broadcasts 2000] [--mode classic|sharded] [--threads 1]
//        [--redis-cluster]
import { createRequire } from 'node:module';
import { spawnChild } from '../interop/lib/server.mjs';
import { redisCommand, startRedisCluster } from '../interop/lib/redis-cluster.mjs';
import { startRedis } from '../interop/lib/redis-server.mjs';
import { eventually } from '../interop/lib/util.mjs';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
  }, []),
);
const fixture = args.fixture ?? 'build/release/app/ignis-fixture';
const clients = Number(args.clients ?? 200);
const broadcasts = Number(args.broadcasts ?? 2000);
const mode = args.mode ?? 'classic';
const threads = String(args.threads ?? 1);
const onCluster = Boolean(args['redis-cluster']);

// A Socket.IO client on raw ws: Engine.IO open, namespace connect, pongs; counts "fan" events.
function rawClient(port, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.on('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0{')) ws.send('40');
      else if (text === '2') ws.send('3');
      else if (text.startsWith('40{')) resolve(ws);
      else if (text.startsWith('42')) onEvent(text);
    });
  });
}

const redis = onCluster ? await startRedisCluster() : await startRedis();
const common = ['--mode', 'socketio', '--port', '0', '--threads', threads, '--ping-interval', '20000',
  '--ping-timeout', '20000', '--redis', onCluster ? redis.seeds : redis.url, '--redis-mode', mode];
const a = await spawnChild(fixture, common, { kind: 'fixture' });
const b = await spawnChild(fixture, common, { kind: 'fixture' });
try {
  let received = 0;
  const total = clients * broadcasts;
  let finish;
  const allIn = new Promise((resolve) => {
    finish = resolve;
  });
  const countFan = (text) => {
    if (text.startsWith('42["fan"') && ++received === total) finish();
  };
  const receivers = [];
  for (let i = 0; i < clients; i++) receivers.push(await rawClient(b.port, countFan));
  const sender = await rawClient(a.port, () => {});
  // Both servers subscribed (what the adapters' serverCount() asks Redis; on a cluster, summed
  // over the masters).
  const count = mode === 'sharded' ? ['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#'] : ['PUBSUB', 'NUMSUB', 'socket.io-request#/#'];
  const servers = async () => {
    let n = 0;
    for (const m of onCluster ? await redis.masters() : [{ port: redis.port }]) n += Number((await redisCommand(m.port, count))[1]);
    return n;
  };
  await eventually(async () => (await servers()) === 2, { timeout: 10_000, label: 'both servers subscribed' });

  const payload = 'x'.repeat(64);
  const start = process.hrtime.bigint();
  for (let i = 0; i < broadcasts; i++) {
    sender.send(`42["emit-to",{"event":"fan","args":[${i},"${payload}"]}]`);
  }
  const timeout = setTimeout(() => finish(), 120_000);
  await allIn;
  clearTimeout(timeout);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${onCluster ? 'Redis Cluster' : 'one Redis'}, mode ${mode}: ${received}/${total} deliveries in ${ms.toFixed(0)} ms: ` +
    `${Math.round(received / (ms / 1000))} deliveries/s (${Math.round(broadcasts / (ms / 1000))} broadcasts/s)`);
  for (const ws of [...receivers, sender]) ws.terminate();
} finally {
  await a.stop();
  await b.stop();
  await redis.stop();
}
