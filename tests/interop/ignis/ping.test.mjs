// Checklist items 19–23: the application-level `ping` event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useProgram } from '../lib/server.mjs';
import {
  ISO_RE, assertNothing, authenticate, authedClient, connectClient, marker, names,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];

/** Receive times of the `ping` events of `socket` (recorded as they arrive). */
function recordPingTimes(socket) {
  const times = [];
  socket.on('ping', () => times.push(Date.now()));
  return times;
}

describe('ping (items 19–23)', () => {
  it('19: the first ping arrives at authentication, before authenticated', async (t) => {
    // A long interval: the first ping can only be the one sent at authentication.
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '20000']);
    const s = await connectClient(server, { token: 'good' });
    const t0 = Date.now();
    await authenticate(s);
    assert.ok(Date.now() - t0 < 1000);
    const list = names(s);
    assert.deepEqual(list, ['ping', 'authenticated']);
  });

  it('20: later pings arrive every pingInterval (400 ms)', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '500', '--ping-interval', '400']);
    const s = await connectClient(server, { token: 'good' });
    const times = recordPingTimes(s);
    await authenticate(s);
    await s.log.waitCount('ping', 5, { timeout: 4000 });
    const gaps = times.slice(1, 5).map((v, i) => v - times[i]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    for (const g of gaps) assert.ok(g >= 200 && g <= 900, `gap ${g} ms (gaps ${gaps.join(', ')})`);
    assert.ok(mean >= 320 && mean <= 600, `mean gap ${mean} ms (gaps ${gaps.join(', ')})`);
  });

  it('20: the ping interval follows --ping-interval (250 ms vs 800 ms)', async (t) => {
    const fast = await useProgram(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '250']);
    const slow = await useProgram(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '800']);
    const a = await connectClient(fast, { token: 'good' });
    const b = await connectClient(slow, { token: 'good' });
    const ta = recordPingTimes(a);
    const tb = recordPingTimes(b);
    await Promise.all([authenticate(a), authenticate(b)]);
    await Promise.all([a.log.waitCount('ping', 4, { timeout: 3000 }), b.log.waitCount('ping', 3, { timeout: 4000 })]);
    const meanA = (ta[3] - ta[0]) / 3;
    const meanB = (tb[2] - tb[0]) / 2;
    assert.ok(meanA >= 180 && meanA <= 450, `250 ms interval: mean ${meanA}`);
    assert.ok(meanB >= 650 && meanB <= 1200, `800 ms interval: mean ${meanB}`);
  });

  it('21: the ping payload is exactly {time} (one argument, ISO time)', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '500', '--ping-interval', '300']);
    const s = await authedClient(server, { token: 'good' });
    await s.log.waitCount('ping', 3, { timeout: 3000 });
    for (const args of s.log.all('ping')) {
      assert.equal(args.length, 1, 'one argument, no ack');
      assert.deepEqual(Object.keys(args[0]), ['time']);
      assert.match(args[0].time, ISO_RE);
    }
  });

  it('22: no ping is sent to unauthenticated clients', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '3000', '--ping-interval', '200']);
    const idle = await connectClient(server, { token: 'good' });
    const authed = await authedClient(server, { token: 'good' });
    // Positive control: the authenticated client gets pings meanwhile.
    await authed.log.waitCount('ping', 4, { timeout: 3000 });
    await assertNothing(server, [idle], 'ping');
    assert.equal(idle.log.count('ping'), 0);
  });

  it('23: a client that never answers pings is not disconnected by the application layer', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '500', '--ping-interval', '250']);
    const s = await authedClient(server, { token: 'good' });
    // The client never sends anything back; 6 pings = 1.25 s.
    await s.log.waitCount('ping', 6, { timeout: 4000 });
    await marker(server, [s]);
    assert.equal(s.connected, true);
    assert.deepEqual(s.disconnects, []);
  });
});
