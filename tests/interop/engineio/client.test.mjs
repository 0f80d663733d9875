// Interop with the real engine.io-client (6.6.x) Socket: polling only, WebSocket
// only, and polling → WebSocket upgrade.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { EioHttp, ERRORS, SID_RE, assertEioError, openEioClient } from '../lib/eio.mjs';
import { eventually, waitFor, withTimeout } from '../lib/util.mjs';

const T = { timeout: 15_000 };

// The official suite's pingInterval (300 ms) so that heartbeats really happen
// during the tests, with a pingTimeout that tolerates a loaded machine.
const OPTIONS = { pingInterval: 300, pingTimeout: 3000 };

const MODES = [
  { name: 'polling only', opts: { transports: ['polling'] }, expectTransport: 'polling' },
  { name: 'websocket only', opts: { transports: ['websocket'] }, expectTransport: 'websocket' },
  { name: 'polling → websocket upgrade', opts: { transports: ['polling', 'websocket'] }, expectTransport: 'websocket', upgrade: true },
];

/** Open a client in `mode`; for the upgrade mode, wait for the completed upgrade. */
async function connect(server, mode) {
  const c = await openEioClient(server, mode.opts);
  if (mode.upgrade) {
    if (c.transportName !== 'websocket') {
      const [transport] = await waitFor(c.socket, 'upgrade', { timeout: 5000, failOn: ['close', 'upgradeError'] });
      assert.equal(transport.name, 'websocket');
    }
  }
  assert.equal(c.transportName, mode.expectTransport);
  return c;
}

describe('engine.io-client interop', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: OPTIONS });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  for (const mode of MODES) {
    describe(mode.name, () => {
      it('opens a session (transport, sid, upgrade)', T, async () => {
        const c = await openEioClient(server, mode.opts);
        try {
          assert.match(c.id, SID_RE);
          if (mode.upgrade) {
            // Opens over polling, the handshake offers websocket, the client upgrades.
            assert.equal(c.transportName, 'polling');
            const upgrading = waitFor(c.socket, 'upgrading', { timeout: 5000 });
            const [transport] = await waitFor(c.socket, 'upgrade', { timeout: 5000, failOn: ['close', 'upgradeError'] });
            assert.equal(transport.name, 'websocket');
            await upgrading;
            assert.equal(c.transportName, 'websocket');
            assert.equal(c.id, c.socket.id, 'same session after the upgrade');
          } else {
            assert.equal(c.transportName, mode.expectTransport);
          }
          assert.equal(c.socket.readyState, 'open');
        } finally {
          c.close();
        }
      });

      it('echoes text, including multi-byte UTF-8', T, async () => {
        const c = await connect(server, mode);
        try {
          assert.equal(await c.echo('hello'), 'hello');
          assert.equal(await c.echo('héllo wörld ✓ 日本語 😀'), 'héllo wörld ✓ 日本語 😀');
          // An empty message travels as the bare packet `4`, which engine.io-parser
          // decodes as `undefined` data.
          assert.equal(await c.echo(''), undefined);
          assert.equal(await c.echo('after-empty'), 'after-empty');
        } finally {
          c.close();
        }
      });

      it('echoes binary (Uint8Array and Buffer) as binary', T, async () => {
        const c = await connect(server, mode);
        try {
          const u8 = await c.echo(new Uint8Array([1, 2, 3, 4]));
          assert.ok(Buffer.isBuffer(u8), `binary reply expected, got ${typeof u8}`);
          assert.deepEqual([...u8], [1, 2, 3, 4]);
          const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
          const back = await c.echo(all);
          assert.ok(Buffer.isBuffer(back));
          assert.ok(back.equals(all), 'all 256 byte values round-trip');
        } finally {
          c.close();
        }
      });

      it('echoes a ~1 MB text message (the largest that fits maxPayload)', T, async () => {
        const c = await connect(server, mode);
        try {
          // maxPayload is 1 000 000 bytes and the packet adds its type byte '4'.
          const size = 999_999;
          const pattern = '0123456789abcdefghijklmnopqrstuvwxyz';
          const big = pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
          const back = await c.echo(big, 10_000);
          assert.equal(typeof back, 'string');
          assert.equal(back.length, size);
          assert.ok(back === big, '1 MB message content differs');
          assert.equal(await c.echo('after-big'), 'after-big');
        } finally {
          c.close();
        }
      });

      it('echoes many messages in order (text and binary interleaved)', T, async () => {
        const c = await connect(server, mode);
        try {
          const N = 300;
          const sent = [];
          for (let i = 0; i < N; i++) {
            const m = i % 5 === 4 ? Buffer.from([i & 0xff, (i >> 8) & 0xff]) : `msg-${i}`;
            sent.push(m);
            c.socket.send(m);
          }
          for (let i = 0; i < N; i++) {
            const got = await c.next(10_000);
            if (Buffer.isBuffer(sent[i])) {
              assert.ok(Buffer.isBuffer(got) && got.equals(sent[i]), `message ${i}: binary expected`);
            } else {
              assert.equal(got, sent[i], `message ${i}`);
            }
          }
        } finally {
          c.close();
        }
      });

      it('heartbeat keeps the session alive for more than 3 ping intervals', T, async () => {
        const t0 = Date.now(); // before the handshake: the server's timers cannot start earlier
        const c = await connect(server, mode);
        try {
          // c.pings counts from the handshake. 4 pings at pingInterval 300 ms: ~1.2 s.
          await eventually(() => c.pings >= 4, { timeout: 6000, label: '4 server pings' });
          // The n-th ping cannot leave the server before n × pingInterval.
          assert.ok(Date.now() - t0 >= 4 * OPTIONS.pingInterval - 20, `4 pings within ${Date.now() - t0} ms`);
          assert.equal(c.closeInfo, null, 'no close during the heartbeat');
          assert.equal(c.socket.readyState, 'open');
          assert.equal(c.transportName, mode.expectTransport);
          assert.equal(await c.echo('still-there'), 'still-there');
        } finally {
          c.close();
        }
      });

      it('server-initiated close: "close-me" → client "close" (transport close)', T, async () => {
        const c = await connect(server, mode);
        const sid = c.id;
        c.socket.send('close-me');
        const [reason] = await c.waitClose(5000);
        assert.equal(reason, 'transport close');
        await eventually(async () => {
          assertEioError(await h.poll(sid, { timeout: 1000 }), ERRORS.UNKNOWN_SID);
          return true;
        }, { timeout: 3000, label: 'session forgotten by the server' });
      });

      it('client-initiated close: the server forgets the session (GET with that sid → 400 code 1)', T, async () => {
        const c = await connect(server, mode);
        const sid = c.id;
        assert.equal(await c.echo('before-close'), 'before-close');
        c.close();
        const [reason] = await c.waitClose(5000);
        assert.equal(reason, 'forced close');
        await eventually(async () => {
          assertEioError(await h.poll(sid, { timeout: 1000 }), ERRORS.UNKNOWN_SID);
          return true;
        }, { timeout: 3000, label: 'session forgotten by the server' });
      });
    });
  }

  it('many clients at once, each gets its own echoes', T, async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      connect(server, MODES[i % MODES.length])));
    try {
      assert.equal(new Set(clients.map((c) => c.id)).size, clients.length, 'distinct sids');
      const replies = await withTimeout(Promise.all(clients.map((c, i) => c.echo(`client-${i}`))), 10_000, 'echoes');
      replies.forEach((r, i) => assert.equal(r, `client-${i}`));
    } finally {
      for (const c of clients) c.close();
    }
  });
});
