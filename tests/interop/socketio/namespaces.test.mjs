// Namespaces: several multiplexed on one Engine.IO connection, auth per
// namespace, dynamic namespaces, unknown namespaces, a connect middleware that
// refuses with an error carrying data, the catch-all listener on "/".
// See wire-formats.md §2.2.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  closeAllClients, connectSocket, managerSocket, newManager, newSocket, whenConnected,
} from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const T = { timeout: 10_000 };

for (const threads of THREAD_VARIANTS) {
  describe(`namespaces (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    for (const transports of [['websocket'], ['polling']]) {
      it(`/, /custom and /dyn-42 multiplexed on one connection (${transports[0]})`, T, async () => {
        const manager = newManager(server.url, { transports });
        const auths = {
          '/': { who: 'root' },
          '/custom': { who: 'custom', n: [1, 2] },
          '/dyn-42': { who: 'dynamic' },
        };
        const sockets = {};
        for (const nsp of Object.keys(auths)) sockets[nsp] = managerSocket(manager, nsp, { auth: auths[nsp] });

        for (const [nsp, socket] of Object.entries(sockets)) {
          assert.deepEqual(await whenConnected(socket), auths[nsp], `auth echo in ${nsp}`);
        }
        assert.deepEqual(await sockets['/dyn-42'].log.next('dyn-hello'), ['/dyn-42']);
        // dyn-hello comes right after auth.
        assert.deepEqual(sockets['/dyn-42'].log.entries.slice(0, 2).map((e) => e.event), ['auth', 'dyn-hello']);
        assert.equal(sockets['/'].log.count('dyn-hello'), 0);
        assert.equal(sockets['/custom'].log.count('dyn-hello'), 0);

        // One Engine.IO session on both sides, distinct socket ids per namespace.
        const engineId = manager.engine.id;
        const infos = {};
        for (const [nsp, socket] of Object.entries(sockets)) {
          infos[nsp] = await socket.emitWithAck('conn-info');
          assert.equal(socket.io, manager);
          assert.equal(infos[nsp].eioId, engineId, `server-side Engine.IO sid in ${nsp}`);
          assert.equal(infos[nsp].nsp, nsp);
          assert.equal(infos[nsp].id, socket.id);
        }
        const ids = Object.values(sockets).map((s) => s.id);
        assert.equal(new Set([...ids, engineId]).size, 4, 'socket ids distinct from each other and from the Engine.IO sid');

        // Events stay in their namespace.
        sockets['/custom'].emit('message', 'to custom');
        sockets['/dyn-42'].emit('message', 'to dyn');
        assert.deepEqual(await sockets['/custom'].log.next('message-back'), ['to custom']);
        assert.deepEqual(await sockets['/dyn-42'].log.next('message-back'), ['to dyn']);
        assert.equal(await sockets['/'].emitWithAck('message-with-ack', 'fence'), 'fence');
        assert.equal(sockets['/'].log.count('message-back'), 0);
        assert.equal(sockets['/custom'].log.count('message-back'), 1);
        assert.equal(sockets['/dyn-42'].log.count('message-back'), 1);

        // Leaving one namespace does not affect the others.
        const gone = waitFor(sockets['/custom'], 'disconnect');
        sockets['/custom'].disconnect();
        assert.equal((await gone)[0], 'io client disconnect');
        assert.equal(await sockets['/'].emitWithAck('message-with-ack', 'still'), 'still');
        assert.equal(await sockets['/dyn-42'].emitWithAck('message-with-ack', 'here'), 'here');
        assert.equal(manager.engine.id, engineId);
      });
    }

    it('auth defaults to {} when the client sends none', T, async () => {
      const socket = await connectSocket(server.url, { nsp: '/custom' });
      assert.deepEqual(socket.log.entries[0], { event: 'auth', args: [{}], taken: true });
    });

    it('dynamic namespaces are created on demand, each with its own name', T, async () => {
      const a = await connectSocket(server.url, { nsp: '/dyn-7' });
      const b = await connectSocket(server.url, { nsp: '/dyn-123456' });
      assert.deepEqual(await a.log.next('dyn-hello'), ['/dyn-7']);
      assert.deepEqual(await b.log.next('dyn-hello'), ['/dyn-123456']);
      assert.equal((await a.emitWithAck('conn-info')).nsp, '/dyn-7');
      assert.equal((await b.emitWithAck('conn-info')).nsp, '/dyn-123456');
    });

    for (const nsp of ['/random', '/dyn-', '/dyn-12a', '/custom/sub', '/dyn-1/x']) {
      it(`unknown namespace ${nsp} → connect_error "Invalid namespace"`, T, async () => {
        const socket = newSocket(server.url, { nsp });
        const [err] = await waitFor(socket, 'connect_error', { failOn: ['connect'] });
        assert.ok(err instanceof Error);
        assert.equal(err.message, 'Invalid namespace');
        assert.equal(socket.connected, false);
      });
    }

    it('an unknown namespace does not break the shared connection', T, async () => {
      const manager = newManager(server.url);
      const root = managerSocket(manager, '/');
      await whenConnected(root);
      const engineId = manager.engine.id;
      const bad = managerSocket(manager, '/nope');
      const [err] = await waitFor(bad, 'connect_error', { failOn: ['connect'] });
      assert.equal(err.message, 'Invalid namespace');
      assert.equal(await root.emitWithAck('message-with-ack', 'alive'), 'alive');
      const custom = managerSocket(manager, '/custom');
      await whenConnected(custom);
      assert.equal(manager.engine.id, engineId);
      assert.equal((await custom.emitWithAck('conn-info')).eioId, engineId);
    });

    describe('/admin middleware', () => {
      for (const [label, auth] of [
        ['a bad token', { token: 'bad' }],
        ['no auth at all', undefined],
        ['a non-string token', { token: 1 }],
      ]) {
        it(`${label} → connect_error "unauthorized" with data`, T, async () => {
          const socket = newSocket(server.url, { nsp: '/admin', ...(auth ? { auth } : {}) });
          const [err] = await waitFor(socket, 'connect_error', { failOn: ['connect'] });
          assert.ok(err instanceof Error);
          assert.equal(err.message, 'unauthorized');
          assert.deepEqual(err.data, { reason: 'bad token' });
          assert.equal(socket.log.count('auth'), 0, 'no event from a refused namespace');
        });
      }

      it('a good token connects and gets its auth echoed', T, async () => {
        const socket = await connectSocket(server.url, { nsp: '/admin', auth: { token: 'good', extra: [1] } });
        assert.deepEqual(socket.log.entries[0].args, [{ token: 'good', extra: [1] }]);
        assert.equal((await socket.emitWithAck('conn-info')).nsp, '/admin');
      });

      it('a refusal in /admin leaves / on the same connection working', T, async () => {
        const manager = newManager(server.url);
        const root = managerSocket(manager, '/');
        const admin = managerSocket(manager, '/admin', { auth: { token: 'nope' } });
        const [err] = await waitFor(admin, 'connect_error', { failOn: ['connect'] });
        assert.equal(err.message, 'unauthorized');
        await whenConnected(root);
        assert.equal(await root.emitWithAck('message-with-ack', 'ok'), 'ok');
      });
    });

    describe('catch-all listener on /', () => {
      it('events named any:* come back as any-back with their arguments', T, async () => {
        const socket = await connectSocket(server.url);
        socket.emit('any:ping', 1, { a: [2] });
        socket.emit('any:', 'empty suffix');
        socket.emit('other', 'ignored');
        assert.deepEqual(await socket.log.next('any-back'), ['any:ping', 1, { a: [2] }]);
        assert.deepEqual(await socket.log.next('any-back'), ['any:', 'empty suffix']);
        assert.equal(await socket.emitWithAck('message-with-ack', 'fence'), 'fence');
        assert.equal(socket.log.count('any-back'), 2, '"other" is not echoed');
      });

      it('is not installed on /custom', T, async () => {
        const socket = await connectSocket(server.url, { nsp: '/custom' });
        socket.emit('any:ping', 1);
        assert.equal(await socket.emitWithAck('message-with-ack', 'fence'), 'fence');
        assert.equal(socket.log.count('any-back'), 0);
      });
    });
  });
}
