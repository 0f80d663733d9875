// The mixed cluster (Node socket.io 4.8 with @socket.io/redis-adapter 8.3, ignis-fixture and
// ignis-socketio) on a real Redis Cluster: six redis-server processes, three masters and three
// replicas (lib/redis-cluster.mjs, cluster-node-timeout 1 s), started once for this file. The
// C++ servers get the seeds as `--redis URL,URL,URL` and find the cluster by themselves.
//
//   1. the whole mixed-cluster suite in sharded mode (Node on node-redis' createCluster), with the
//      servers' shard channels spread over all three masters;
//   2. faults, in this order, on one set of servers:
//      - the whole cluster is stopped and started again: everything reconnects by itself;
//      - with broadcast streams running, the slots of the channel every broadcast goes through
//        are resharded to another master (redis-cli --cluster reshard): delivery goes on,
//        nothing twice;
//      - the master of that channel is killed (kill -9): its replica is promoted and delivery
//        between the C++ servers resumes within 5 s of the promotion, nothing twice, no server
//        dies.
//      node-redis 4.7's cluster client follows MOVED for what it sends, but its sharded
//      subscriber survives none of these: after a node restarts it subscribes again with one
//      SSUBSCRIBE for channels of several slots (refused: CROSSSLOT), it does not subscribe
//      again when a slot migration takes a channel away, and it keeps reconnecting to a dead
//      master. So Node only sends from the restart on; its clients are not asked to receive.
//   3. the mixed-cluster suite in classic mode (PUBLISH/PSUBSCRIBE; Redis Cluster propagates
//      PUBLISH to every node), then in streams mode, and the emitters: ignis-emit given the
//      seeds, Node's @socket.io/redis-emitter on a node-redis cluster client.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requirePeer } from '../lib/peers.mjs';
import { redisCommand, startRedisCluster } from '../lib/redis-cluster.mjs';
import { eventually, sleep } from '../lib/util.mjs';
import { clusterSuite } from '../redis/cluster-suite.mjs';
import { clusterWithClients, command, programClient } from '../redis/cluster.mjs';
import { healthRedis, RESUME_LIMIT_MS, resumeTime } from '../redis/probes.mjs';

const keySlot = requirePeer('cluster-key-slot');
const { createCluster } = requirePeer('redis');
const { Emitter } = requirePeer('@socket.io/redis-emitter');
const run = promisify(execFile);

const MAIN_CHANNEL = 'socket.io#/#';  // the sharded adapter's channel of namespace "/"
const STREAM_EVERY_MS = 25;

let rc;
before(async () => {
  rc = await startRedisCluster({ nodeTimeout: 1000 });
});
after(async () => {
  await rc?.stop();
});

clusterSuite('sharded', { redisCluster: () => rc });

/** The program's /health "redis_cluster" object. */
async function healthCluster(program) {
  const res = await fetch(`${program.url}/health`, { signal: AbortSignal.timeout(3000) });
  return (await res.json()).redis_cluster;
}

/**
 * A numbered event sent every STREAM_EVERY_MS with `send(n)` (errors are counted, not thrown: a
 * send may fail while Redis moves), and each receiver's arrivals with their time.
 */
