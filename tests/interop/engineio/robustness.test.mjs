// Misbehaving TCP clients must neither disturb healthy Engine.IO sessions nor
// stay connected forever.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { referenceHasHeaderTimeout, startServer, usingFixture } from '../lib/server.mjs';
import { openEioClient } from '../lib/eio.mjs';
import { rawTcp, sleep, withTimeout } from '../lib/util.mjs';

// Heartbeats run during the abuse (the server's timers must keep firing); the
// generous pingTimeout keeps a CPU-starved test machine from failing the test.
const OPTIONS = { pingInterval: 300, pingTimeout: 3000 };

/**
 * Healthy engine.io-client sessions echoing messages back to back until stop().
 * stop() resolves with { echoes, maxLatencyMs, failures }.
 */
function healthyTraffic(clients) {
  let running = true;
  const failures = [];
  let echoes = 0;
  let maxLatencyMs = 0;
  const loops = clients.map(async (c, k) => {
    for (let i = 0; running; i++) {
      const msg = `healthy-${k}-${i}`;
      const t0 = Date.now();
      try {
        const back = await c.echo(msg, 5000);
        if (back !== msg) failures.push(`client ${k}: got ${JSON.stringify(back)} for ${msg}`);
      } catch (err) {
        failures.push(`client ${k}: ${err.message}`);
        return;
      }
      maxLatencyMs = Math.max(maxLatencyMs, Date.now() - t0);
      echoes += 1;
    }
  });
  return {
    get echoes() {
      return echoes;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const [k, c] of clients.entries()) {
        if (c.closeInfo) failures.push(`client ${k} closed: ${c.closeInfo.reason}`);
      }
      return { echoes, maxLatencyMs, failures };
    },
  };
}

/** Whatever the server answered to a bad client must be an HTTP 4xx (or nothing). */
function assertNothingOr4xx(received, what) {
  if (received.length === 0) return;
  const head = received.subarray(0, 12).toString('latin1');
  assert.match(head, /^HTTP\/1\.[01] 4\d\d/, `${what}: unexpected answer ${JSON.stringify(received.subarray(0, 80).toString('latin1'))}`);
}

describe('robustness against bad TCP clients', () => {
  let server;
  let clients = [];
  before(async () => {
    server = await startServer({ mode: 'engineio', options: OPTIONS });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  async function healthyClients() {
    clients = await Promise.all([
      openEioClient(server, { transports: ['polling'] }),
      openEioClient(server, { transports: ['websocket'] }),
      openEioClient(server, { transports: ['polling', 'websocket'] }),
    ]);
    return clients;
  }

  it('garbage, an oversized header, a broken upgrade and connection churn do not disturb healthy sessions', { timeout: 30_000 }, async (t) => {
    const traffic = healthyTraffic(await healthyClients());
    const before = traffic.echoes;
    const t0 = Date.now();
    const pingsBefore = clients.map((c) => c.pings);

    // 1. Bytes that are not HTTP at all.
    const garbage = rawTcp(server.port);
    await garbage.connected;
    await garbage.write(Buffer.concat([
      Buffer.from('\x00\x01\x02\xff garbage \r\n\r\n', 'latin1'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)),
    ]));

    // 2. A request line followed by a 256 KB header (Node's limit is 16 KB → 431).
    const oversized = rawTcp(server.port);
    await oversized.connected;
    await oversized.write(`GET ${server.path}?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`);

    // 3. A WebSocket upgrade followed by bytes that are not WebSocket frames.
    const badUpgrade = rawTcp(server.port);
    await badUpgrade.connected;
    await badUpgrade.write(
      `GET ${server.path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
      'this is not a websocket frame at all\r\n\r\n');

    // 4. Connection churn: many connections opened and dropped abruptly, some mid-request.
    const churn = [];
    for (let i = 0; i < 100; i++) {
      const t = rawTcp(server.port);
      churn.push(t.connected.then(async () => {
        if (i % 2) await t.write(`GET ${server.path}?EIO=4&transport=polling HTTP/1.1\r\nHost: 1`);
        t.destroy();
      }).catch(() => {}));
    }
    await Promise.all(churn);

    const [g, o, u] = await withTimeout(
      Promise.all([garbage.closed, oversized.closed, badUpgrade.closed]),
      8000, 'the server to close the bad connections');
    const firstLine = (r) => JSON.stringify(r.received.subarray(0, 40).toString('latin1').split('\r\n')[0]);
    t.diagnostic(`answers: garbage ${firstLine(g)}, oversized header ${firstLine(o)}, bad upgrade ${firstLine(u)}`);
    assertNothingOr4xx(g.received, 'garbage');
    assertNothingOr4xx(o.received, 'oversized header');
    // The upgrade itself may have succeeded (101) before the garbage arrived.
    if (!u.received.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
      assertNothingOr4xx(u.received, 'bad upgrade');
    }

    // Keep the healthy traffic going a little longer (at least 30 more echoes and
    // a few ping intervals in all), then check it.
    const target = traffic.echoes + 30;
    await withTimeout((async () => {
      while (traffic.echoes < target || Date.now() - t0 < 4 * OPTIONS.pingInterval) {
        await sleep(20);
      }
    })(), 10_000, 'more healthy echoes after the abuse');
    const stats = await traffic.stop();
    assert.deepEqual(stats.failures, []);
    clients.forEach((c, k) => assert.ok(c.pings > pingsBefore[k], `client ${k} got no ping during the test`));
    assert.ok(stats.echoes - before >= 30, `only ${stats.echoes - before} healthy echoes`);
    assert.ok(stats.maxLatencyMs < 3000, `a healthy echo took ${stats.maxLatencyMs} ms`);
  });

  // Node's http.Server (defaults) closes a connection with incomplete headers only
  // after headersTimeout = 60 s, checked every connectionsCheckingInterval = 30 s
  // (then it answers 408 and closes) — far beyond 15 s, so against the Node
  // reference this test is skipped unless IGNIS_REF_HEADERS_TIMEOUT_MS lowers it.
  const slowlorisSkip = !usingFixture && !referenceHasHeaderTimeout
    && 'Node reference closes incomplete headers only after 60–90 s (set IGNIS_REF_HEADERS_TIMEOUT_MS to run it)';

  it('slowloris: a half-sent request header trickled byte by byte is closed by the server within 15 s', { timeout: 30_000, skip: slowlorisSkip }, async () => {
    const traffic = healthyTraffic(clients.length ? clients : await healthyClients());
    const before = traffic.echoes;
    const slow = rawTcp(server.port);
    await slow.connected;
    await slow.write(`GET ${server.path}?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    // One more header byte every second: an idle timeout alone must not be enough
    // to keep this connection open, only a deadline for the whole header.
    let closedAt = null;
    const t0 = Date.now();
    const trickle = setInterval(() => {
      slow.socket.write('a', () => {});
    }, 1000);
    try {
      const result = await withTimeout(slow.closed, 15_000, 'the server to close the slowloris connection');
      closedAt = Date.now() - t0;
      assertNothingOr4xx(result.received, 'slowloris');
    } finally {
      clearInterval(trickle);
      slow.destroy();
    }
    const stats = await traffic.stop();
    assert.deepEqual(stats.failures, []);
    assert.ok(stats.echoes - before >= 20, `only ${stats.echoes - before} healthy echoes during ${closedAt} ms`);
    assert.ok(stats.maxLatencyMs < 3000, `a healthy echo took ${stats.maxLatencyMs} ms`);
  });
});
