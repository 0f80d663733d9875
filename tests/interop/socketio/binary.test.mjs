// Binary attachments in both directions: nested at several depths, several
// attachments per packet, empty and large buffers, binary acks both ways, binary
// broadcasts. See wire-formats.md §2.1 (BINARY_EVENT / BINARY_ACK).
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_VARIANTS, startSioServer, threadsLabel } from '../lib/server.mjs';
import {
  TRANSPORT_VARIANTS, closeAllClients, connectSocket, countBinary, normalizeBinary, uniqueDynNamespace,
} from '../lib/sio-client.mjs';

const T = { timeout: 10_000 };

const bytes = (...b) => Buffer.from(b);
const pattern = (n, seed = 0) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

/** Echo `args` through message → message-back and compare, binary staying binary. */
async function assertEcho(socket, args, label) {
  socket.emit('message', ...args);
  const back = await socket.log.next('message-back');
  assert.equal(countBinary(back), countBinary(args), `${label}: number of binary values`);
  assert.deepEqual(normalizeBinary(back), normalizeBinary(args), label);
}

for (const threads of THREAD_VARIANTS) {
  describe(`binary (${threadsLabel(threads)})`, () => {
    let server;
    before(async () => {
      server = await startSioServer({ threads });
    });
    afterEach(() => closeAllClients());
    after(() => server?.stop());

    for (const variant of TRANSPORT_VARIANTS) {
      describe(variant.name, () => {
        const connect = (opts = {}) => connectSocket(server.url, { transports: variant.transports, ...opts });

        it('buffers nested at several depths, mixed with JSON', T, async () => {
          const socket = await connect();
          await assertEcho(socket, [
            bytes(1, 2, 3),
            { a: bytes(4), b: [1, bytes(5, 6), { c: bytes(7, 8, 9), d: 'text' }] },
            'plain',
            [[[bytes(10)]]],
            { deep: { deeper: { deepest: [{ buf: bytes(0, 255, 128) }] } } },
            42,
          ], 'nested');
        });

        it('Uint8Array, ArrayBuffer and typed-array views are sent as binary', T, async () => {
          const socket = await connect();
          const u8 = Uint8Array.of(1, 2, 3, 4);
          const ab = Uint8Array.of(5, 6, 7).buffer;
          const view = new Uint16Array([0x0102, 0x0304]);
          socket.emit('message', u8, { ab }, [view]);
          const back = await socket.log.next('message-back');
          assert.equal(countBinary(back), 3);
          assert.deepEqual(normalizeBinary(back), [
            Buffer.from(u8), { ab: Buffer.from(new Uint8Array(ab)) }, [Buffer.from(view.buffer)],
          ]);
        });

        it('10 attachments in one packet (the parser limit), in order', T, async () => {
          const socket = await connect();
          const bufs = Array.from({ length: 10 }, (_, i) => pattern(i + 1, i));
          await assertEcho(socket, [bufs.slice(0, 5), { rest: bufs.slice(5) }], '10 attachments');
        });

        it('empty buffer and a 300 kB buffer', T, async () => {
          const socket = await connect();
          await assertEcho(socket, [Buffer.alloc(0), 'between', pattern(300_000, 7)], 'empty + large');
        });

        it('the same buffer twice in one packet', T, async () => {
          const socket = await connect();
          const b = bytes(1, 1, 2, 3, 5, 8);
          await assertEcho(socket, [b, { again: b }], 'duplicate');
        });

        it('binary and text events interleaved keep their order', T, async () => {
          const socket = await connect();
          for (let i = 0; i < 20; i++) {
            if (i % 2) socket.emit('message', i, bytes(i));
            else socket.emit('message', i, `text-${i}`);
          }
          const got = await socket.log.waitCount('message-back', 20);
          assert.deepEqual(normalizeBinary(got),
            Array.from({ length: 20 }, (_, i) => [i, i % 2 ? bytes(i) : `text-${i}`]));
        });

        it('binary ack from the server (client → server ack)', T, async () => {
          const socket = await connect();
          const args = [bytes(1), { x: [bytes(2, 3)] }, 'and text'];
          const res = await new Promise((resolve) => socket.emit('message-with-ack', ...args, (...r) => resolve(r)));
          assert.equal(countBinary(res), 2);
          assert.deepEqual(normalizeBinary(res), args);
          const single = await socket.emitWithAck('message-with-ack', pattern(1000));
          assert.deepEqual(normalizeBinary(single), pattern(1000));
        });

        it('binary event to the client and binary ack from the client (server → client ack)', T, async () => {
          const socket = await connect();
          socket.on('bin-question', (buf, obj, ack) => {
            assert.ok(Buffer.isBuffer(buf) || buf instanceof ArrayBuffer, 'the question carries binary');
            const b = normalizeBinary(buf);
            ack({ reversed: Buffer.from(b).reverse(), echo: normalizeBinary(obj) }, bytes(0xff));
          });
          const res = await socket.emitWithAck('server-ack', {
            event: 'bin-question', args: [bytes(1, 2, 3), { inner: [bytes(9)] }], timeout: 2000,
          });
          assert.equal(res.err, null);
          assert.equal(countBinary(res.res), 3);
          assert.deepEqual(normalizeBinary(res.res), [{ reversed: bytes(3, 2, 1), echo: { inner: [bytes(9)] } }, bytes(0xff)]);
        });
      });
    }

    it('a binary broadcast reaches every socket of the namespace', T, async () => {
      const nsp = uniqueDynNamespace();
      const sockets = await Promise.all(TRANSPORT_VARIANTS.map((v) => connectSocket(server.url, { nsp, transports: v.transports })));
      const payload = [{ file: pattern(5000, 3), parts: [bytes(1), bytes(2)] }, 'name'];
      assert.equal(await sockets[0].emitWithAck('emit-to', { event: 'bin-news', args: payload }), 'sent');
      for (const s of sockets) {
        const got = await s.log.next('bin-news');
        assert.equal(countBinary(got), 3);
        assert.deepEqual(normalizeBinary(got), payload);
      }
    });
  });
}
