// Automatic reconnection of socket.io-client after the server restarts on the
// same port: disconnect, reconnect with a new socket id, events flow again.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  TRANSPORT_VARIANTS, closeAllClients, managerSocket, newManager, newSocket, whenConnected,
} from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const T = { timeout: 20_000 };
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };
// What a client may see when its server goes away: a clean close, an error, or
// (if the close frame is lost) the heartbeat.
const SERVER_GONE_REASONS = ['transport close', 'transport error', 'ping timeout'];

for (const threads of THREAD_VARIANTS) {
  describe(`reconnection after a server restart (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    for (const variant of TRANSPORT_VARIANTS) {
      it(`${variant.name}: disconnect, then connect again with a new id; events flow`, T, async () => {
        const auth = { token: 'again' };
        const socket = newSocket(server.url, { transports: variant.transports, auth, ...RECONNECT });
        assert.deepEqual(await whenConnected(socket), auth);
        const firstId = socket.id;
        assert.equal(await socket.emitWithAck('message-with-ack', 'before'), 'before');

        const disconnected = waitFor(socket, 'disconnect', { timeout: 5000 });
        const reconnected = waitFor(socket.io, 'reconnect', { timeout: 10_000 });
        await server.restart();

        const [reason] = await disconnected;
        assert.ok(SERVER_GONE_REASONS.includes(reason), `disconnect reason ${reason}`);
        assert.equal(socket.active, true, 'the client keeps trying');
        const [attempts] = await reconnected;
        assert.ok(attempts >= 1, 'at least one reconnection attempt');
        // The socket reconnects its namespace: a new CONNECT, new id, auth sent again.
        assert.deepEqual(await whenConnected(socket, { timeout: 5000 }), auth);
        assert.ok(socket.id && socket.id !== firstId, 'a new socket id');
        assert.equal(await socket.timeout(3000).emitWithAck('message-with-ack', 'after'), 'after');
        socket.emit('message', 'echo after restart');
        assert.deepEqual(await socket.log.next('message-back'), ['echo after restart']);
        const info = await socket.emitWithAck('conn-info');
        assert.equal(info.id, socket.id);
        assert.equal(info.eioId, socket.io.engine.id);
      });
    }

    it('several namespaces of one Manager all come back', T, async () => {
      const manager = newManager(server.url, { transports: ['websocket'], ...RECONNECT });
      const sockets = ['/', '/custom', '/dyn-77'].map((nsp) => managerSocket(manager, nsp));
      for (const s of sockets) await whenConnected(s);
      const ids = sockets.map((s) => s.id);
      const engineId = manager.engine.id;

      const back = sockets.map((s) => waitFor(s, 'connect', { timeout: 10_000 }));
      await server.restart();
      await Promise.all(back);
      for (const [i, s] of sockets.entries()) {
        await whenConnected(s, { timeout: 5000 });
        assert.notEqual(s.id, ids[i]);
        const info = await s.timeout(3000).emitWithAck('conn-info');
        assert.equal(info.nsp, ['/', '/custom', '/dyn-77'][i]);
      }
      assert.notEqual(manager.engine.id, engineId, 'a new Engine.IO session');
      assert.deepEqual(await sockets[2].log.waitCount('dyn-hello', 2), [['/dyn-77'], ['/dyn-77']], 'dyn-hello on each connection');
      // One Engine.IO session shared by the three, as before.
      const eioIds = await Promise.all(sockets.map(async (s) => (await s.emitWithAck('conn-info')).eioId));
      assert.deepEqual(eioIds, [manager.engine.id, manager.engine.id, manager.engine.id]);
    });
  });
}
