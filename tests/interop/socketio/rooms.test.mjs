// Rooms and broadcasts with 200 WebSocket clients in one namespace: to(rooms),
// except(rooms), socket.broadcast (sender excluded), broadcast to all, volatile,
// and broadcasts with acknowledgements (one response per recipient, timeout).
//
// "Did NOT receive" is checked without sleeping: after each broadcast under test
// the namespace gets a "fence" broadcast to everyone; a client that has the
// fence has every earlier broadcast it was going to get (one connection is
// ordered).
//
// The heartbeat is relaxed for this file (--ping-interval 10000
// --ping-timeout 5000): with the official 300/200 ms a stall of ~200 ms in the
// test process, which hosts 200 clients (and the Node reference), is a
// spurious "ping timeout". Heartbeats are covered by disconnect.test.mjs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import { closeAllClients, connectSocket, uniqueDynNamespace } from '../lib/sio-client.mjs';

const T = { timeout: 20_000 };
const N = 200;
const ROOMS = ['r0', 'r1', 'r2', 'r3']; // client i is in ROOMS[i % 4]; every 10th is also in "ten"

const sorted = (a) => [...a].sort();
const RELAXED_HEARTBEAT = ['--ping-interval', '10000', '--ping-timeout', '5000'];
const HOOK = { timeout: 30_000 };

