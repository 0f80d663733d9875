// Disconnections and their reasons on both sides (wire-formats.md §2.3):
// client namespace disconnect, server namespace disconnect (with and without
// closing the connection), transport close, ping timeout, connect timeout.
// Server-side reasons are read through `server-disconnect-reasons` from an
// observer socket in the same (fresh, dynamic) namespace.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from '../lib/peers.mjs';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  closeAllClients, connectSocket, managerSocket, newManager, uniqueDynNamespace, whenConnected,
} from '../lib/sio-client.mjs';
import { eventually, waitFor, withTimeout } from '../lib/util.mjs';

const T = { timeout: 10_000 };

/**
 * Wait until the namespace's server-side reasons equal `expected`; an element
 * of `expected` may be an array of acceptable alternatives.
 */
async function assertServerReasons(observer, expected, label) {
  const matches = (list) => list.length === expected.length
    && expected.every((e, i) => (Array.isArray(e) ? e.includes(list[i]) : e === list[i]));
  let last;
  try {
    await eventually(async () => {
      last = await observer.timeout(1000).emitWithAck('server-disconnect-reasons');
      return matches(last);
    }, { timeout: 3000, label });
  } catch {
    assert.fail(`${label}: server-side reasons ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
  }
}

/**
 * A raw WebSocket Engine.IO client that joins `nsp` and then ignores the
 * server's pings (it never answers "3"). Records every text frame and when
 * the connection closes.
 */
function rawSilentClient(server, nsp, { join = true } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  const startedAt = Date.now();
  let resolveJoined;
  const joined = new Promise((r) => { resolveJoined = r; });
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    frames.push(text);
    if (text?.startsWith('0{') && join) ws.send(`40${nsp},`);
    if (text?.startsWith(`40${nsp},{`)) resolveJoined(JSON.parse(text.slice(`40${nsp},`.length)));
  });
  ws.on('error', () => {});
  const closed = new Promise((resolve) => ws.once('close', () => resolve(Date.now() - startedAt)));
  return { ws, frames, joined, closed };
}

for (const threads of THREAD_VARIANTS) {
  describe(`disconnect reasons (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    for (const transports of [['websocket'], ['polling']]) {
      describe(transports[0], () => {
        it('client socket.disconnect() → client "io client disconnect", server "client namespace disconnect"', T, async () => {
          const nsp = uniqueDynNamespace();
          const observer = await connectSocket(server.url, { nsp });
          const socket = await connectSocket(server.url, { nsp, transports });
          const gone = waitFor(socket, 'disconnect');
          socket.disconnect();
          assert.equal((await gone)[0], 'io client disconnect');
          await assertServerReasons(observer, ['client namespace disconnect'], 'client disconnect');
        });

        it('disconnect-me false → client "io server disconnect", server "server namespace disconnect"; the connection stays', T, async () => {
          const nsp = uniqueDynNamespace();
          const observer = await connectSocket(server.url, { nsp });
          // reconnection on: an "io server disconnect" must still not reconnect.
          const manager = newManager(server.url, { transports, reconnection: true, reconnectionDelay: 50 });
          const socket = managerSocket(manager, nsp);
          const root = managerSocket(manager, '/');
          await whenConnected(socket);
          await whenConnected(root);
          const engineId = manager.engine.id;
          const oldId = socket.id;
          const gone = waitFor(socket, 'disconnect');
          socket.emit('disconnect-me', false);
          assert.equal((await gone)[0], 'io server disconnect');
          assert.equal(socket.active, false, 'no automatic reconnection after a server disconnect');
          await assertServerReasons(observer, ['server namespace disconnect'], 'disconnect-me false');
          // The other namespace on the same connection is unaffected.
          assert.equal(await root.emitWithAck('message-with-ack', 'alive'), 'alive');
          assert.equal(manager.engine.id, engineId);
          assert.equal(socket.connected, false);
          // The client may come back on its own initiative: new socket id.
          socket.connect();
          await whenConnected(socket);
          assert.ok(socket.id && socket.id !== oldId, 'a new socket id');
          assert.equal(await socket.emitWithAck('message-with-ack', 'back'), 'back');
          assert.equal(manager.engine.id, engineId, 'rejoined over the same connection');
        });

        it('disconnect-me true → every namespace of the connection gets "io server disconnect" and the connection closes', T, async () => {
          const nspA = uniqueDynNamespace();
          const nspB = uniqueDynNamespace();
          const observerA = await connectSocket(server.url, { nsp: nspA });
          const observerB = await connectSocket(server.url, { nsp: nspB });
          const manager = newManager(server.url, { transports });
          const a = managerSocket(manager, nspA);
          const b = managerSocket(manager, nspB);
          await whenConnected(a);
          await whenConnected(b);
          const aGone = waitFor(a, 'disconnect');
          const bGone = waitFor(b, 'disconnect');
          const closed = waitFor(manager, 'close');
          a.emit('disconnect-me', true);
          assert.equal((await aGone)[0], 'io server disconnect');
          assert.equal((await bGone)[0], 'io server disconnect');
          await closed;
          // The manager may report "close" while the engine still flushes its last POST; the
          // connection must then finish closing by itself.
          if (manager.engine && manager.engine.readyState !== 'closed') await waitFor(manager.engine, 'close');
          assert.equal(manager.engine?.readyState ?? 'closed', 'closed');
          await assertServerReasons(observerA, ['server namespace disconnect'], 'disconnect-me true (own namespace)');
          await assertServerReasons(observerB, ['server namespace disconnect'], 'disconnect-me true (other namespace)');
        });

        it('the client closes the Engine.IO connection → server "transport close"', T, async () => {
          const nsp = uniqueDynNamespace();
          const observer = await connectSocket(server.url, { nsp });
          const socket = await connectSocket(server.url, { nsp, transports });
          const gone = waitFor(socket, 'disconnect');
          socket.io.engine.close();
          await gone;
          await assertServerReasons(observer, ['transport close'], 'engine closed by the client');
        });
      });
    }

    it('the TCP connection drops under a WebSocket → server "transport close" (or "transport error")', T, async () => {
      const nsp = uniqueDynNamespace();
      const observer = await connectSocket(server.url, { nsp });
      const raw = rawSilentClient(server, nsp);
      await withTimeout(raw.joined, 3000, 'namespace join');
      raw.ws._socket.destroy();
      // Node says "transport error" instead when the drop hits a write in progress (ECONNRESET).
      await assertServerReasons(observer, [['transport close', 'transport error']], 'TCP drop');
    });

    it('a client that never answers pings → server "ping timeout" after pingInterval + pingTimeout', T, async () => {
      const nsp = uniqueDynNamespace();
      const observer = await connectSocket(server.url, { nsp });
      const raw = rawSilentClient(server, nsp);
      const connect = await withTimeout(raw.joined, 3000, 'namespace join');
      assert.match(connect.sid, /^[\w-]{20}$/);
      const closedAfter = await withTimeout(raw.closed, 5000, 'server closing the silent client');
      // 300 + 200 ms in the official setup; generous bounds for slow machines.
      assert.ok(closedAfter >= 450, `closed after ${closedAfter} ms, not before pingInterval + pingTimeout`);
      assert.ok(raw.frames.includes('2'), 'the server did ping');
      await assertServerReasons(observer, ['ping timeout'], 'silent client');
    });

    it('a connection that joins no namespace is closed after connectTimeout (1000 ms)', T, async () => {
      const raw = rawSilentClient(server, '/', { join: false });
      // Answer pings so that only the connect timeout can end the session.
      raw.ws.on('message', (data) => {
        if (data.toString() === '2') raw.ws.send('3');
      });
      const closedAfter = await withTimeout(raw.closed, 5000, 'connect timeout');
      assert.ok(closedAfter >= 900, `closed after ${closedAfter} ms, expected about 1000`);
      assert.ok(raw.frames[0]?.startsWith('0{'), 'the Engine.IO handshake happened');
      assert.ok(!raw.frames.some((f) => f?.startsWith('40')), 'never joined a namespace');
    });
  });
}
