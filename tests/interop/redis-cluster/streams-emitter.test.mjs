// ignis-emit --redis-mode streams given the seeds of a Redis Cluster (six redis-server processes,
// lib/redis-cluster.mjs): its XADD goes to the master of the stream key's slot, where
// ignis-fixture and ignis-socketio in streams mode read it. The stream name is chosen so that its
// slot is not served by the first seed: an XADD sent to the wrong node would be refused (MOVED)
// unless it is routed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { redisCommand, startRedisCluster } from '../lib/redis-cluster.mjs';
import { closeAllClients } from '../lib/sio-client.mjs';
import { eventually } from '../lib/util.mjs';
import { command, programClient, sioClient, startFixture, startProgram } from '../redis/cluster.mjs';

const run = promisify(execFile);

describe('ignis-emit in streams mode on a Redis Cluster', () => {
  let rc, fixture, program, stream, owner;
  let f1, f2, p1;
  const all = () => [f1, f2, p1];

  const ignisEmit = (...args) => {
    assert.ok(process.env.IGNIS_EMIT, 'IGNIS_EMIT must name the ignis-emit binary');
    return run(process.env.IGNIS_EMIT, [
      '--redis', rc.seeds, '--redis-mode', 'streams', '--redis-stream-name', stream, ...args,
    ], { timeout: 15_000 });
  };

  before(async () => {
    rc = await startRedisCluster({ nodeTimeout: 1000 });
    const firstSeed = Number(new URL(rc.seeds.split(',')[0]).port);
    for (let i = 0; !owner || owner.port === firstSeed; i++) {
      stream = `emitter-stream-${i}`;
      owner = await rc.masterOf(await redisCommand(firstSeed, ['CLUSTER', 'KEYSLOT', stream]));
    }
    const extra = ['--redis-stream-name', stream];
    fixture = await startFixture(rc.seeds, 'streams', undefined, extra);
    program = await startProgram(rc.seeds, 'streams', undefined, extra);
    [f1, f2] = await Promise.all([sioClient(fixture), sioClient(fixture)]);
    p1 = await programClient(program);
    await eventually(async () => {
      await ignisEmit('--event', 'ready');
      return all().every((s) => s.log.count('ready') > 0);
    }, { timeout: 10_000, interval: 200, label: 'both servers reading the stream' });
  });
  after(async () => {
    closeAllClients();
    const results = await Promise.allSettled([program, fixture].filter(Boolean).map((s) => s.stop()));
    await rc?.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });

  it('routes the XADD to the stream\'s master; rooms, except and serverSideEmit reach both servers', async () => {
    assert.equal(await redisCommand(owner.port, ['TYPE', stream]), 'stream');
    assert.equal(await command(f2, 'join', 'room-c'), 'joined');
    await ignisEmit('--to', 'room-c', '--to', p1.id, '--event', 'cluster-room', '--binary', '0a0b');
    await ignisEmit('--except', 'room-c', '--event', 'cluster-except');
    await ignisEmit('--server-side-emit', 'notify-clients', '--args', '["on-cluster"]');
    for (const s of [f2, p1]) {
      const [bin] = await s.log.next('cluster-room', { timeout: 5000 });
      assert.deepEqual([...new Uint8Array(bin)], [0x0a, 0x0b]);
    }
    for (const s of [f1, p1]) await s.log.next('cluster-except', { timeout: 5000 });
    for (const s of [f1, f2]) assert.deepEqual(await s.log.next('server-event', { timeout: 5000 }), ['on-cluster']);
    await ignisEmit('--event', 'after');
    await Promise.all(all().map((s) => s.log.next('after', { timeout: 5000 })));
    assert.equal(f1.log.count('cluster-room'), 0);
    assert.equal(f2.log.count('cluster-except'), 0);
  });
});
