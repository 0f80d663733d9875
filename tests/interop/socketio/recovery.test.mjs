// Connection state recovery with the official socket.io-client 4.8, run against both the C++
// fixture (2 event loops) and the Node reference (socket.io 4.8 with connectionStateRecovery)
// with the same steps and assertions: a client loses its connection (cut on its side, or by the
// server), 1,000 events are emitted while it is away (to everyone, to a room it is in, to one it is
// not in, to all but that room, to its old id), it comes back: recovered, same id, exactly the
// ones its rooms would have received, in order, once; and what restores nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSioReference, startSioServer, usingFixture } from '../lib/server.mjs';
import { TRANSPORT_VARIANTS, closeAllClients, newSocket, whenConnected } from '../lib/sio-client.mjs';
import { eventually, sleep, waitFor } from '../lib/util.mjs';

const T = { timeout: 60_000 };
const WINDOW = 2000;
// The heartbeat is relaxed for this file, as in rooms.test.mjs: every cut here is explicit, and
// with the official 300/200 ms a stall of ~500 ms (a loaded machine, a sanitizer build) ends the
// control client with a spurious "ping timeout", after which every step waits for it in vain.
// Heartbeats are covered by disconnect.test.mjs.
const RELAXED_HEARTBEAT = { pingInterval: 10_000, pingTimeout: 5_000 };
const GAP_EVENTS = 1000;
// Every event carries its offset as its last argument once recovery is on.
const withoutOffset = (args) => args.slice(0, -1);

const kinds = [
  ...(usingFixture ? [['C++ fixture, 2 event loops',
    () => startSioServer({ threads: 2, extraArgs: ['--connection-state-recovery', String(WINDOW),
      '--ping-interval', String(RELAXED_HEARTBEAT.pingInterval),
      '--ping-timeout', String(RELAXED_HEARTBEAT.pingTimeout)] })]] : []),
  ['Node socket.io 4.8', () => startSioReference({
    port: 0, ...RELAXED_HEARTBEAT,
    connectionStateRecovery: { maxDisconnectionDuration: WINDOW, skipMiddlewares: true } })],
];

// A client that gets every "n" event; reconnection is manual, so that the gap is ours.
async function recoveringClient(server, transports) {
  const socket = newSocket(server.url, { transports, reconnection: false });
  await whenConnected(socket);
  if (transports.includes('websocket') && socket.io.engine.transport.name !== 'websocket') {
    await waitFor(socket.io.engine, 'upgrade');
  }
  const got = [];
  socket.on('n', (...args) => got.push(withoutOffset(args)));
  return { socket, got };
}

// What happens while the client is away: GAP_EVENTS events through a control client, kind i % 5.
// Returns what the client should get back: everything but "r2" (not in it) and "except r1".
async function emitDuringGap(control, oldId) {
  const sent = [];
  const expected = [];
  for (let i = 0; i < GAP_EVENTS; i++) {
    const kind = i % 5;
    const cmd = [{ event: 'n', args: [i] }, { rooms: ['r1'], event: 'n', args: [i] },
      { rooms: ['r2'], event: 'n', args: [i] }, { except: ['r1'], event: 'n', args: [i] },
      { rooms: [oldId], event: 'n', args: [i] }][kind];
    sent.push(control.emitWithAck('emit-to', cmd));
    if (kind !== 2 && kind !== 3) expected.push([i]);
  }
  await Promise.all(sent);
  return expected;
}

