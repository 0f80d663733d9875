// The cluster points of bench/compare in small: bench servers sharing broadcasts through Redis,
// `ignis-bench cluster` with receivers spread over them. Each run must reach every receiver on
// every server with every broadcast it completed; a Node bench server (bench/node/server.js
// --redis) next to an ignis one proves that the two exchange broadcasts through the same Redis
// channels, either one sending. No performance is asserted.
//   IGNIS_PROGRAM=/path/ignis-socketio IGNIS_BENCH=/path/ignis-bench node --test tests/bench/
// Redis: IGNIS_TEST_REDIS_URL (tests/redis/with-redis.sh) if set, else a private redis-server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnChild } from '../interop/lib/server.mjs';
import { runForResult } from './run-result.mjs';
import { startRedis } from '../interop/lib/redis-server.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const BENCH = process.env.IGNIS_BENCH;
const NODE_SERVER = fileURLToPath(new URL('../../bench/node/server.js', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../node/node_modules', import.meta.url));

/** Runs ignis-bench; resolves with its exit code and the parsed RESULT line. */
const bench = (args) => runForResult(BENCH, args);

// A channel prefix per cluster: the shared Redis of with-redis.sh may serve other tests at once.
let clusters = 0;
function prefix() {
  clusters += 1;
  return `bench-smoke-${process.pid}-${clusters}`;
}

function ignisServer(redisUrl, mode, keyPrefix) {
  return spawnChild(PROGRAM, ['--profile', 'bench', '--host', '127.0.0.1', '--port', '0', '--threads', '1',
    '--redis', redisUrl, '--redis-mode', mode, '--redis-key-prefix', keyPrefix], { kind: 'program' });
}

function nodeServer(redisUrl, mode, keyPrefix) {
  return spawnChild(process.execPath, [NODE_SERVER, '--host', '127.0.0.1', '--port', '0',
    '--redis', redisUrl, '--redis-mode', mode, '--redis-key-prefix', keyPrefix],
  { kind: 'node', env: { NODE_PATH: NODE_MODULES } });
}

/**
 * `ignis-bench cluster` over `servers` (the sender on the first), `perServer` receivers on each;
 * asserts that every receiver on every server got every completed broadcast.
 */
async function clusterRun(servers, perServer) {
  const args = ['cluster', '-n', String(perServer * servers.length), '-w', '2', '-p', '50',
    '--warmup', '0.5', '--duration', '0.5'];
  for (const s of servers) args.push('--url', `http://127.0.0.1:${s.port}/socket.io/`, '--server-pid', String(s.process.pid));
  const { code, result, stderr } = await bench(args);
  const context = `${JSON.stringify(result)}\n${stderr}`;
  assert.equal(code, 0, context);
  assert.equal(result.targets, servers.length);
  assert.equal(result.failed, 0, context);
  assert.deepEqual(result.ready_by_target, servers.map(() => perServer), context);
  assert.equal(result.stalls, 0, context);
  assert.ok(result.completed > 0, `broadcasts completed: ${context}`);
  // Deliveries per server: at least every completed broadcast to each of its receivers (more:
  // broadcasts still in flight at the end).
  result.received_by_target.forEach((got, i) => {
    assert.ok(got >= result.completed * perServer, `server ${i}: ${got} deliveries for ${result.completed} broadcasts × ${perServer} receivers: ${context}`);
  });
  return result;
}

describe('ignis-bench cluster against bench servers on Redis', { skip: !PROGRAM || !BENCH }, () => {
  let redis;
  let redisUrl = process.env.IGNIS_TEST_REDIS_URL;
  before(async () => {
    if (!redisUrl) {
      redis = await startRedis();
      redisUrl = redis.url;
    }
  });
  after(async () => {
    await redis?.stop();
  });

  for (const mode of ['classic', 'sharded']) {
    it(`${mode}: two ignis bench servers, every broadcast reaches the receivers of both`, async () => {
      const keyPrefix = prefix();
      const servers = [await ignisServer(redisUrl, mode, keyPrefix), await ignisServer(redisUrl, mode, keyPrefix)];
      try {
        await clusterRun(servers, 4);
      } finally {
        for (const s of servers) await s.stop();
      }
    });

    it(`${mode}: an ignis and a Node bench server on one Redis deliver each other's broadcasts`, async () => {
      const keyPrefix = prefix();
      const ignis = await ignisServer(redisUrl, mode, keyPrefix);
      const node = await nodeServer(redisUrl, mode, keyPrefix);
      try {
        await clusterRun([ignis, node], 4);  // sent to ignis, passed on to Node
        await clusterRun([node, ignis], 4);  // sent to Node, passed on to ignis
      } finally {
        await ignis.stop();
        await node.stop();
      }
    });
  }
});
