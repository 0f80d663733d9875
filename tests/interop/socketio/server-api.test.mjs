// The server-side utility methods driven through the fixture protocol:
// fetchSockets, socketsJoin, socketsLeave, disconnectSockets (with and without
// closing the underlying connection). Each test uses its own dynamic namespace.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  closeAllClients, connectSocket, managerSocket, newManager, uniqueDynNamespace, whenConnected,
} from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';

const T = { timeout: 10_000 };

/** fetch-sockets result → { id: sortedRooms }, checking the own-id-first order. */
function byId(list) {
  const out = {};
  for (const { id, rooms } of list) {
    assert.equal(rooms[0], id, `rooms of ${id} start with its own id`);
    assert.equal(out[id], undefined, `${id} listed once`);
    out[id] = [...rooms.slice(1)].sort();
  }
  return out;
}

for (const threads of THREAD_VARIANTS) {
  describe(`server utility methods (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    /** Three sockets in a fresh namespace: a in x; b in x and y; c in nothing. */
    async function trio(transports = ['websocket']) {
      const nsp = uniqueDynNamespace();
      const [a, b, c] = await Promise.all([0, 1, 2].map(() => connectSocket(server.url, { nsp, transports })));
      assert.equal(await a.emitWithAck('join', 'x'), 'joined');
      assert.equal(await b.emitWithAck('join', 'x'), 'joined');
      assert.equal(await b.emitWithAck('join', 'y'), 'joined');
      return { nsp, a, b, c };
    }

    it('fetchSockets: all sockets of the namespace with their rooms, or those of some rooms', T, async () => {
      const { a, b, c } = await trio();
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', {})), {
        [a.id]: ['x'], [b.id]: ['x', 'y'], [c.id]: [],
      });
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', { rooms: ['x'] })), { [a.id]: ['x'], [b.id]: ['x', 'y'] });
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', { rooms: ['y', 'x'] })), { [a.id]: ['x'], [b.id]: ['x', 'y'] });
      assert.deepEqual(byId(await a.emitWithAck('fetch-sockets', { rooms: [c.id] })), { [c.id]: [] });
      assert.deepEqual(await a.emitWithAck('fetch-sockets', { rooms: ['nobody'] }), []);
      // Other namespaces are not included.
      const other = await connectSocket(server.url, { nsp: uniqueDynNamespace() });
      assert.deepEqual(byId(await other.emitWithAck('fetch-sockets', {})), { [other.id]: [] });
    });

    it('fetchSockets sees a socket leave its room and leave the namespace', T, async () => {
      const { a, b, c } = await trio();
      assert.equal(await b.emitWithAck('leave', 'x'), 'left');
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', { rooms: ['x'] })), { [a.id]: ['x'] });
      const aId = a.id; // cleared by the client on disconnect
      const gone = waitFor(a, 'disconnect');
      a.disconnect();
      await gone;
      // The server handles the DISCONNECT packet asynchronously: poll briefly.
      const list = await eventually(async () => {
        const l = byId(await c.emitWithAck('fetch-sockets', {}));
        return aId in l ? null : l;
      }, { label: 'a gone from fetchSockets' });
      assert.deepEqual(list, { [b.id]: ['y'], [c.id]: [] });
    });

    it('socketsJoin: the selected sockets join a room', T, async () => {
      const { a, b, c } = await trio();
      assert.equal(await c.emitWithAck('sockets-join', { rooms: ['y'], room: 'z' }), 'ok');
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', { rooms: ['z'] })), { [b.id]: ['x', 'y', 'z'] });
      const bRooms = await b.emitWithAck('rooms');
      assert.equal(bRooms[0], b.id);
      assert.deepEqual(bRooms.slice(1).sort(), ['x', 'y', 'z']);

      assert.equal(await a.emitWithAck('sockets-join', { room: 'everyone' }), 'ok');
      assert.deepEqual(byId(await a.emitWithAck('fetch-sockets', { rooms: ['everyone'] })), {
        [a.id]: ['everyone', 'x'], [b.id]: ['everyone', 'x', 'y', 'z'], [c.id]: ['everyone'],
      });
      // A broadcast to the new room reaches all three.
      assert.equal(await a.emitWithAck('emit-to', { rooms: ['everyone'], event: 'hi', args: ['all'] }), 'sent');
      for (const s of [a, b, c]) assert.deepEqual(await s.log.next('hi'), ['all']);
    });

    it('socketsLeave: the selected sockets leave a room', T, async () => {
      const { a, b, c } = await trio();
      assert.equal(await c.emitWithAck('sockets-join', { room: 'all' }), 'ok');
      assert.equal(await c.emitWithAck('sockets-leave', { rooms: ['x'], room: 'all' }), 'ok');
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', {})), {
        [a.id]: ['x'], [b.id]: ['x', 'y'], [c.id]: ['all'],
      });
      assert.equal(await c.emitWithAck('sockets-leave', { room: 'x' }), 'ok');
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', {})), {
        [a.id]: [], [b.id]: ['y'], [c.id]: ['all'],
      });
      assert.deepEqual(await a.emitWithAck('rooms'), [a.id]);
      // Leaving a room one is not in is harmless.
      assert.equal(await c.emitWithAck('sockets-leave', { room: 'never-joined' }), 'ok');
    });

    it('disconnectSockets(false): the selected sockets get "io server disconnect", the others stay', T, async () => {
      const { a, b, c } = await trio();
      const bGone = waitFor(b, 'disconnect');
      assert.equal(await c.emitWithAck('disconnect-sockets', { rooms: ['y'], close: false }), 'ok');
      assert.equal((await bGone)[0], 'io server disconnect');
      assert.equal(b.connected, false);
      // a and c are untouched.
      assert.equal(await a.emitWithAck('message-with-ack', 'a ok'), 'a ok');
      assert.deepEqual(byId(await c.emitWithAck('fetch-sockets', {})), { [a.id]: ['x'], [c.id]: [] });
      assert.deepEqual(await c.emitWithAck('server-disconnect-reasons'), ['server namespace disconnect']);
    });

    it('disconnectSockets(false) keeps the Engine.IO connection for the other namespaces', T, async () => {
      const nsp = uniqueDynNamespace();
      const manager = newManager(server.url);
      const target = managerSocket(manager, nsp);
      const root = managerSocket(manager, '/');
      await whenConnected(target);
      await whenConnected(root);
      const engineId = manager.engine.id;
      const gone = waitFor(target, 'disconnect');
      assert.equal(await target.emitWithAck('disconnect-sockets', { close: false }), 'ok');
      assert.equal((await gone)[0], 'io server disconnect');
      assert.equal(await root.emitWithAck('message-with-ack', 'alive'), 'alive');
      assert.equal(manager.engine.id, engineId);
      assert.equal((await root.emitWithAck('conn-info')).eioId, engineId);
    });

    it('disconnectSockets(true) also closes the connection: every namespace on it is disconnected', T, async () => {
      const nsp = uniqueDynNamespace();
      const observer = await connectSocket(server.url, { nsp });
      const manager = newManager(server.url);
      const target = managerSocket(manager, nsp);
      const root = managerSocket(manager, '/');
      await whenConnected(target);
      await whenConnected(root);
      const targetGone = waitFor(target, 'disconnect');
      const rootGone = waitFor(root, 'disconnect');
      const engineClosed = waitFor(manager, 'close');
      // Only the target's id is selected; close=true takes its whole connection down.
      assert.equal(await observer.emitWithAck('disconnect-sockets', { rooms: [target.id], close: true }), 'ok');
      assert.equal((await targetGone)[0], 'io server disconnect');
      assert.equal((await rootGone)[0], 'io server disconnect');
      await engineClosed;
      // The observer (another connection, same namespace) is still there.
      assert.deepEqual(byId(await observer.emitWithAck('fetch-sockets', {})), { [observer.id]: [] });
      assert.deepEqual(await observer.emitWithAck('server-disconnect-reasons'), ['server namespace disconnect']);
    });

    it('the caller itself can be disconnected: it gets the ack first', T, async () => {
      const nsp = uniqueDynNamespace();
      const s = await connectSocket(server.url, { nsp, transports: ['polling'] });
      const order = [];
      const gone = waitFor(s, 'disconnect').then(([reason]) => order.push(`disconnect:${reason}`));
      const acked = s.emitWithAck('disconnect-sockets', { close: false }).then((v) => order.push(`ack:${v}`));
      await Promise.all([gone, acked]);
      assert.deepEqual(order, ['ack:ok', 'disconnect:io server disconnect']);
    });
  });
}
