// ignis-emit --redis-mode streams (the C++ emitter XADDing entries as
// @socket.io/redis-streams-emitter does) reaches the clients and the server-side handlers of a
// streams-mode cluster: Node socket.io 4.8 + @socket.io/redis-streams-adapter, ignis-fixture and
// ignis-socketio, each reading the stream. Whatever an emit must not reach is checked after a
// later broadcast to everyone arrived: each server reads the stream in order, so nothing needs a
// sleep.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startRedis } from '../lib/redis-server.mjs';
import { closeAllClients, connectSocket } from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';
import {
  command, programClient, redisClient, sioClient, startFixture, startNodeServer, startProgram,
} from './cluster.mjs';

const run = promisify(execFile);

describe('ignis-emit in streams mode on a mixed streams cluster', () => {
  let redis, admin, node, fixture, program;
  let n1, n2, f1, f2, f3, p1;
  const all = () => [n1, n2, f1, f2, f3, p1];
  let markers = 0;

  const ignisEmit = (...args) => {
    assert.ok(process.env.IGNIS_EMIT, 'IGNIS_EMIT must name the ignis-emit binary');
    return run(process.env.IGNIS_EMIT, ['--redis', redis.url, '--redis-mode', 'streams', ...args],
      { timeout: 15_000 });
  };

  /** A broadcast every client in `sockets` gets: what came before it has arrived. */
  async function flush(sockets) {
    const event = `marker-${++markers}`;
    await ignisEmit('--event', event);
    await Promise.all(sockets.map((s) => s.log.next(event, { timeout: 5000 })));
  }

  before(async () => {
    redis = await startRedis();
    admin = await redisClient(redis.url);
    node = await startNodeServer(redis.url, 'streams');
    fixture = await startFixture(redis.url, 'streams');
    program = await startProgram(redis.url, 'streams');
    [n1, n2, f1, f2, f3] = await Promise.all([
      sioClient(node), sioClient(node), sioClient(fixture), sioClient(fixture), sioClient(fixture),
    ]);
    p1 = await programClient(program);
    // Each server reads from the end of the stream as it was when its reader started: emit
    // until every client got one, which proves every reader is past its start.
    await eventually(async () => {
      await ignisEmit('--event', 'ready');
      return all().every((s) => s.log.count('ready') > 0);
    }, { timeout: 10_000, interval: 200, label: 'every server reading the stream' });
  });
  after(async () => {
    closeAllClients();
    const stops = [program, fixture, node].filter(Boolean).map((s) => s.stop());
    const results = await Promise.allSettled(stops);
    await admin?.quit().catch(() => {});
    await redis?.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });

  it('writes entries as the streams emitter does: uid "emitter", nsp, type, data', async () => {
    await ignisEmit('--to', 'wire-room', '--event', 'wire', '--args', '["w",1]');
    const entries = await admin.sendCommand(['XREVRANGE', 'socket.io', '+', '-', 'COUNT', '1']);
    const [, fields] = entries[0];
    assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['uid', 'nsp', 'type', 'data']);
    assert.deepEqual(fields.slice(0, 6), ['uid', 'emitter', 'nsp', '/', 'type', '3']);
    assert.deepEqual(JSON.parse(fields[7]), {
      packet: { type: 2, data: ['wire', 'w', 1], nsp: '/' },
      opts: { rooms: ['wire-room'], except: [], flags: {} },
    });
  });

  it('broadcasts reach the clients of every server, binary included', async () => {
    await ignisEmit('--event', 'cpp-all', '--args', '["hi",{"n":1,"deep":[true,null]}]');
    for (const s of all()) {
      assert.deepEqual(await s.log.next('cpp-all', { timeout: 5000 }), ['hi', { n: 1, deep: [true, null] }]);
    }
    await ignisEmit('--event', 'cpp-bin', '--args', '["b"]', '--binary', '0102ff');
    for (const s of all()) {
      const [text, bin] = await s.log.next('cpp-bin', { timeout: 5000 });
      assert.equal(text, 'b');
      assert.deepEqual([...new Uint8Array(bin)], [1, 2, 0xff]);
    }
    // The binary entry's data is base64 msgpack, as Node writes one.
    const [[, fields]] = await admin.sendCommand(['XREVRANGE', 'socket.io', '+', '-', 'COUNT', '1']);
    assert.notEqual(fields[7][0], '{');
    await ignisEmit('--volatile', '--event', 'cpp-volatile', '--args', '[3]');
    for (const s of all()) assert.deepEqual(await s.log.next('cpp-volatile', { timeout: 5000 }), [3]);
  });

  it('rooms and except select the same clients on every server', async () => {
    for (const [s, room] of [[n1, 'r1'], [n2, 'r2'], [f1, 'r1'], [f2, 'r1'], [f2, 'r2']]) {
      assert.equal(await command(s, 'join', room), 'joined');
    }
    // f3 and p1 are in neither room; n2 and f2 are in r2.
    await ignisEmit('--to', 'r1', '--except', 'r2', '--event', 'room-1');
    await ignisEmit('--to', 'r1', '--to', 'r2', '--event', 'room-12');
    await ignisEmit('--except', 'r1', '--event', 'except-1');
    await ignisEmit('--to', p1.id, '--to', n2.id, '--event', 'to-ids');
    await flush(all());
    const expected = {
      'room-1': [n1, f1],
      'room-12': [n1, n2, f1, f2],
      'except-1': [n2, f3, p1],
      'to-ids': [n2, p1],
    };
    for (const [event, receivers] of Object.entries(expected)) {
      for (const s of all()) {
        assert.equal(s.log.count(event), receivers.includes(s) ? 1 : 0, `${event} to ${s.id}`);
      }
    }
  });

  it('socketsJoin and socketsLeave reach the sockets of every server', async () => {
    const rooms = (s) => command(s, 'rooms');
    await ignisEmit('--to', n1.id, '--to', f3.id, '--to', p1.id, '--sockets-join', 'joined-by-cpp');
    await eventually(async () => (await rooms(n1)).includes('joined-by-cpp'), { label: 'n1 joined' });
    await eventually(async () => (await rooms(f3)).includes('joined-by-cpp'), { label: 'f3 joined' });
    await ignisEmit('--to', 'joined-by-cpp', '--event', 'in-joined');
    await flush(all());
    for (const s of all()) assert.equal(s.log.count('in-joined'), [n1, f3, p1].includes(s) ? 1 : 0, s.id);

    await ignisEmit('--to', 'joined-by-cpp', '--except', 'r1', '--sockets-leave', 'joined-by-cpp');
    await eventually(async () => !(await rooms(f3)).includes('joined-by-cpp'), { label: 'f3 left' });
    await ignisEmit('--to', 'joined-by-cpp', '--event', 'still-joined');
    await flush(all());
    // n1 is in r1, so it stayed; f3 and p1 left.
    for (const s of all()) assert.equal(s.log.count('still-joined'), s === n1 ? 1 : 0, s.id);
    assert.ok((await rooms(n1)).includes('joined-by-cpp'));
  });

  it('serverSideEmit reaches the handlers of the Node server and of ours', async () => {
    await ignisEmit('--server-side-emit', 'notify-clients', '--args', '["from-cpp",2]');
    for (const s of [n1, n2, f1, f2, f3]) {
      assert.deepEqual(await s.log.next('server-event', { timeout: 5000 }), ['from-cpp', 2]);
    }
    await ignisEmit('--server-side-emit', 'notify-clients', '--binary', 'cafe');
    for (const s of [n1, f1]) {
      const [bin] = await s.log.next('server-event', { timeout: 5000 });
      assert.deepEqual([...new Uint8Array(bin)], [0xca, 0xfe]);
    }
    await assert.rejects(ignisEmit('--event', 'connect'), /reserved/);
    await assert.rejects(ignisEmit('--server-side-emit', 'disconnecting'), /reserved/);
  });

  it('other namespaces, and only theirs', async () => {
    const [cn, cf] = await Promise.all([
      connectSocket(node.url, { nsp: '/custom' }), connectSocket(fixture.url, { nsp: '/custom' }),
    ]);
    await ignisEmit('--nsp', '/custom', '--event', 'in-custom', '--args', '["c"]');
    assert.deepEqual(await cn.log.next('in-custom', { timeout: 5000 }), ['c']);
    assert.deepEqual(await cf.log.next('in-custom', { timeout: 5000 }), ['c']);
    await ignisEmit('--nsp', 'custom', '--to', cn.id, '--event', 'custom-direct');
    await ignisEmit('--nsp', '/custom', '--event', 'custom-after');
    await Promise.all([cn, cf].map((s) => s.log.next('custom-after', { timeout: 5000 })));
    assert.equal(cn.log.count('custom-direct'), 1);
    assert.equal(cf.log.count('custom-direct'), 0);
    await flush(all());
    for (const s of all()) assert.equal(s.log.count('in-custom'), 0, `${s.id} is in "/"`);
  });

  it('a stream of another name reaches nobody; one of the servers\' name with MAXLEN set is read', async () => {
    await ignisEmit('--redis-stream-name', 'elsewhere', '--event', 'elsewhere');
    const [[, fields]] = await admin.sendCommand(['XRANGE', 'elsewhere', '-', '+']);
    assert.deepEqual(fields.slice(0, 6), ['uid', 'emitter', 'nsp', '/', 'type', '3']);
    await ignisEmit('--redis-stream-name', 'socket.io', '--redis-stream-maxlen', '50', '--event', 'short');
    await Promise.all(all().map((s) => s.log.next('short', { timeout: 5000 })));
    await flush(all());
    for (const s of all()) assert.equal(s.log.count('elsewhere'), 0);
  });

  it('disconnectSockets closes the matching sockets on every server', async () => {
    const gone = [n2, f2, p1].map((s) => waitFor(s, 'disconnect', { timeout: 5000 }));
    await ignisEmit('--to', 'r2', '--to', p1.id, '--disconnect-sockets');
    const reasons = await Promise.all(gone);
    for (const [reason] of reasons) assert.equal(reason, 'io server disconnect');
    await flush([n1, f1, f3]);
    for (const s of [n1, f1, f3]) assert.ok(s.connected, `${s.id} was disconnected`);
  });
});
