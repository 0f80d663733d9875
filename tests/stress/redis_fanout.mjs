// Cross-instance delivery rate: two servers on one private Redis, or with --redis-cluster on a
// private Redis Cluster of six nodes (three masters, three replicas, given to the servers as
// seeds); a client on A makes A broadcast N events, C raw WebSocket clients on B count them.
// Prints the deliveries per second at B (first command sent -> last delivery counted).
//
//   node tests/stress/redis_fanout.mjs [--server fixture|node]
//        [--fixture build/release/app/ignis-fixture] [--threads 1]
//        [--clients 200] [--broadcasts 2000] [--mode classic|sharded|streams]
//        [--redis-cluster] [--server-cpu] [--timeout 120]
//
// --server fixture (default): two ignis-fixture processes with --redis-mode MODE (streams: one
//   Redis stream, and A delivers its own broadcasts after reading them back from it).
// --server node: two socket.io 4.8 servers, each in its own process
//   (tests/stress/redis_fanout_node_server.mjs): @socket.io/redis-adapter's createAdapter
//   (classic) or createShardedAdapter (sharded), @socket.io/redis-streams-adapter (streams). On
//   a Redis Cluster, classic mode connects them to the master with the lowest port.
// --server-cpu: also deliveries per CPU-second of both server processes (user + sys from
//   /proc/PID/stat, first command sent -> last delivery counted), and the same with the CPU of
//   the redis-server processes added (every node of a Redis Cluster, replicas included). The
//   kernel counts CPU time in clock ticks (10 ms): give it runs of seconds, not milliseconds.
// --timeout S: the run fails (exit 1) unless every delivery has arrived S seconds after the first
//   command.
//
// A broadcast is the fixture protocol's emit-to ({event: "fan", args}) sent by a client of A;
// before the clock starts, A broadcasts "warm" until every client of B has had one (so that B's
// subscription, or its stream reader, is known to be running). The last line is JSON with every
// figure.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
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
const serverKind = args.server ?? 'fixture';
const fixture = args.fixture ?? 'build/release/app/ignis-fixture';
const clients = Number(args.clients ?? 200);
const broadcasts = Number(args.broadcasts ?? 2000);
const mode = args.mode ?? 'classic';
const threads = String(args.threads ?? 1);
const onCluster = Boolean(args['redis-cluster']);
const measureCpu = Boolean(args['server-cpu']);
const timeoutMs = Number(args.timeout ?? 120) * 1000;
if (!['fixture', 'node'].includes(serverKind)) throw new Error(`--server fixture|node, not ${serverKind}`);
if (!['classic', 'sharded', 'streams'].includes(mode)) throw new Error(`--mode classic|sharded|streams, not ${mode}`);

// A Socket.IO client on raw ws: Engine.IO open, namespace connect, pongs; hands events on.
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

// CPU time (user + sys, seconds) a process has used so far, from /proc/PID/stat.
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // fields 14 and 15: utime, stime
}
const sumCpu = (pids) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function startServers(redis) {
  if (serverKind === 'fixture') {
    const common = ['--mode', 'socketio', '--port', '0', '--threads', threads, '--ping-interval', '20000',
      '--ping-timeout', '20000', '--redis', onCluster ? redis.seeds : redis.url, '--redis-mode', mode];
    return [await spawnChild(fixture, common, { kind: 'fixture' }), await spawnChild(fixture, common, { kind: 'fixture' })];
  }
  const script = fileURLToPath(new URL('./redis_fanout_node_server.mjs', import.meta.url));
  let where = ['--redis', redis.url];
  if (onCluster && mode === 'classic') {
    where = ['--redis', `redis://127.0.0.1:${Math.min(...(await redis.masters()).map((m) => m.port))}`];
  } else if (onCluster) {
    where = ['--redis', redis.seeds, '--redis-cluster'];
  }
  const flags = [script, '--port', '0', '--redis-mode', mode, ...where];
  return [await spawnChild(process.execPath, flags, { kind: 'node' }), await spawnChild(process.execPath, flags, { kind: 'node' })];
}