function stream(name, send, receivers) {
  const sentAt = new Map();
  const arrivals = new Map(receivers.map((r) => [r, []]));
  for (const r of receivers) r.on(name, (n) => arrivals.get(r).push({ n, t: Date.now() }));
  let running = true;
  let failures = 0;
  const loop = (async () => {
    for (let n = 1; running; n++) {
      sentAt.set(n, Date.now());
      await send(n).catch(() => {
        failures++;
      });
      await sleep(STREAM_EVERY_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
    get failures() {
      return failures;
    },
    /** Per receiver: what it got, in order, nothing twice; and the figures of a fault. */
    report(receiver, faultAt, backAt) {
      const got = arrivals.get(receiver);
      const ns = got.map((a) => a.n);
      const dup = ns.filter((n, i) => ns.indexOf(n) !== i);
      assert.deepEqual(dup, [], `${name}: delivered twice: ${dup.join(',')}`);
      for (let i = 1; i < ns.length; i++) assert.ok(ns[i] > ns[i - 1], `${name}: out of order at ${ns[i]}`);
      let gap = 0;
      for (let i = 1; i < got.length; i++) gap = Math.max(gap, got[i].t - got[i - 1].t);
      // The first arrival of an event sent after the fault began.
      const first = got.find((a) => sentAt.get(a.n) >= faultAt);
      return {
        received: got.length,
        sent: sentAt.size,
        lost: sentAt.size - got.length,
        maxGapMs: gap,
        resumedAfterFaultMs: first ? first.t - faultAt : null,
        resumedAfterBackMs: first && backAt ? first.t - backAt : null,
        last: ns[ns.length - 1],
      };
    },
  };
}

// Streams mode (@socket.io/redis-streams-adapter 0.3 on node-redis' createCluster): the stream
// key in one slot, requests by PUBLISH (propagated to every node), servers counted with NUMSUB
// summed over the masters. First, on the cluster as created: after the faults below, the servers
// were once counted twice over (NUMSUB summed to 6 for 3 servers) in a loaded full run.
clusterSuite('streams', { redisCluster: () => rc });

describe('sharded adapter on a Redis Cluster: channels spread, reshard, restart, failover', () => {
  const cluster = clusterWithClients('sharded', { redisCluster: () => rc });

  it('spreads the servers\' shard channels over all three masters', async (t) => {
    const { c, n1, f1, p1 } = cluster;
    const masters = await rc.masters();
    assert.equal(masters.length, 3);
    // One room per master, joined by a client of each server: its channel lives on that master.
    const rooms = masters.map((m) => {
      for (let i = 0; ; i++) {
        const room = `spread-${i}`;
        const slot = keySlot(`${MAIN_CHANNEL}${room}#`);
        if (m.slots.some(([lo, hi]) => lo <= slot && slot <= hi)) return room;
      }
    });
    for (const room of rooms) {
      for (const s of [n1, f1]) assert.equal(await command(s, 'join', room), 'joined');
      assert.deepEqual(await command(p1, 'join', { rooms: [room] }), { rooms: [room], refused: [] });
    }
    const byMaster = {};
    await eventually(async () => {
      for (const m of masters) {
        byMaster[m.port] = (await redisCommand(m.port, ['PUBSUB', 'SHARDCHANNELS', 'socket.io#*'])).sort();
      }
      return rooms.every((room, i) => byMaster[masters[i].port].includes(`${MAIN_CHANNEL}${room}#`));
    }, { label: 'room channels on their masters' });
    t.diagnostic(`shard channels per master: ${masters.map((m) => `${m.port}: ${byMaster[m.port].length}`).join(', ')}`);
    for (const m of masters) assert.ok(byMaster[m.port].length >= 1, `master ${m.port} has none of our channels`);
    for (const [i, room] of rooms.entries()) {
      const [, n] = await redisCommand(masters[i].port, ['PUBSUB', 'SHARDNUMSUB', `${MAIN_CHANNEL}${room}#`]);
      assert.equal(n, 3, `${room}: every server subscribed on ${masters[i].port}`);
    }
    // A room broadcast from each server reaches the room's members on the two others, through
    // each of the three masters.
    for (const room of rooms) {
      await command(n1, 'emit-to', { event: `to-${room}`, rooms: [room], args: ['n'] });
      await command(f1, 'emit-to', { event: `to-${room}`, rooms: [room], args: ['f'] });
      await c.program.api.send({ destination: room, topic: `to-${room}`, data: 'p' });
      for (const s of [n1, f1, p1]) await s.log.waitCount(`to-${room}`, 3);
    }
    const nodes = (await healthCluster(c.program)).nodes;
    assert.deepEqual(nodes.map((n) => n.node).sort(), masters.map((m) => `127.0.0.1:${m.port}`).sort());
    for (const n of nodes) assert.equal(n.state, 'connected');
    const metrics = await (await fetch(`${c.program.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    for (const m of masters) {
      assert.match(metrics, new RegExp(`^ignis_redis_node_up\\{node="127.0.0.1:${m.port}"\\} 1$`, 'm'));
      const slots = m.slots.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
      assert.match(metrics, new RegExp(`^ignis_redis_node_slots\\{node="127.0.0.1:${m.port}"\\} ${slots}$`, 'm'));
    }
    assert.match(metrics, /^ignis_redis_topology_refreshes_total\{result="ok"\} [1-9]/m);
    assert.match(metrics, /^ignis_redis_topology_age_seconds \d/m);
  });

  it('reconnects by itself after the whole cluster is stopped and started again', async (t) => {
    const { c, n1, f1, f2, p1 } = cluster;
    // Node sends, but is left out as a receiver from here on (see the top of this file): its
    // sharded subscriber resubscribes with one SSUBSCRIBE for all the channels of a node, which
    // a cluster refuses (CROSSSLOT) when they lie in several slots (alone, without any ignis
    // process: 0 messages after a restart for two channels of one master, SHARDNUMSUB 0).
    c.node.redisLost = true;
    await rc.stopAll();
    const downAt = Date.now();
    await eventually(async () => (await healthRedis(c.program)) === 'degraded', { label: '/health degraded' });
    const degradedAfter = Date.now() - downAt;
    await rc.startAll();
    const startedAt = Date.now();
    await rc.waitHealthy();
    const healthyAfter = Date.now() - startedAt;
    const resumed = await Promise.all([
      resumeTime((n) => command(n1, 'emit-to', { event: 'rst-nf', args: [n] }), f1, 'rst-nf', startedAt),
      resumeTime((n) => command(n1, 'emit-to', { event: 'rst-np', args: [n] }), p1, 'rst-np', startedAt),
      resumeTime((n) => command(f1, 'emit-to', { event: 'rst-fp', args: [n] }), p1, 'rst-fp', startedAt),
      resumeTime((n) => c.program.api.send({ topic: 'rst-pf', data: n }), f2, 'rst-pf', startedAt),
    ]);
    await eventually(async () => (await healthRedis(c.program)) === 'connected', { timeout: 10_000, label: '/health connected' });
    const connectedAfter = Date.now() - startedAt;
    t.diagnostic(`whole cluster restart: /health degraded ${degradedAfter} ms after the stop; after the start: ` +
      `cluster healthy ${healthyAfter} ms, /health connected ${connectedAfter} ms; delivery resumed ` +
      `node->fixture ${resumed[0]}, node->program ${resumed[1]}, fixture->program ${resumed[2]}, ` +
      `program->fixture ${resumed[3]} ms`);
    assert.ok(c.fixture.process.exitCode === null && c.program.process.exitCode === null);
  });

  it('keeps delivering while the slots of the channel in use are resharded to another master', async (t) => {
    const { c, n1, f1, f2, p1 } = cluster;
    const slot = keySlot(MAIN_CHANNEL);
    const from = await rc.masterOf(slot);
    const to = (await rc.masters()).find((m) => m.id !== from.id);
    const fromShard = (await rc.shards()).find((s) => s.master.id === from.id);
    const lowest = Math.min(...fromShard.slots.map(([lo]) => lo));
    assert.ok(fromShard.slots.some(([lo, hi]) => lo === lowest && slot <= hi), 'the slot lies in the lowest range');
    // redis-cli moves the source's lowest slots first: as many as it takes to reach ours.
    const count = slot - lowest + 1;

    // Node publishes (node-redis follows MOVED) but is left out as a receiver: node-redis 4.7's
    // cluster client does not subscribe again when the server takes a shard channel away at the
    // end of a slot migration (alone, without any ignis process, it got 0 of 30 messages sent
    // after such a reshard, and no master counted its subscription any more).
    const fromFixture = stream('rs-f', (n) => command(f1, 'emit-to', { event: 'rs-f', args: [n] }), [f2, p1]);
    const fromNode = stream('rs-n', (n) => command(n1, 'emit-to', { event: 'rs-n', args: [n] }), [f2, p1]);
    const fromProgram = stream('rs-p', (n) => c.program.api.send({ topic: 'rs-p', data: n }), [f1, f2]);
    await p1.log.waitCount('rs-f', 5, { timeout: 5000 });
    const began = Date.now();
    await rc.reshard(from.id, to.id, count);
    const ended = Date.now();
    assert.equal((await rc.masterOf(slot)).id, to.id, 'the slot moved');
    // Every node, replicas included, knows where the slots went before the next test kills their
    // new master (a replica promoted before it heard of the last slot moved claims the slots
    // without it, and Redis leaves that slot unserved).
    await rc.waitHealthy();
    // Delivery goes on: every receiver gets what is sent after the reshard ended.
    const streams = [['fixture', fromFixture, [f2, p1]], ['node', fromNode, [f2, p1]], ['program', fromProgram, [f1, f2]]];
    const waiting = () => streams.flatMap(([label, s, rs]) => rs
      .filter((r) => s.report(r, ended).resumedAfterFaultMs === null).map((r) => `${label}->${r.id}`));
    try {
      await eventually(() => waiting().length === 0, { timeout: RESUME_LIMIT_MS, label: 'deliveries after the reshard' });
    } finally {
      await Promise.all(streams.map(([, s]) => s.stop()));
      t.diagnostic(`resharded ${count} slots ${from.port} -> ${to.port} in ${ended - began} ms; still waiting: ${waiting().join(' ') || 'none'}`);
      for (const [label, s, rs] of streams) {
        for (const r of rs) t.diagnostic(`from ${label} to ${r.id}: ${JSON.stringify(s.report(r, began))}`);
      }
      t.diagnostic(`program log: ${c.program.stderr().split('\n').filter((l) => /redis/i.test(l)).slice(-15).join(' | ')}`);
      t.diagnostic(`fixture log: ${c.fixture.stderr().split('\n').filter((l) => /redis/i.test(l)).slice(-15).join(' | ')}`);
    }
    assert.ok(c.fixture.process.exitCode === null && c.program.process.exitCode === null);
    const moved = (await healthCluster(c.program)).nodes.reduce((n, x) => n + x.moved, 0);
    t.diagnostic(`MOVED answers the program followed: ${moved}`);
  });

  it('follows a failover: kill -9 of the channel\'s master, its replica promoted, delivery resumes', async (t) => {
    const { c, f1, f2, p1 } = cluster;
    const slot = keySlot(MAIN_CHANNEL);
    const victim = await rc.masterOf(slot);
    const p2 = await programClient(c.program);
    const fromFixture = stream('fo-f', (n) => command(f1, 'emit-to', { event: 'fo-f', args: [n] }), [p1, p2]);
    const fromProgram = stream('fo-p', (n) => c.program.api.send({ topic: 'fo-p', data: n }), [f1, f2]);
    await p1.log.waitCount('fo-f', 5, { timeout: 5000 });
    await f2.log.waitCount('fo-p', 5, { timeout: 5000 });

    await rc.kill(victim.port);
    const killedAt = Date.now();
    const alive = rc.ports.find((p) => p !== victim.port);
    const promoted = await eventually(async () => {
      const m = await rc.masterOf(slot, alive);
      return m && m.id !== victim.id && m.health === 'online' ? m : null;
    }, { timeout: 20_000, interval: 20, label: 'replica promoted' });
    const promotedAt = Date.now();
    const degraded = await healthRedis(c.program);
    await eventually(() => [[fromFixture, [p1, p2]], [fromProgram, [f1, f2]]]
      .every(([s, rs]) => rs.every((r) => s.report(r, promotedAt).resumedAfterFaultMs !== null)),
    { timeout: RESUME_LIMIT_MS, label: 'delivery within 5 s of the promotion' });
    // A little more of the stream, so that a late duplicate would show.
    await p1.log.waitCount('fo-f', p1.log.count('fo-f') + 10, { timeout: 5000 });
    await Promise.all([fromFixture.stop(), fromProgram.stop()]);
    t.diagnostic(`killed ${victim.port}; ${promoted.port} promoted ${promotedAt - killedAt} ms later; /health said ${degraded} then`);
    for (const [label, s, rs] of [['fixture', fromFixture, [p1, p2]], ['program', fromProgram, [f1, f2]]]) {
      for (const r of rs) {
        const rep = s.report(r, killedAt, promotedAt);
        t.diagnostic(`from ${label}: ${JSON.stringify(rep)}`);
        assert.ok(rep.resumedAfterBackMs <= RESUME_LIMIT_MS, `from ${label}: resumed ${rep.resumedAfterBackMs} ms after the promotion`);
      }
    }
    await eventually(async () => (await healthRedis(c.program)) === 'connected', { timeout: 10_000, label: '/health connected' });
    const nodes = (await healthCluster(c.program)).nodes.map((n) => n.node);
    assert.ok(nodes.includes(`127.0.0.1:${promoted.port}`) && !nodes.includes(`127.0.0.1:${victim.port}`), nodes.join(' '));
    assert.ok(c.fixture.process.exitCode === null && c.program.process.exitCode === null, 'a C++ server died');
    // The old master comes back as a replica, for what follows.
    await rc.startNode(victim.port);
    await rc.waitHealthy();
    if (rc.repairs.length) t.diagnostic(`slots Redis left unowned in a node's own map, given back: ${JSON.stringify(rc.repairs)}`);
    p2.disconnect();
  });
});

clusterSuite('classic', { redisCluster: () => rc });

describe('emitters on a Redis Cluster (classic adapter)', () => {
  const cluster = clusterWithClients('classic', { redisCluster: () => rc });
  const ignisEmit = (...args) => {
    assert.ok(process.env.IGNIS_EMIT, 'IGNIS_EMIT must name the ignis-emit binary');
    return run(process.env.IGNIS_EMIT, ['--redis', rc.seeds, ...args], { timeout: 15_000 });
  };

  it('ignis-emit given the seeds, and Node\'s emitter on a node-redis cluster client, reach every server', async () => {
    const { n1, f1, f2, p1 } = cluster;
    assert.equal(await command(f2, 'join', 'room-e'), 'joined');
    await ignisEmit('--event', 'cpp-emitter', '--args', '["hi",{"n":1}]');
    for (const s of [n1, f1, f2, p1]) {
      assert.deepEqual(await s.log.next('cpp-emitter', { timeout: 5000 }), ['hi', { n: 1 }]);
    }
    await ignisEmit('--to', 'room-e', '--event', 'cpp-room');
    await f2.log.next('cpp-room', { timeout: 5000 });
    await ignisEmit('--to', n1.id, '--sockets-join', 'joined-by-cpp');
    await eventually(async () => (await command(n1, 'rooms')).includes('joined-by-cpp'));

    const client = createCluster({ rootNodes: rc.seeds.split(',').map((url) => ({ url })) });
    client.on('error', () => {});
    await client.connect();
    try {
      const emitter = new Emitter(client);
      emitter.emit('node-emitter', 'hi');
      for (const s of [n1, f1, f2, p1]) assert.deepEqual(await s.log.next('node-emitter', { timeout: 5000 }), ['hi']);
      emitter.to('room-e').emit('node-emitter-room', 1);
      await f2.log.next('node-emitter-room', { timeout: 5000 });
    } finally {
      await client.quit().catch(() => {});
    }
  });
});
