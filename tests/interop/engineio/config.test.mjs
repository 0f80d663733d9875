// Server options other than the official suite's: enabled transports and a
// small maxPayload (fixture flags --transports / --max-payload).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { EioHttp, ERRORS, RawWs, assertEioError, openEioClient } from '../lib/eio.mjs';
import { EioSocket } from '../lib/peers.mjs';
import { waitFor, withTimeout } from '../lib/util.mjs';

const T = { timeout: 10_000 };
const RELAXED = { pingInterval: 10_000, pingTimeout: 5_000 };

describe('transports: polling only', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: { ...RELAXED, transports: ['polling'] } });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('the polling handshake offers no upgrade', T, async () => {
    const { open } = await h.handshake();
    assert.deepEqual(open.upgrades, []);
  });

  it('transport=websocket is unknown (plain GET → 400 code 0; WebSocket gets no session)', T, async () => {
    assertEioError(await h.request('GET', { EIO: 4, transport: 'websocket' }), ERRORS.UNKNOWN_TRANSPORT);
    const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }));
    await c.waitClosed(3000);
    assert.deepEqual(c.queue.filter((m) => String(m.data).startsWith('0')), []);
  });

  it('a websocket-only engine.io-client fails to open', T, async () => {
    const socket = new EioSocket(server.url, { path: server.path, transports: ['websocket'] });
    try {
      await waitFor(socket, 'error', { timeout: 5000, failOn: ['open'] });
    } finally {
      socket.close();
    }
  });

  it('engine.io-client with both transports stays on polling and works', T, async () => {
    const c = await openEioClient(server, { transports: ['polling', 'websocket'] });
    try {
      assert.equal(c.transportName, 'polling');
      assert.equal(await c.echo('hello'), 'hello');
      assert.equal(c.transportName, 'polling');
    } finally {
      c.close();
    }
  });
});

describe('transports: websocket only', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: { ...RELAXED, transports: ['websocket'] } });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('a polling handshake is refused with 400 code 0', T, async () => {
    assertEioError(await h.request('GET', { EIO: 4, transport: 'polling' }), ERRORS.UNKNOWN_TRANSPORT);
  });

  it('a WebSocket handshake works and offers no upgrade', T, async () => {
    const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }));
    try {
      await withTimeout(c.opened, 5000, 'WebSocket open');
      const open = await c.handshake();
      assert.deepEqual(open.upgrades, []);
      c.send('4hi');
      assert.deepEqual(await c.next(), { data: '4hi', binary: false });
    } finally {
      c.terminate();
    }
  });
});

describe('maxPayload 1000', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: { ...RELAXED, maxPayload: 1000 } });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('is advertised in the handshake (polling and WebSocket)', T, async () => {
    const { open } = await h.handshake();
    assert.equal(open.maxPayload, 1000);
    const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }));
    try {
      await withTimeout(c.opened, 5000, 'WebSocket open');
      assert.equal((await c.handshake()).maxPayload, 1000);
    } finally {
      c.terminate();
    }
  });

  it('POST of 1000 bytes is accepted, 1001 bytes → 413 and the session lives on', T, async () => {
    const { sid } = await h.handshake();
    const exact = `4${'a'.repeat(999)}`;
    const ok = await h.post(sid, exact);
    assert.equal(ok.status, 200);
    assert.equal((await h.poll(sid)).text, exact);
    // Counted in bytes, not characters: 'é' is 2 bytes in UTF-8.
    const over = await h.post(sid, `4${'é'.repeat(500)}`); // 1001 bytes, 501 characters
    assert.equal(over.status, 413);
    assert.equal((await h.post(sid, '4still')).status, 200);
    assert.equal((await h.poll(sid)).text, '4still');
  });

  it('a WebSocket frame of 1001 bytes closes the connection (1009)', T, async () => {
    const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }));
    await withTimeout(c.opened, 5000, 'WebSocket open');
    await c.handshake();
    c.send(`4${'b'.repeat(999)}`);
    assert.equal((await c.next()).data.length, 1000);
    c.send(`4${'b'.repeat(1000)}`);
    const { code } = await c.waitClosed(3000);
    if (code !== 1006) assert.equal(code, 1009);
  });

  it('engine.io-client splits its polling POSTs to fit the advertised maxPayload', T, async () => {
    const c = await openEioClient(server, { transports: ['polling'] });
    try {
      // 40 messages of 100 bytes: far more than one 1000-byte POST can hold.
      const sent = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(97)}`);
      const errors = [];
      c.socket.on('error', (e) => errors.push(e));
      for (const m of sent) c.socket.send(m);
      const got = [];
      for (let i = 0; i < sent.length; i++) got.push(await c.next(5000));
      assert.deepEqual(got, sent);
      assert.deepEqual(errors, []);
      assert.equal(c.closeInfo, null);
    } finally {
      c.close();
    }
  });
});