const redis = onCluster ? await startRedisCluster() : await startRedis();
const redisPids = onCluster ? redis.nodes.map((n) => n.child.pid) : [redis.pid];
const servers = [];
let failed = false;
try {
  servers.push(...(await startServers(redis)));
  const [a, b] = servers;
  const serverPids = servers.map((s) => s.process.pid);

  let received = 0;
  const total = clients * broadcasts;
  let finish;
  const allIn = new Promise((resolve) => {
    finish = resolve;
  });
  const warmed = new Set();
  const receivers = [];
  for (let i = 0; i < clients; i++) {
    receivers.push(await rawClient(b.port, (text) => {
      if (text.startsWith('42["fan"')) {
        if (++received === total) finish();
      } else if (text.startsWith('42["warm"')) warmed.add(i);
    }));
  }
  const sender = await rawClient(a.port, () => {});
  // Both servers subscribed (what the adapters' serverCount() asks Redis; on a cluster, summed
  // over the masters). The streams adapter counts the subscribers of the namespace's channel.
  const count = mode === 'sharded' ? ['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#']
    : mode === 'streams' ? ['PUBSUB', 'NUMSUB', 'socket.io#/#'] : ['PUBSUB', 'NUMSUB', 'socket.io-request#/#'];
  const subscribed = async () => {
    let n = 0;
    for (const m of onCluster ? await redis.masters() : [{ port: redis.port }]) n += Number((await redisCommand(m.port, count))[1]);
    return n;
  };
  await eventually(async () => (await subscribed()) === 2, { timeout: 10_000, label: 'both servers subscribed' });
  await eventually(() => {
    if (warmed.size < clients) sender.send('42["emit-to",{"event":"warm","args":[]}]');
    return warmed.size === clients;
  }, { timeout: 10_000, interval: 200, label: 'every client of B had a first broadcast' });

  const payload = 'x'.repeat(64);
  const cpuAtStart = measureCpu ? { servers: sumCpu(serverPids), redis: sumCpu(redisPids) } : null;
  const start = process.hrtime.bigint();
  for (let i = 0; i < broadcasts; i++) {
    sender.send(`42["emit-to",{"event":"fan","args":[${i},"${payload}"]}]`);
  }
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const outcome = await Promise.race([allIn, late]);
  clearTimeout(timer);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpuAtEnd = measureCpu ? { servers: sumCpu(serverPids), redis: sumCpu(redisPids) } : null;
  const where = onCluster ? 'Redis Cluster' : 'one Redis';
  if (outcome === 'late') {
    throw new Error(`${serverKind} servers, ${where}, mode ${mode}: only ${received} of ${total} deliveries ` +
      `within ${timeoutMs / 1000} s`);
  }
  const result = {
    server: serverKind,
    mode,
    redis: onCluster ? 'cluster' : 'single',
    ...(serverKind === 'fixture' ? { threads: Number(threads) } : {}),
    clients,
    broadcasts,
    deliveries: received,
    ms: Math.round(ms),
    deliveriesPerSecond: Math.round(received / (ms / 1000)),
    broadcastsPerSecond: Math.round(broadcasts / (ms / 1000)),
  };
  let cpuText = '';
  if (measureCpu) {
    const serverCpu = cpuAtEnd.servers - cpuAtStart.servers;
    const redisCpu = cpuAtEnd.redis - cpuAtStart.redis;
    Object.assign(result, {
      serverCpuSeconds: Number(serverCpu.toFixed(2)),
      redisCpuSeconds: Number(redisCpu.toFixed(2)),
      deliveriesPerServerCpuSecond: serverCpu > 0 ? Math.round(received / serverCpu) : null,
      deliveriesPerServerAndRedisCpuSecond: serverCpu + redisCpu > 0 ? Math.round(received / (serverCpu + redisCpu)) : null,
    });
    cpuText = `; servers ${serverCpu.toFixed(2)} CPU-s (${result.deliveriesPerServerCpuSecond} deliveries per CPU-s), ` +
      `with Redis ${(serverCpu + redisCpu).toFixed(2)} CPU-s (${result.deliveriesPerServerAndRedisCpuSecond} per CPU-s)`;
  }
  console.log(`${serverKind} servers, ${where}, mode ${mode}: ${received}/${total} deliveries in ${ms.toFixed(0)} ms: ` +
    `${result.deliveriesPerSecond} deliveries/s (${result.broadcastsPerSecond} broadcasts/s)${cpuText}`);
  console.log(JSON.stringify(result));
  for (const ws of [...receivers, sender]) ws.terminate();
} catch (e) {
  failed = true;
  console.error(e.message);
} finally {
  for (const s of servers) {
    await s.stop().catch((e) => {
      failed = true;
      console.error(e.message);
    });
  }
  await redis.stop();
}
process.exit(failed ? 1 : 0);