for (const threads of THREAD_VARIANTS) {
  describe(`rooms and broadcasts, ${N} clients (${threadsLabel(threads)})`, () => {
    let server;
    let nsp;
    let clients = []; // [{ i, socket, rooms: Set }]
    let fenceNo = 0;
    let t0;

    before(async () => {
      server = await startSioServer({ threads, extraArgs: RELAXED_HEARTBEAT });
      nsp = uniqueDynNamespace();
      t0 = Date.now();
      clients = await Promise.all(Array.from({ length: N }, async (_, i) => {
        const socket = await connectSocket(server.url, { nsp, transports: ['websocket'], connectTimeoutMs: 10_000 });
        // Every client answers "ask-id" with its own id; "ask-id-even" only the even ones.
        socket.on('ask-id', (ack) => ack(socket.id));
        if (i % 2 === 0) socket.on('ask-id-even', (ack) => ack(socket.id));
        const c = { i, socket, rooms: new Set(), disconnects: [] };
        socket.on('disconnect', (reason) => c.disconnects.push(`${reason} at +${Date.now() - t0} ms`));
        return c;
      }));
      await Promise.all(clients.map(async (c) => {
        const rooms = [ROOMS[c.i % 4], ...(c.i % 10 === 0 ? ['ten'] : [])];
        for (const room of rooms) {
          assert.equal(await c.socket.timeout(5000).emitWithAck('join', room), 'joined');
          c.rooms.add(room);
        }
      }));
    }, HOOK);
    after(async () => {
      closeAllClients();
      await server?.stop();
    }, HOOK);

    const members = (pred) => clients.filter(pred);
    const inRoom = (...rooms) => (c) => rooms.some((r) => c.rooms.has(r));

    /** Broadcast to everyone and wait until every client got it. */
    async function fence(sender = clients[0].socket) {
      fenceNo += 1;
      const token = `fence-${fenceNo}`;
      assert.equal(await sender.emitWithAck('emit-to', { event: 'fence', args: [token] }), 'sent');
      const lost = clients.filter((c) => c.disconnects.length).map((c) => `client ${c.i}: ${c.disconnects.join(', ')}`);
      assert.deepEqual(lost, [], 'no client may lose its connection');
      await Promise.all(clients.map(async (c) => {
        const [got] = await c.socket.log.next('fence', { timeout: 5000 });
        assert.equal(got, token, `client ${c.i}: fences in order`);
      }));
    }

    /**
     * Send `spec` (an emit-to payload) from `sender`, fence, then check that
     * exactly `expected` clients got the event, once each, with the arguments.
     */
    async function assertBroadcast(sender, spec, expected, label) {
      const event = `bc-${fenceNo}-${spec.event}`;
      const args = spec.args ?? [label, { n: fenceNo }];
      assert.equal(await sender.emitWithAck('emit-to', { ...spec, event, args }), 'sent');
      await fence(sender);
      const expectedIdx = new Set(expected.map((c) => c.i));
      const wrong = [];
      for (const c of clients) {
        const got = c.socket.log.all(event);
        const want = expectedIdx.has(c.i) ? 1 : 0;
        if (got.length !== want) wrong.push(`client ${c.i} (rooms ${[...c.rooms]}) got ${got.length}, expected ${want}`);
        for (const a of got) assert.deepEqual(a, args, `${label}: arguments`);
      }
      assert.deepEqual(wrong, [], `${label}: recipients`);
    }

    it('every client is connected, in its rooms (own id first)', T, async () => {
      assert.equal(new Set(clients.map((c) => c.socket.id)).size, N);
      const sample = [clients[0], clients[1], clients[10], clients[199]];
      for (const c of sample) {
        const rooms = await c.socket.emitWithAck('rooms');
        assert.equal(rooms[0], c.socket.id, 'own id first');
        assert.deepEqual(sorted(rooms.slice(1)), sorted(c.rooms));
      }
    });

    it('nsp.to(room) reaches exactly the room members', T, async () => {
      await assertBroadcast(clients[0].socket, { rooms: ['r1'] }, members(inRoom('r1')), 'to r1');
      assert.equal(members(inRoom('r1')).length, 50);
    });

    it('nsp.to(several rooms) reaches their union, each socket once', T, async () => {
      const expected = members(inRoom('r1', 'ten'));
      assert.equal(expected.length, 70); // 50 in r1 + the 20 of "ten" (all even, none in r1)
      await assertBroadcast(clients[3].socket, { rooms: ['r1', 'ten'] }, expected, 'to r1+ten');
      // Overlapping rooms: r0 ⊃ "ten"'s members with i % 4 == 0.
      await assertBroadcast(clients[3].socket, { rooms: ['r0', 'ten'] }, members(inRoom('r0', 'ten')), 'to r0+ten');
    });

    it('nsp.except(room) excludes the room', T, async () => {
      await assertBroadcast(clients[5].socket, { except: ['r0'] }, members((c) => !c.rooms.has('r0')), 'except r0');
      await assertBroadcast(clients[5].socket, { rooms: ['r0', 'r2'], except: ['ten'] },
        members((c) => (c.rooms.has('r0') || c.rooms.has('r2')) && !c.rooms.has('ten')), 'to r0+r2 except ten');
    });

    it('socket.broadcast excludes the sender', T, async () => {
      const sender = clients[9]; // in r1
      await assertBroadcast(sender.socket, { rooms: ['r1'], fromSocket: true },
        members((c) => c.rooms.has('r1') && c !== sender), 'broadcast to r1 from a member');
      await assertBroadcast(sender.socket, { fromSocket: true }, members((c) => c !== sender), 'broadcast to all from a socket');
      await assertBroadcast(sender.socket, { fromSocket: true, except: ['r2'] },
        members((c) => c !== sender && !c.rooms.has('r2')), 'broadcast except r2 from a socket');
    });

    it('a broadcast to the whole namespace reaches all 200, sender included', T, async () => {
      await assertBroadcast(clients[17].socket, {}, clients, 'to all');
    });

    it('a broadcast to a socket id reaches only that socket', T, async () => {
      const target = clients[123];
      await assertBroadcast(clients[0].socket, { rooms: [target.socket.id] }, [target], 'to one id');
    });

    it('a volatile broadcast is delivered to idle connected clients', T, async () => {
      await assertBroadcast(clients[2].socket, { volatile: true }, clients, 'volatile to all');
      await assertBroadcast(clients[2].socket, { volatile: true, rooms: ['r3'] }, members(inRoom('r3')), 'volatile to r3');
    });

    it('broadcast with ack: one response per recipient', T, async () => {
      const r2 = members(inRoom('r2'));
      const res = await clients[0].socket.emitWithAck('emit-to-with-ack', { rooms: ['r2'], timeout: 5000, event: 'ask-id', args: [] });
      assert.equal(res.err, null);
      assert.equal(res.responses.length, r2.length);
      assert.deepEqual(sorted(res.responses), sorted(r2.map((c) => c.socket.id)));

      const all = await clients[1].socket.emitWithAck('emit-to-with-ack', { timeout: 5000, event: 'ask-id', args: [] });
      assert.equal(all.err, null);
      assert.deepEqual(sorted(all.responses), sorted(clients.map((c) => c.socket.id)));
    });

    it('broadcast with ack to an empty room: no error, no response', T, async () => {
      const res = await clients[0].socket.emitWithAck('emit-to-with-ack', { rooms: ['nobody-here'], timeout: 1000, event: 'ask-id', args: [] });
      assert.deepEqual(res, { err: null, responses: [] });
    });

    it('broadcast with ack times out when some recipients never answer', T, async () => {
      const r3 = members(inRoom('r3')); // odd indices only: none answers "ask-id-even"
      const r1r2 = members(inRoom('r1', 'r2')); // r2 members are even and answer; r1 are odd and don't
      const started = Date.now();
      const res = await clients[0].socket.emitWithAck('emit-to-with-ack', { rooms: ['r1', 'r2'], timeout: 300, event: 'ask-id-even', args: [] });
      assert.equal(res.err, 'operation has timed out');
      assert.ok(Date.now() - started >= 290, 'not before the timeout');
      assert.deepEqual(sorted(res.responses), sorted(r1r2.filter((c) => c.i % 2 === 0).map((c) => c.socket.id)),
        'the responses received before the timeout');
      const none = await clients[0].socket.emitWithAck('emit-to-with-ack', { rooms: ['r3'], timeout: 200, event: 'ask-id-even', args: [] });
      assert.deepEqual(none, { err: 'operation has timed out', responses: [] });
      assert.equal(r3.length, 50);
    });

    it('leave: a socket that left a room no longer gets its broadcasts', T, async () => {
      const leaver = clients[4]; // r0
      assert.equal(await leaver.socket.emitWithAck('leave', 'r0'), 'left');
      leaver.rooms.delete('r0');
      await assertBroadcast(clients[1].socket, { rooms: ['r0'] }, members(inRoom('r0')), 'to r0 after a leave');
      assert.equal(members(inRoom('r0')).length, 49);
      assert.deepEqual(await leaver.socket.emitWithAck('rooms'), [leaver.socket.id]);
    });

    it('a socket that left its own room and then disconnects is out of its other rooms', T, async () => {
      const solo = await connectSocket(server.url, { nsp, transports: ['websocket'], connectTimeoutMs: 10_000 });
      assert.equal(await solo.emitWithAck('join', 'solo'), 'joined');
      assert.equal(await solo.emitWithAck('leave', solo.id), 'left');
      assert.deepEqual(await solo.emitWithAck('rooms'), ['solo']);
      const listed = await clients[1].socket.emitWithAck('fetch-sockets', { rooms: ['solo'] });
      assert.deepEqual(listed, [{ id: solo.id, rooms: ['solo'] }]);
      // The server disconnects it: when the client hears of it, the server has removed it.
      const gone = new Promise((resolve) => solo.once('disconnect', resolve));
      solo.emit('disconnect-me', false);
      assert.equal(await gone, 'io server disconnect');
      assert.deepEqual(await clients[1].socket.emitWithAck('fetch-sockets', { rooms: ['solo'] }), []);
      await assertBroadcast(clients[1].socket, { rooms: ['solo'] }, [], 'to a room whose only member left');
    });
  });
}