for (const [kindName, start] of kinds) {
  describe(`connection state recovery: ${kindName}`, () => {
    let server;
    let control;
    before(async () => {
      server = await start();
      control = newSocket(server.url, { transports: ['websocket'] });
      await whenConnected(control);
    });
    after(async () => {
      closeAllClients();
      await server?.stop();
    });

    const serverNoticed = async (reason) => eventually(async () => {
      const reasons = await control.emitWithAck('server-disconnect-reasons');
      return reasons.includes(reason);
    }, { label: `the server to see "${reason}"` });

    for (const variant of TRANSPORT_VARIANTS) {
      for (const cut of ['client side', 'server side']) {
        it(`${variant.name}, cut on the ${cut}: same id, rooms, and exactly the ${GAP_EVENTS} events' share it missed, in order`, T, async () => {
          const { socket, got } = await recoveringClient(server, variant.transports);
          assert.equal(socket.recovered, false);
          assert.equal(await socket.emitWithAck('join', 'r1'), 'joined');
          const id = socket.id;
          const before = (await control.emitWithAck('server-disconnect-reasons')).length;
          const lost = waitFor(socket, 'disconnect');
          if (cut === 'client side') {
            socket.io.engine.close();
          } else {
            socket.emit('close-transport');
          }
          await lost;
          await eventually(async () => (await control.emitWithAck('server-disconnect-reasons')).length > before,
            { label: 'the server to notice' });

          const expected = await emitDuringGap(control, id);
          const connected = waitFor(socket, 'connect');
          socket.connect();
          await connected;
          assert.equal(socket.recovered, true);
          assert.equal(socket.id, id);
          // Delivered before the CONNECT answer: all there at 'connect'.
          assert.deepEqual(got, expected);
          assert.deepEqual(await socket.emitWithAck('rooms'), [id, 'r1']);
          // Still in r1, and the next events come once.
          await control.emitWithAck('emit-to', { rooms: ['r1'], event: 'n', args: ['after'] });
          await eventually(() => got.length === expected.length + 1, { label: 'the next event' });
          assert.deepEqual(got.at(-1), ['after']);
          socket.disconnect();
        });
      }
    }

    it('a clean disconnect leaves nothing to recover', T, async () => {
      const { socket } = await recoveringClient(server, ['websocket']);
      const id = socket.id;
      socket.disconnect();
      await serverNoticed('client namespace disconnect');
      await control.emitWithAck('emit-to', { event: 'n', args: [1] });
      const connected = waitFor(socket, 'connect');
      socket.connect();
      await connected;
      assert.equal(socket.recovered, false);
      assert.notEqual(socket.id, id);
      socket.disconnect();
    });

    it('back after the window: a new session', T, async () => {
      const { socket } = await recoveringClient(server, ['websocket']);
      const id = socket.id;
      const lost = waitFor(socket, 'disconnect');
      socket.io.engine.close();
      await lost;
      // Nothing to wait for but time: the session expires WINDOW ms after the server saw the loss.
      await sleep(WINDOW + 500);
      const connected = waitFor(socket, 'connect');
      socket.connect();
      await connected;
      assert.equal(socket.recovered, false);
      assert.notEqual(socket.id, id);
      socket.disconnect();
    });
  });
}

// The two servers agree on the wire: the CONNECT answer has both ids, the offset is the last
// argument of what can be recovered and of nothing else.
describe('recovery on the wire, C++ and Node alike', { skip: !usingFixture && 'IGNIS_FIXTURE is not set' }, () => {
  it('pid in the CONNECT answer; offsets on recoverable events only', T, async () => {
    const seen = [];
    for (const [name, start] of kinds) {
      const server = await start();
      try {
        const socket = newSocket(server.url, { transports: ['websocket'] });
        await whenConnected(socket);
        assert.ok(socket._pid && socket._pid.length === 20 && socket._pid !== socket.id, `${name}: pid`);
        const events = [];
        socket.onAny((event, ...args) => events.push([event, args.length, typeof args.at(-1)]));
        await socket.emitWithAck('emit-to', { event: 'plain', args: [1] });
        await socket.emitWithAck('emit-to', { event: 'vol', args: [1], volatile: true });
        await eventually(() => events.length >= 2, { label: `${name}: both events` });
        seen.push(events);
        socket.disconnect();
      } finally {
        await server.stop();
      }
    }
    assert.deepEqual(seen[0], [['plain', 2, 'string'], ['vol', 1, 'number']]);
    assert.deepEqual(seen[0], seen[1], 'C++ and Node send the same');
  });
});
