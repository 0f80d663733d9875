// Every connection gives up in bounded time. Against the fixture with short deadlines:
// - readers that stop during a 64 KiB fan-out are released within --close-timeout of their
//   overflow (their server sockets gone, descriptors and heap back to the baseline) while the
//   healthy receivers get every broadcast;
// - a connection whose output waits while it takes nothing is released after
//   --write-stall-timeout, with nothing new sent to it; a slow reader that keeps reading is not;
// - a ping timeout and a server disconnect of a client that stopped reading end within
//   --close-timeout, not behind its queue;
// - an HTTP client that never reads its responses (pipelined requests, a poll) is cut at the
//   write deadline; a request body that trickles in is cut at --body-timeout;
// - --max-connections answers 503 past the bound and accepts again below it.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from '../lib/server.mjs';
import { closeAllClients, connectSocket } from '../lib/sio-client.mjs';
import { sleep, withTimeout } from '../lib/util.mjs';
import { descriptorCount, rawTcp, serverSockets, stalledClient, within } from './lib/tcp-state.mjs';

const fixture = process.env.IGNIS_FIXTURE;
const KiB = 1024;
const MiB = 1024 * KiB;
const CLOSE_TIMEOUT = 1000;
const STALL_TIMEOUT = 1500;

function startFixture(extra) {
  return spawnChild(fixture, ['--mode', 'socketio', '--port', '0', '--threads', '2',
    '--close-timeout', String(CLOSE_TIMEOUT), ...extra], { kind: 'fixture' });
}

