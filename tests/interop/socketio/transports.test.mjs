// The main scenarios (event echo, acknowledgements, binary) over the three
// client transport set-ups: HTTP long-polling only, WebSocket only, and the
// default polling → WebSocket upgrade. See wire-formats.md §2.1, §2.4.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  TRANSPORT_VARIANTS, closeAllClients, connectSocket, countBinary, newSocket, normalizeBinary, whenConnected,
} from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const T = { timeout: 10_000 };

/** Connect and, for the upgrade variant, wait until the upgrade is done. */
async function connectOver(server, variant, opts = {}) {
  const socket = await connectSocket(server.url, { transports: variant.transports, ...opts });
  const engine = socket.io.engine;
  if (variant.final === 'websocket' && engine.transport.name !== 'websocket') {
    await waitFor(engine, 'upgrade', { failOn: ['upgradeError', 'close'] });
  }
  assert.equal(engine.transport.name, variant.final, 'client transport');
  return socket;
}

for (const threads of THREAD_VARIANTS) {
  describe(`transports (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    for (const variant of TRANSPORT_VARIANTS) {
      describe(variant.name, () => {
        it('connects; server and client agree on the transport and the Engine.IO session', T, async () => {
          const socket = await connectOver(server, variant);
          const info = await socket.emitWithAck('conn-info');
          assert.equal(info.id, socket.id);
          assert.equal(info.nsp, '/');
          assert.equal(info.eioId, socket.io.engine.id);
          assert.equal(info.transport, variant.final);
          assert.notEqual(socket.id, socket.io.engine.id, 'the socket id is not the Engine.IO sid');
          assert.match(socket.id, /^[\w-]{20}$/);
        });

        if (variant.transports.length === 2) {
          it('starts on polling and then upgrades to websocket', T, async () => {
            const socket = newSocket(server.url, { transports: variant.transports });
            const engine = socket.io.engine;
            // The first transport of the default set-up is always polling.
            const seen = [engine.transport.name];
            const upgraded = waitFor(engine, 'upgrade', { failOn: ['upgradeError', 'close'] });
            await whenConnected(socket);
            const [transport] = await upgraded;
            seen.push(transport.name);
            assert.deepEqual(seen, ['polling', 'websocket']);
            assert.equal(engine.transport.name, 'websocket');
            // Events flow over the upgraded connection.
            assert.equal(await socket.emitWithAck('message-with-ack', 'after upgrade'), 'after upgrade');
            const info = await socket.emitWithAck('conn-info');
            assert.equal(info.transport, 'websocket');
            assert.equal(info.eioId, engine.id, 'same Engine.IO session after the upgrade');
          });
        }

        it('the auth payload is echoed back first', T, async () => {
          const auth = { token: 'abc', n: 42, nested: { list: [1, 'two', null] } };
          const socket = await connectSocket(server.url, { transports: variant.transports, auth });
          assert.deepEqual(socket.log.entries[0].event, 'auth');
          assert.deepEqual(socket.log.entries[0].args, [auth]);
        });

        it('message → message-back echoes every JSON type', T, async () => {
          const socket = await connectOver(server, variant);
          const args = [1, '2', { 3: [true] }, null, false, -0.5, 'é😀\n"quoted"\u2028', [[], {}], { a: { b: { c: [1, [2, [3]]] } } }];
          socket.emit('message', ...args);
          const back = await socket.log.next('message-back');
          assert.deepEqual(back, JSON.parse(JSON.stringify(args)));
        });

        it('message with no argument → message-back with none', T, async () => {
          const socket = await connectOver(server, variant);
          socket.emit('message');
          assert.deepEqual(await socket.log.next('message-back'), []);
        });

        it('100 events in a burst come back complete and in order', T, async () => {
          const socket = await connectOver(server, variant);
          for (let i = 0; i < 100; i++) socket.emit('message', i, `payload-${i}`);
          const got = await socket.log.waitCount('message-back', 100);
          assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => [i, `payload-${i}`]));
        });

        it('a 200 kB text event round-trips', T, async () => {
          const socket = await connectOver(server, variant);
          const big = 'xé'.repeat(100_000);
          socket.emit('message', big);
          const [back] = await socket.log.next('message-back');
          assert.equal(back.length, big.length);
          assert.ok(back === big);
        });

        it('acks: callback and emitWithAck', T, async () => {
          const socket = await connectOver(server, variant);
          const viaCallback = await new Promise((resolve) => {
            socket.emit('message-with-ack', 1, '2', { 3: [false] }, (...res) => resolve(res));
          });
          assert.deepEqual(viaCallback, [1, '2', { 3: [false] }]);
          assert.deepEqual(await socket.emitWithAck('message-with-ack', { x: [1, 2] }), { x: [1, 2] });
        });

        it('binary event and binary ack', T, async () => {
          const socket = await connectOver(server, variant);
          const payload = [Buffer.from([1, 2, 3]), { nested: Buffer.from('héllo'), list: [Uint8Array.of(0, 255)] }, 'text'];
          socket.emit('message', ...payload);
          const back = await socket.log.next('message-back');
          assert.equal(countBinary(back), 3, 'binary stays binary');
          assert.deepEqual(normalizeBinary(back), normalizeBinary(payload));

          const acked = await new Promise((resolve) => {
            socket.emit('message-with-ack', Buffer.from([9, 8, 7]), { b: Buffer.alloc(0) }, (...res) => resolve(res));
          });
          assert.equal(countBinary(acked), 2);
          assert.deepEqual(normalizeBinary(acked), [Buffer.from([9, 8, 7]), { b: Buffer.alloc(0) }]);
        });

        it('server → client event with an ack answered by the client', T, async () => {
          const socket = await connectOver(server, variant);
          socket.on('question', (...args) => {
            const ack = args.pop();
            ack('answer', ...args);
          });
          const res = await socket.emitWithAck('server-ack', { event: 'question', args: [7, { q: 'why' }], timeout: 2000 });
          assert.deepEqual(res, { err: null, res: ['answer', 7, { q: 'why' }] });
        });
      });
    }
  });
}
