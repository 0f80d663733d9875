// Acknowledgements in both directions, ack ids, and ack timeouts on either side.
// See wire-formats.md §2.1 (ack id), §2.4.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  closeAllClients, connectSocket, managerSocket, newManager, uniqueDynNamespace, whenConnected,
} from '../lib/sio-client.mjs';

const T = { timeout: 10_000 };
const TIMEOUT_ERROR = 'operation has timed out';

for (const threads of THREAD_VARIANTS) {
  describe(`acknowledgements (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    describe('client → server', () => {
      it('the ack callback gets every argument back', T, async () => {
        const socket = await connectSocket(server.url);
        const res = await new Promise((resolve) => {
          socket.emit('message-with-ack', 1, '2', { 3: [false] }, [null, true], (...args) => resolve(args));
        });
        assert.deepEqual(res, [1, '2', { 3: [false] }, [null, true]]);
      });

      it('an ack with no argument', T, async () => {
        const socket = await connectSocket(server.url);
        const res = await new Promise((resolve) => socket.emit('message-with-ack', (...args) => resolve(args)));
        assert.deepEqual(res, []);
      });

      it('emitWithAck resolves with the first ack argument', T, async () => {
        const socket = await connectSocket(server.url);
        assert.equal(await socket.emitWithAck('message-with-ack', 'first', 'second'), 'first');
        assert.deepEqual(await socket.emitWithAck('message-with-ack', { deep: [{ x: 1 }] }), { deep: [{ x: 1 }] });
      });

      it('50 concurrent acks are each routed to their own callback', T, async () => {
        const socket = await connectSocket(server.url);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => socket.emitWithAck('message-with-ack', { i, s: `v${i}` })));
        assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => ({ i, s: `v${i}` })));
      });

      it('acks in several namespaces of one connection do not mix', T, async () => {
        const manager = newManager(server.url, { transports: ['polling'] });
        const sockets = ['/', '/custom', uniqueDynNamespace()].map((nsp) => managerSocket(manager, nsp));
        for (const s of sockets) await whenConnected(s);
        const jobs = [];
        for (let round = 0; round < 10; round++) {
          for (const s of sockets) jobs.push(s.emitWithAck('message-with-ack', `${s.nsp}#${round}`).then((v) => [s.nsp, round, v]));
        }
        for (const [nsp, round, v] of await Promise.all(jobs)) assert.equal(v, `${nsp}#${round}`);
      });

      it('socket.timeout(ms).emitWithAck rejects when the server never acks', T, async () => {
        const socket = await connectSocket(server.url);
        const started = Date.now();
        await assert.rejects(socket.timeout(200).emitWithAck('never-acked', 1), (err) => {
          assert.ok(err instanceof Error);
          assert.equal(err.message, TIMEOUT_ERROR);
          return true;
        });
        assert.ok(Date.now() - started >= 190, 'not before the timeout');
        // The connection is fine afterwards.
        assert.equal(await socket.emitWithAck('message-with-ack', 'ok'), 'ok');
      });

      it('socket.timeout(ms).emit(…, cb) gets (null, …args) when the server answers in time', T, async () => {
        const socket = await connectSocket(server.url);
        const res = await new Promise((resolve) => {
          socket.timeout(2000).emit('message-with-ack', 5, 'five', (...args) => resolve(args));
        });
        assert.deepEqual(res, [null, 5, 'five']);
        assert.equal(await socket.timeout(2000).emitWithAck('message-with-ack', 6), 6);
      });
    });

    describe('server → client', () => {
      it('the client answers; the server gets every argument', T, async () => {
        const socket = await connectSocket(server.url);
        socket.on('q', (...args) => {
          const ack = args.pop();
          ack(...args.reverse(), 'done');
        });
        const res = await socket.emitWithAck('server-ack', { event: 'q', args: [1, { two: 2 }, 'three'], timeout: 2000 });
        assert.deepEqual(res, { err: null, res: ['three', { two: 2 }, 1, 'done'] });
      });

      it('the client answers with no argument', T, async () => {
        const socket = await connectSocket(server.url);
        socket.on('q0', (ack) => ack());
        assert.deepEqual(await socket.emitWithAck('server-ack', { event: 'q0', args: [], timeout: 2000 }), { err: null, res: [] });
      });

      it('concurrent server acks answered in reverse order reach the right callbacks', T, async () => {
        const socket = await connectSocket(server.url, { nsp: uniqueDynNamespace() });
        const pending = [];
        socket.on('q', (n, ack) => {
          pending.push(() => ack(`answer-${n}`));
          if (pending.length === 5) for (const answer of pending.reverse()) answer();
        });
        const results = await Promise.all([0, 1, 2, 3, 4].map((n) =>
          socket.emitWithAck('server-ack', { event: 'q', args: [n], timeout: 3000 })));
        assert.deepEqual(results, [0, 1, 2, 3, 4].map((n) => ({ err: null, res: [`answer-${n}`] })));
      });

      it('times out with "operation has timed out" when the client never answers', T, async () => {
        const socket = await connectSocket(server.url);
        // No listener for "ignored-question" on the client.
        const started = Date.now();
        const res = await socket.emitWithAck('server-ack', { event: 'ignored-question', args: ['x'], timeout: 200 });
        assert.deepEqual(res, { err: TIMEOUT_ERROR, res: [] });
        assert.ok(Date.now() - started >= 190, 'not before the timeout');
        // The question itself did reach the client.
        const [arg, ack] = await socket.log.next('ignored-question');
        assert.equal(arg, 'x');
        assert.equal(typeof ack, 'function', 'the server asked for an ack');
      });

      it('a late answer after the server timeout is ignored and the connection stays up', T, async () => {
        const socket = await connectSocket(server.url);
        let lateAck;
        socket.on('slow', (ack) => {
          lateAck = ack;
        });
        const res = await socket.emitWithAck('server-ack', { event: 'slow', args: [], timeout: 200 });
        assert.deepEqual(res, { err: TIMEOUT_ERROR, res: [] });
        assert.equal(typeof lateAck, 'function');
        lateAck('too late');
        assert.equal(await socket.emitWithAck('message-with-ack', 'still connected'), 'still connected');
        assert.equal(socket.connected, true);
      });
    });
  });
}