describe('connection deadlines', { skip: !fixture && 'IGNIS_FIXTURE is not set' }, () => {
  let server;
  const stalled = [];
  afterEach(async () => {
    for (const s of stalled.splice(0)) s.tcp.destroy();
    closeAllClients();
    if (server) await server.stop();
    server = undefined;
  });
  after(closeAllClients);

  const reasons = (control) => control.timeout(5000).emitWithAck('server-disconnect-reasons');
  const heap = (control) => control.timeout(5000).emitWithAck('heap-in-use');

  it('readers that stop during a 64 KiB fan-out are gone within --close-timeout of their overflow; the others get everything', async (t) => {
    const SLOW = 20;
    server = await startFixture(['--ping-interval', '60000', '--ping-timeout', '60000',
      '--max-buffered-bytes', String(MiB), '--write-stall-timeout', '60000']);
    const healthy = await Promise.all([0, 1, 2].map(() => connectSocket(server.url, { transports: ['websocket'] })));
    const got = healthy.map(() => []);
    healthy.forEach((s, i) => s.on('big', (n, data) => got[i].push(data.length === 64 * KiB ? n : -1)));
    const [control] = healthy;
    const fdsBefore = descriptorCount(server.process.pid);
    const heapBefore = await heap(control);

    for (let i = 0; i < SLOW; i++) stalled.push(await stalledClient(server));
    const ports = new Set(stalled.map((s) => s.port));
    assert.equal(serverSockets(server.port, ports).length, SLOW);

    let sent = 0;
    let heapPeak = 0;
    // A batch is emitted in one loop turn: it must fit a healthy client's output bound at once.
    const BATCH = 8;
    for (;;) {
      await control.timeout(20_000).emitWithAck('emit-repeat', { event: 'big', first: sent, count: BATCH, size: 64 * KiB });
      sent += BATCH;
      heapPeak = Math.max(heapPeak, await heap(control));
      if ((await reasons(control)).filter((r) => r === 'transport error').length === SLOW) break;
      assert.ok(sent < 4000, `the stalled readers were not all closed after ${sent} broadcasts`);
    }
    const gone = await within(CLOSE_TIMEOUT + 1000, () => serverSockets(server.port, ports).length === 0,
      'the stalled readers\' server sockets to be gone');
    await within(CLOSE_TIMEOUT + 1000, () => descriptorCount(server.process.pid) === fdsBefore, 'descriptors back to the baseline');
    const heapAfter = await heap(control);
    t.diagnostic(`${sent} broadcasts; server sockets gone ${gone} ms after the last overflow; heap ${heapBefore} -> peak ${heapPeak} -> ${heapAfter} bytes`);
    // A broadcast is held once however many queues hold it: the peak is about one output bound.
    assert.ok(heapPeak - heapBefore > MiB / 2, 'the stalled readers held their queues (the load was real)');
    assert.ok(heapAfter - heapBefore < 256 * KiB, `heap in use back to the baseline (+${heapAfter - heapBefore} bytes)`);

    // The healthy receivers got every broadcast, whole and in order.
    const expected = Array.from({ length: sent }, (_, i) => i);
    await within(20_000, () => got.every((l) => l.length >= sent), 'healthy clients to receive every broadcast');
    for (const list of got) assert.deepEqual(list, expected);
    assert.ok(healthy.every((s) => s.connected));
  });

  it('a connection whose output waits while it takes nothing is released after --write-stall-timeout, with nothing new sent', async () => {
    server = await startFixture(['--ping-interval', '60000', '--ping-timeout', '60000',
      '--max-buffered-bytes', String(64 * MiB), '--write-stall-timeout', String(STALL_TIMEOUT)]);
    const control = await connectSocket(server.url, { transports: ['websocket'] });
    const slow = await stalledClient(server);
    stalled.push(slow);
    const ports = new Set([slow.port]);
    // 16 MiB: more than the kernel's buffers hold, less than the output bound.
    await control.timeout(20_000).emitWithAck('emit-repeat', { event: 'big', rooms: [slow.sid], count: 256, size: 64 * KiB });
    assert.equal(serverSockets(server.port, ports)[0]?.state, 'ESTAB', 'not closed by the output bound');
    assert.ok(serverSockets(server.port, ports)[0].sendQ > 0, 'bytes wait in the kernel');
    const released = await within(STALL_TIMEOUT + 1500, () => serverSockets(server.port, ports).length === 0,
      'the stalled connection to be released');
    assert.deepEqual(await reasons(control), ['transport error']);
    assert.ok(released > 0, 'not released before the stall was noticed');
  });

  it('a slow reader that keeps reading (16 KiB every 100 ms) is never closed by the stall timer', async () => {
    server = await startFixture(['--ping-interval', '60000', '--ping-timeout', '60000',
      '--max-buffered-bytes', String(64 * MiB), '--write-stall-timeout', String(STALL_TIMEOUT)]);
    const control = await connectSocket(server.url, { transports: ['websocket'] });
    const slow = await stalledClient(server);
    stalled.push(slow);
    const ports = new Set([slow.port]);
    await control.timeout(20_000).emitWithAck('emit-repeat', { event: 'big', rooms: [slow.sid], count: 256, size: 64 * KiB });
    let read = 0;
    const reader = setInterval(() => {
      const chunk = slow.tcp.socket.read(16 * KiB);
      if (chunk) read += chunk.length;
    }, 100);
    try {
      const until = Date.now() + 3 * STALL_TIMEOUT;
      while (Date.now() < until) {
        await sleep(250);
        assert.equal(serverSockets(server.port, ports)[0]?.state, 'ESTAB', `closed after ${read} bytes read`);
      }
    } finally {
      clearInterval(reader);
    }
    assert.deepEqual(await reasons(control), []);
    assert.ok(read >= 25 * 16 * KiB, `the reader kept reading (${read} bytes)`);
  });

  for (const [how, end, reason] of [
    ['a ping timeout', null, 'ping timeout'],
    ['a server disconnect', (control, sid) => control.timeout(5000).emitWithAck('disconnect-sockets', { rooms: [sid], close: true }), 'server namespace disconnect'],
  ]) {
    it(`${how} of a client that stopped reading ends within --close-timeout, not behind its queue`, async () => {
      const ping = end ? ['--ping-interval', '60000', '--ping-timeout', '60000'] : ['--ping-interval', '1000', '--ping-timeout', '1000'];
      server = await startFixture([...ping, '--max-buffered-bytes', String(64 * MiB), '--write-stall-timeout', '60000']);
      const control = await connectSocket(server.url, { transports: ['websocket'] });
      const slow = await stalledClient(server);
      stalled.push(slow);
      const ports = new Set([slow.port]);
      await control.timeout(20_000).emitWithAck('emit-repeat', { event: 'big', rooms: [slow.sid], count: 256, size: 64 * KiB });
      if (end) await end(control, slow.sid);
      await within(end ? 2000 : 5000, async () => (await reasons(control)).includes(reason), `"${reason}"`);
      await within(CLOSE_TIMEOUT + 1000, () => serverSockets(server.port, ports).length === 0, 'the connection to be gone');
    });
  }

  it('a client that pipelines requests and never reads the answers is cut at the write deadline', async () => {
    server = await startFixture(['--write-stall-timeout', String(STALL_TIMEOUT)]);
    const tcp = rawTcp(server.port);
    await tcp.connected;
    tcp.socket.pause();
    const request = 'GET /socket.io/?EIO=4&transport=bogus HTTP/1.1\r\nHost: x\r\n\r\n';
    tcp.socket.write(request.repeat(150_000));  // ~8 MiB of answers: more than the buffers hold
    const ports = new Set([tcp.socket.localPort]);
    // The server first answers as many requests as the buffers take (tens of thousands, slow in a
    // debug build on a loaded machine); the deadline starts when its write blocks.
    await within(STALL_TIMEOUT + 15_000, () => serverSockets(server.port, ports).length === 0, 'the connection to be gone');
    tcp.destroy();
  });

  it('a poll whose answer is never read is cut at the write deadline', async () => {
    server = await startFixture(['--ping-interval', '60000', '--ping-timeout', '60000',
      '--max-buffered-bytes', String(64 * MiB), '--write-stall-timeout', String(STALL_TIMEOUT)]);
    const control = await connectSocket(server.url, { transports: ['websocket'] });
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const sid = JSON.parse(open.slice(1)).sid;
    assert.equal(await (await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40' })).text(), 'ok');
    const connect = await (await fetch(`${base}&sid=${sid}`)).text();
    const socketId = /40\{"sid":"([^"]+)"/.exec(connect)[1];
    await control.timeout(20_000).emitWithAck('emit-repeat', { event: 'big', rooms: [socketId], count: 256, size: 64 * KiB });

    const tcp = rawTcp(server.port);
    await tcp.connected;
    tcp.socket.pause();
    await tcp.write(`GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const ports = new Set([tcp.socket.localPort]);
    await within(STALL_TIMEOUT + 3000, () => serverSockets(server.port, ports).length === 0, 'the poll\'s connection to be gone');
    tcp.destroy();
  });

  it('a request body that trickles in is cut at --body-timeout', async () => {
    server = await startFixture(['--body-timeout', '1000']);
    const tcp = rawTcp(server.port);
    await tcp.connected;
    await tcp.write('POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => tcp.socket.write('4'), 200);
    try {
      const started = Date.now();
      await withTimeout(tcp.closed, 4000, 'the connection to be closed');
      assert.ok(Date.now() - started < 3000, 'closed at the body deadline');
    } finally {
      clearInterval(trickle);
    }
  });

  it('--max-connections: past it new connections get 503; below it they are served again', async () => {
    const MAX = 10;
    server = await startFixture(['--max-connections', String(MAX)]);
    const held = [];
    for (let i = 0; i < MAX; i++) {
      const tcp = rawTcp(server.port);
      await tcp.connected;
      held.push(tcp);
    }
    const handshake = `${server.url}/socket.io/?EIO=4&transport=polling`;
    // The fetch agent opens a connection of its own: the 11th.
    const refused = await fetch(handshake, { signal: AbortSignal.timeout(5000) });
    assert.equal(refused.status, 503);
    assert.match(await refused.text(), /connection limit/);
    held.pop().destroy();
    await within(5000, async () => {
      const res = await fetch(handshake, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
      await res.arrayBuffer();
      return res.status === 200;
    }, 'a connection to be served again');
    for (const tcp of held) tcp.destroy();
  });
});
