// Emitters reach every server: Node's @socket.io/redis-emitter 5.1 the ignis servers, and ours
// (ignis-emit) the Node server, on a classic-adapter cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requirePeer } from '../lib/peers.mjs';
import { eventually } from '../lib/util.mjs';
import { command, programClient, redisClient, sioClient, startCluster } from './cluster.mjs';

const { Emitter } = requirePeer('@socket.io/redis-emitter');
const run = promisify(execFile);

describe('emitters on a mixed cluster (classic adapter)', () => {
  let c, n1, f1, f2, p1, emitterClient, emitter;

  before(async () => {
    c = await startCluster('classic');
    [n1, f1, f2] = await Promise.all([sioClient(c.node), sioClient(c.fixture), sioClient(c.fixture)]);
    p1 = await programClient(c.program);
    assert.equal(await command(f2, 'join', 'room-e'), 'joined');
    assert.equal(await command(n1, 'join', 'room-e'), 'joined');
    emitterClient = await redisClient(c.redis.url);
    emitter = new Emitter(emitterClient);
  });
  after(async () => {
    await emitterClient?.quit().catch(() => {});
    await c?.stop();
  });

  const ignisEmit = (...args) => {
    assert.ok(process.env.IGNIS_EMIT, 'IGNIS_EMIT must name the ignis-emit binary');
    return run(process.env.IGNIS_EMIT, ['--redis', c.redis.url, ...args], { timeout: 15_000 });
  };

  it('the Node emitter reaches clients of the ignis servers', async () => {
    emitter.emit('node-emitter', 'hi', Buffer.from([7, 8]));
    for (const s of [f1, f2, p1, n1]) {
      const [text, bin] = await s.log.next('node-emitter', { timeout: 5000 });
      assert.equal(text, 'hi');
      assert.deepEqual([...new Uint8Array(bin)], [7, 8]);
    }
    emitter.to('room-e').emit('node-emitter-room', 1);
    await f2.log.next('node-emitter-room', { timeout: 5000 });
    emitter.in(f1.id).socketsJoin('joined-by-emitter');
    await eventually(async () => (await command(f1, 'rooms')).includes('joined-by-emitter'));
    emitter.serverSideEmit('notify-clients', 'from-node-emitter');
    assert.deepEqual(await f1.log.next('server-event', { timeout: 5000 }), ['from-node-emitter']);
    assert.deepEqual(await n1.log.next('server-event', { timeout: 5000 }), ['from-node-emitter']);
    // f1 is in neither room-e nor reached by the room emit; the later broadcast proves it.
    emitter.emit('after-room', 0);
    await f1.log.next('after-room', { timeout: 5000 });
    assert.equal(f1.log.count('node-emitter-room'), 0);
  });

  it('the C++ emitter reaches clients of the Node server and of ours', async () => {
    await ignisEmit('--event', 'cpp-emitter', '--args', '["hi",{"n":1}]');
    for (const s of [n1, f1, p1]) {
      assert.deepEqual(await s.log.next('cpp-emitter', { timeout: 5000 }), ['hi', { n: 1 }]);
    }
    await ignisEmit('--to', 'room-e', '--except', f2.id, '--event', 'cpp-room');
    await n1.log.next('cpp-room', { timeout: 5000 });
    await ignisEmit('--to', n1.id, '--sockets-join', 'joined-by-cpp');
    await eventually(async () => (await command(n1, 'rooms')).includes('joined-by-cpp'));
    await ignisEmit('--server-side-emit', 'notify-clients', '--args', '["from-cpp"]');
    assert.deepEqual(await n1.log.next('server-event', { timeout: 5000 }), ['from-cpp']);
    await ignisEmit('--event', 'after-cpp-room');
    await f2.log.next('after-cpp-room', { timeout: 5000 });
    assert.equal(f2.log.count('cpp-room'), 0, 'except was ignored');
    await assert.rejects(ignisEmit('--event', 'connect'), /reserved/);
  });
});
