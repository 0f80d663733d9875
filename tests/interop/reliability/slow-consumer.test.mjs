// A slow consumer: a raw WebSocket client joins "/" and then stops reading while 16 KiB
// broadcasts flow to everyone. With the per-session output bound at 1 MiB the server must close
// it ("transport error" on the server side, as the bound is reported), keep its own memory
// bounded meanwhile (VmRSS sampled after every batch), and deliver every broadcast, in order, to
// the healthy WebSocket and polling clients.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from '../lib/server.mjs';
import { closeAllClients, connectSocket } from '../lib/sio-client.mjs';
import { rawWebSocketUpgrade } from '../lib/eio.mjs';
import { withTimeout } from '../lib/util.mjs';
import { frame } from './lib/hostile.mjs';
import { rssKiB } from './lib/watch.mjs';

const fixture = process.env.IGNIS_FIXTURE;
const LIMIT = 1 << 20;
const PAYLOAD = 'x'.repeat(16 * 1024);
const BATCH = 32;
// Enough that an unbounded queue would hold far more than the RSS bound asserted below.
const MAX_BYTES = 64 * 1024 * 1024;
const RSS_BOUND_KIB = 24 * 1024;

describe('slow consumer', { skip: !fixture && 'IGNIS_FIXTURE is not set' }, () => {
  let server;
  after(async () => {
    closeAllClients();
    if (server) await server.stop();
  });

  it('is closed past the output bound while memory stays bounded and the others get everything', async (t) => {
    server = await spawnChild(fixture, ['--mode', 'socketio', '--port', '0', '--threads', '2',
      '--ping-interval', '60000', '--ping-timeout', '60000', '--max-buffered-bytes', String(LIMIT)], { kind: 'fixture' });
    const healthy = [
      ['websocket', await connectSocket(server.url, { transports: ['websocket'] })],
      ['polling', await connectSocket(server.url, { transports: ['polling'] })],
    ];
    const got = new Map(healthy.map(([name]) => [name, []]));
    for (const [name, s] of healthy) s.on('big', (n, data) => got.get(name).push(data.length === PAYLOAD.length ? n : -1));
    const [, control] = healthy[0];

    const slow = await rawWebSocketUpgrade({ port: server.port, path: '/socket.io/' }, { EIO: '4', transport: 'websocket' });
    await slow.tcp.write(frame(0x1, '40'));
    await withTimeout(new Promise((resolve) => {
      const check = () => (slow.rest().includes('40{') ? resolve() : slow.tcp.socket.once('data', check));
      check();
    }), 5000, 'the slow client to join "/"');
    slow.tcp.socket.pause();

    const reasons = async () => control.timeout(5000).emitWithAck('server-disconnect-reasons');
    assert.deepEqual(await reasons(), []);
    const baseline = await rssKiB(server.process.pid);
    let peak = baseline;
    let sent = 0;
    let closedAt = null;
    while (sent * PAYLOAD.length < MAX_BYTES) {
      const acks = [];
      for (let i = 0; i < BATCH; i++) {
        acks.push(control.timeout(10_000).emitWithAck('emit-to', { event: 'big', args: [sent++, PAYLOAD] }));
      }
      await Promise.all(acks);
      peak = Math.max(peak, await rssKiB(server.process.pid));
      if ((await reasons()).includes('transport error')) {
        closedAt = sent;
        break;
      }
    }
    assert.ok(closedAt !== null, `the slow client was not closed after ${sent} broadcasts (${sent * PAYLOAD.length} bytes)`);
    assert.ok(peak - baseline < RSS_BOUND_KIB,
      `server VmRSS grew by ${peak - baseline} KiB (baseline ${baseline} KiB) before the slow client was closed`);

    t.diagnostic(`closed after ${closedAt} broadcasts (${closedAt * PAYLOAD.length} bytes); server VmRSS ${baseline} KiB -> peak ${peak} KiB`);

    // The slow client, reading again, finds its connection closed.
    slow.tcp.socket.resume();
    await withTimeout(slow.tcp.closed, 10_000, 'the slow client connection to end');

    // The healthy clients got every broadcast, whole and in order.
    const expected = Array.from({ length: sent }, (_, i) => i);
    await withTimeout(new Promise((resolve) => {
      const check = () => ([...got.values()].every((l) => l.length >= sent) ? resolve() : setTimeout(check, 20));
      check();
    }), 20_000, 'healthy clients to receive every broadcast');
    for (const [name, list] of got) assert.deepEqual(list, expected, `${name} client`);
    for (const [name, s] of healthy) assert.equal(s.connected, true, `${name} client still connected`);
    assert.deepEqual(await reasons(), ['transport error'], 'only the slow client was disconnected');
  });
});
