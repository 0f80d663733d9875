// Checklist items 1–18 (upstream-ignis.md §10, as amended by ignis-behaviour.md):
// connection and authentication. The program (tokens auth) unless a test needs a
// fixture knob (a rejecting, slow, throwing or never-completing authenticateFn).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useFixture, useProgram } from '../lib/server.mjs';
import {
  ISO_RE, MSG_FAILED, MSG_INVALID, SID_RE, assertNothing, authenticate, authedClient, client,
  connectClient, connected, disconnected, emitWithAckRecord, marker, names, next, request,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good,other'];
const FAST = ['--authenticate-timeout', '500', '--ping-interval', '400'];
const PATIENT = ['--authenticate-timeout', '5000', '--ping-interval', '400'];

/** Assert an `unauthenticated` event with exactly {message, time} arrived before the disconnect. */
async function assertRejected(socket, message, { promptMs } = {}) {
  const t0 = Date.now();
  const reason = await disconnected(socket);
  assert.equal(reason, 'io server disconnect');
  if (promptMs !== undefined) assert.ok(Date.now() - t0 < promptMs, `disconnect within ${promptMs} ms`);
  const idx = names(socket).indexOf('unauthenticated');
  assert.ok(idx >= 0, `unauthenticated must be delivered before the disconnect; got ${names(socket).join(', ')}`);
  const [payload, ...rest] = socket.log.entries[idx].args;
  assert.equal(rest.length, 0, 'one argument');
  assert.deepEqual(Object.keys(payload).sort(), ['message', 'time']);
  assert.equal(payload.message, message);
  assert.match(payload.time, ISO_RE);
  assert.equal(socket.log.count('authenticated'), 0, 'no authenticated');
  assert.equal(socket.log.count('unauthenticated'), 1, 'one unauthenticated');
}

describe('connection and authentication (items 1–18)', () => {
  it('1: a connection without or with invalid credentials is accepted at the handshake', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...PATIENT]);
    const errors = [];
    const none = client(server);
    const bad = client(server, { token: 'bad' });
    const badHeader = client(server, { extraHeaders: { authorization: 'Bearer bad' }, transports: ['polling'] });
    for (const s of [none, bad, badHeader]) s.on('connect_error', (e) => errors.push(e.message));
    await Promise.all([none, bad, badHeader].map((s) => connected(s)));
    for (const s of [none, bad, badHeader]) {
      assert.equal(s.connected, true);
      assert.match(s.id, SID_RE);
    }
    assert.deepEqual(errors, []);
    const list = await server.api.clients();
    assert.equal(list.count, 3);
  });

  it('2: before authenticate the server sends no event; after it, it does', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '3000', '--ping-interval', '200']);
    const s = await connectClient(server, { token: 'good' });
    // Longer than a ping interval: no ping, no authenticated, nothing (only our marker).
    await assertNothing(server, [s], null, { quiet: 400 });
    assert.deepEqual(names(s), ['marker']);
    await authenticate(s);
    await next(s, 'ping');
  });

  it('3: a client that never authenticates is disconnected at authenticateTimeout and gets no event first', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...FAST]);
    const s = await connectClient(server, { token: 'good' });
    const reason = await disconnected(s, 3000);
    const elapsed = s.disconnects[0].at - s.connectedAt;
    assert.equal(reason, 'io server disconnect');
    assert.ok(elapsed >= 400 && elapsed < 1300, `disconnected after ${elapsed} ms (authenticateTimeout 500)`);
    assert.deepEqual(names(s), [], 'no event before the disconnect');
  });

  it('4: authenticateTimeout is configurable (500 ms vs 1500 ms)', async (t) => {
    const short = await useProgram(t, [...TOKENS, '--authenticate-timeout', '500']);
    const long = await useProgram(t, [...TOKENS, '--authenticate-timeout', '1500']);
    const a = await connectClient(short, { token: 'good' });
    const b = await connectClient(long, { token: 'good' });
    const [ra, rb] = await Promise.all([disconnected(a, 3000), disconnected(b, 4000)]);
    assert.equal(ra, 'io server disconnect');
    assert.equal(rb, 'io server disconnect');
    const ea = a.disconnects[0].at - a.connectedAt;
    const eb = b.disconnects[0].at - b.connectedAt;
    assert.ok(ea >= 400 && ea < 1300, `500 ms timeout: disconnected after ${ea} ms`);
    assert.ok(eb >= 1350 && eb < 2500, `1500 ms timeout: disconnected after ${eb} ms`);
  });

  for (const transports of [['websocket'], ['polling']]) {
    it(`5: valid credentials + authenticate -> ping, then authenticated (${transports[0]})`, async (t) => {
      const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '10000']);
      const s = await connectClient(server, { token: 'good', transports });
      await authenticate(s);
      assert.deepEqual(names(s), ['ping', 'authenticated']);
    });
  }

  it('6: the authenticated payload is exactly {id, time} and id is the socket id', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...FAST]);
    const s = await connectClient(server, { token: 'good' });
    const payload = await authenticate(s);
    assert.deepEqual(Object.keys(payload).sort(), ['id', 'time']);
    assert.equal(payload.id, s.id);
    const [entry] = s.log.all('authenticated');
    assert.equal(entry.length, 1, 'one argument, no ack');
  });

  it('7: authenticated.time and ping.time are ISO-8601 UTC with milliseconds and Z', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...FAST]);
    const s = await connectClient(server, { token: 'good' });
    const before = Date.now();
    const payload = await authenticate(s);
    const [ping] = s.log.all('ping')[0];
    for (const time of [payload.time, ping.time]) {
      assert.match(time, ISO_RE);
      const ms = Date.parse(time);
      assert.ok(Math.abs(ms - before) < 5000, `${time} is close to now`);
    }
  });

  it('8: the authenticate payload is ignored (credentials come from the handshake)', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...PATIENT]);
    const good = await connectClient(server, { token: 'good' });
    good.emit('authenticate', { token: 'bad' }, 'more');
    await next(good, 'authenticated');

    const bad = await connectClient(server, { token: 'bad' });
    bad.emit('authenticate', { token: 'good' });
    await assertRejected(bad, MSG_INVALID, { promptMs: 2000 });
  });

  describe('9: credentials are read from auth, headers and query', () => {
    const cases = [
      ['auth.token', { auth: { token: 'good' } }, true],
      ['auth.token (second token)', { auth: { token: 'other' } }, true],
      ['Authorization: Bearer (websocket)', { extraHeaders: { Authorization: 'Bearer good' } }, true],
      ['Authorization: Bearer (polling)', { extraHeaders: { Authorization: 'Bearer good' }, transports: ['polling'] }, true],
      ['AUTHORIZATION header name in capitals', { extraHeaders: { AUTHORIZATION: 'Bearer other' }, transports: ['polling'] }, true],
      ['token query parameter', { query: { token: 'good' } }, true],
      ['token query parameter (polling)', { query: { token: 'other' }, transports: ['polling'] }, true],
      ['bad auth.token', { auth: { token: 'nope' } }, false],
      ['auth.token that is not a string', { auth: { token: 12 } }, false],
      ['Authorization without Bearer', { extraHeaders: { Authorization: 'good' } }, false],
      ['Authorization: Basic', { extraHeaders: { Authorization: 'Basic Z29vZDpnb29k' } }, false],
      ['bad token query parameter', { query: { token: 'nope' } }, false],
      ['a token in another query parameter', { query: { access_token: 'good' } }, false],
      ['no credentials', {}, false],
    ];
    for (const [label, opts, ok] of cases) {
      it(`9: ${label} -> ${ok ? 'authenticated' : 'unauthenticated'}`, async (t) => {
        const server = await useProgram(t, [...TOKENS, ...PATIENT]);
        const s = await connectClient(server, opts);
        if (ok) {
          const payload = await authenticate(s);
          assert.equal(payload.id, s.id);
        } else {
          s.emit('authenticate');
          await assertRejected(s, MSG_INVALID, { promptMs: 2000 });
        }
      });
    }
  });

  it('10: an authenticated client is not disconnected when authenticateTimeout expires later', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...FAST]);
    const s = await authedClient(server, { token: 'good' });
    // 1 ping at authentication + 3 interval pings = 1.2 s, well past the 500 ms timeout.
    await s.log.waitCount('ping', 4, { timeout: 3000 });
    assert.ok(Date.now() - s.connectedAt > 1000);
    await marker(server, [s]);
    assert.equal(s.connected, true);
    assert.deepEqual(s.disconnects, []);
  });

  it('11: authenticateFn false (unknown token) -> unauthenticated {Invalid token…}, then a prompt disconnect', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...PATIENT]);
    const s = await connectClient(server, { token: 'unknown' });
    s.emit('authenticate');
    await assertRejected(s, MSG_INVALID, { promptMs: 2000 });
    assert.ok(s.disconnects[0].at - s.connectedAt < 2000, 'prompt: long before the 5000 ms timeout');
  });

  it('11: authenticateFn false (fixture --auth-behaviour false) -> unauthenticated {Invalid token…}', async (t) => {
    const server = await useFixture(t, [...TOKENS, ...PATIENT, '--auth-behaviour', 'false']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    await assertRejected(s, MSG_INVALID, { promptMs: 2000 });
  });

  it('12: authenticateFn rejecting -> unauthenticated {Failed to authenticate…}, then a prompt disconnect', async (t) => {
    const server = await useFixture(t, [...TOKENS, ...PATIENT, '--auth-behaviour', 'reject']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    await assertRejected(s, MSG_FAILED, { promptMs: 2000 });
  });

  it('13: authenticateFn slower than authenticateTimeout -> failure at the timeout, authenticated never received', async (t) => {
    const server = await useFixture(t, [...TOKENS, ...FAST, '--auth-behaviour', 'slow:1500']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    await assertRejected(s, MSG_FAILED);
    const elapsed = s.disconnects[0].at - s.connectedAt;
    assert.ok(elapsed >= 400 && elapsed < 1300, `disconnected after ${elapsed} ms (authenticateTimeout 500, authenticateFn 1500)`);
    const list = await server.api.clients();
    assert.deepEqual(list, { count: 0, authenticated: 0, ids: [] });
  });

  it('14: two authenticate emits back to back -> exactly one authenticated (program)', async (t) => {
    const server = await useProgram(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '10000']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    s.emit('authenticate');
    await next(s, 'authenticated');
    await assertNothing(server, [s], 'unauthenticated');
    assert.equal(s.log.count('authenticated'), 1);
    assert.equal(s.log.count('ping'), 1);
    assert.equal(s.connected, true);
  });

  it('14: a second authenticate while authenticateFn is pending is ignored (fixture slow:200)', async (t) => {
    const server = await useFixture(t, [...TOKENS, '--authenticate-timeout', '2000', '--ping-interval', '10000', '--auth-behaviour', 'slow:200']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    s.emit('authenticate');
    await next(s, 'authenticated');
    s.emit('authenticate'); // and once more after success
    await assertNothing(server, [s], 'unauthenticated', { quiet: 300 });
    assert.equal(s.log.count('authenticated'), 1);
    assert.equal(s.log.count('ping'), 1);
    assert.equal(s.connected, true);
  });

  it('15: authenticate after success -> no reply, no disconnect, still authenticated', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...FAST, '--rooms-allow', 'public-*']);
    const s = await authedClient(server, { token: 'good' });
    s.emit('authenticate');
    s.emit('authenticate', { token: 'bad' });
    await assertNothing(server, [s], ['authenticated', 'unauthenticated']);
    assert.equal(s.log.count('authenticated'), 1);
    assert.equal(s.connected, true);
    // Still authenticated: joins are accepted, pings keep coming, the timeout does not hit.
    assert.deepEqual(await request(s, 'join', { rooms: ['public-1'] }), { rooms: ['public-1'], refused: [] });
    await s.log.waitCount('ping', 3, { timeout: 3000 });
    assert.deepEqual(s.disconnects, []);
    assert.equal((await server.api.clients()).authenticated, 1);
  });

  it('16: authenticate with an ack callback -> the ack is never called', async (t) => {
    const server = await useProgram(t, [...TOKENS, ...PATIENT]);
    const s = await connectClient(server, { token: 'good' });
    const rec = emitWithAckRecord(s, 'authenticate');
    await next(s, 'authenticated');
    const rec2 = emitWithAckRecord(s, 'authenticate', { token: 'good' });
    await assertNothing(server, [s], 'unauthenticated', { quiet: 300 });
    assert.equal(rec.acked, false, 'ack of the first authenticate');
    assert.equal(rec2.acked, false, 'ack of the second authenticate');
  });

  it('17: a throwing authenticateFn -> unauthenticated {Failed…}, a prompt disconnect; the server survives', async (t) => {
    const server = await useFixture(t, [...TOKENS, ...PATIENT, '--auth-behaviour', 'throw']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    await assertRejected(s, MSG_FAILED, { promptMs: 2000 });
    assert.ok(s.disconnects[0].at - s.connectedAt < 2000, 'long before the 5000 ms timeout');
    // The server is still up and answers the same way.
    const again = await connectClient(server, { token: 'good' });
    again.emit('authenticate');
    await assertRejected(again, MSG_FAILED, { promptMs: 2000 });
    assert.deepEqual(await server.api.clients(), { count: 0, authenticated: 0, ids: [] });
  });

  it('18: a client that disconnects while authenticateFn is pending causes no server error', async (t) => {
    const server = await useFixture(t, [...TOKENS, ...PATIENT, '--auth-behaviour', 'slow:300']);
    const gone = await connectClient(server, { token: 'good' });
    gone.emit('authenticate');
    gone.disconnect();
    // A second client authenticates through the same 300 ms authenticateFn: by the
    // time it is authenticated, the first answer has come back too.
    const s = await connectClient(server, { token: 'good' });
    await authenticate(s);
    const list = await server.api.clients();
    assert.deepEqual(list, { count: 1, authenticated: 1, ids: [s.id] });
    assert.equal(gone.log.count('authenticated'), 0);
    await marker(server, [s]);
  });
});
