// Checklist items 46–50: clientConnectedFn, through the fixture's
// --client-connected knob:
//   emit    -> socket.emit("welcome", {id: socket.id}) inside clientConnectedFn
//   throw   -> clientConnectedFn throws synchronously
//   reject  -> clientConnectedFn returns a rejected promise
//   handler -> registers an "echo" handler that acks back its arguments
// Contract: the order on success is ping -> authenticated -> clientConnectedFn
// (so its direct emits come after `authenticated`); a failing clientConnectedFn
// is logged and the client stays authenticated.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useFixture } from '../lib/server.mjs';
import {
  acked, assertNothing, authenticate, authedClient, connectClient, emitWithAckRecord, marker, names, next, request,
} from '../lib/ignis-client.mjs';

const BASE = ['--auth', 'tokens', '--tokens', 'good', '--authenticate-timeout', '500', '--ping-interval', '400', '--rooms-allow', 'public-*'];

/** The client is authenticated and usable: join answers, broadcasts arrive, it outlives the auth timeout. */
async function assertStaysAuthenticated(server, s) {
  assert.deepEqual(await request(s, 'join', { rooms: ['public-1'] }), { rooms: ['public-1'], refused: [] });
  await server.api.send({ topic: 'all', data: 'x' });
  assert.deepEqual(await next(s, 'all'), ['x']);
  await s.log.waitCount('ping', 3, { timeout: 3000 }); // > 800 ms: past the 500 ms authenticateTimeout
  await marker(server, [s]);
  assert.equal(s.connected, true);
  assert.deepEqual(s.disconnects, []);
  assert.deepEqual(await server.api.clients(), { count: 1, authenticated: 1, ids: [s.id] });
}

describe('clientConnectedFn hooks (items 46–50)', () => {
  it('46: events sent before authentication are neither handled nor buffered', async (t) => {
    const server = await useFixture(t, [...BASE, '--authenticate-timeout', '3000', '--client-connected', 'handler']);
    const s = await connectClient(server, { token: 'good' });
    const early = emitWithAckRecord(s, 'echo', 'early');
    await assertNothing(server, [s], null);
    await authenticate(s);
    const late = emitWithAckRecord(s, 'echo', 'late');
    assert.deepEqual(await acked(late), ['late']);
    await marker(server, [s]);
    assert.equal(early.acked, false, 'the echo sent before authentication is never answered');
  });

  it('47: handlers registered in clientConnectedFn get later events, and their acks work', async (t) => {
    const server = await useFixture(t, [...BASE, '--client-connected', 'handler']);
    const s = await authedClient(server, { token: 'good' });
    const rec = emitWithAckRecord(s, 'echo', 1, 'two', { three: [3] }, null);
    assert.deepEqual(await acked(rec), [1, 'two', { three: [3] }, null]);
    assert.deepEqual(await s.timeout(3000).emitWithAck('echo', { n: 2 }), { n: 2 });
    // Without an ack the handler runs and nothing comes back.
    s.emit('echo', 'no-ack');
    await assertNothing(server, [s], null);
  });

  it('48: a direct emit inside clientConnectedFn reaches the client, after ping and authenticated', async (t) => {
    const server = await useFixture(t, [...BASE, '--ping-interval', '10000', '--client-connected', 'emit']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    const [welcome, ...rest] = await next(s, 'welcome');
    assert.deepEqual(welcome, { id: s.id });
    assert.deepEqual(rest, []);
    assert.deepEqual(names(s), ['ping', 'authenticated', 'welcome']);
  });

  it('49: a synchronous throw in clientConnectedFn -> logged; the client gets ping and authenticated and stays', async (t) => {
    const server = await useFixture(t, [...BASE, '--client-connected', 'throw']);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(names(s).slice(0, 2), ['ping', 'authenticated']);
    assert.equal(s.log.count('unauthenticated'), 0);
    await assertStaysAuthenticated(server, s);
    assert.equal(s.log.count('unauthenticated'), 0);
  });

  it('50: an async rejection in clientConnectedFn -> the client stays connected and authenticated', async (t) => {
    const server = await useFixture(t, [...BASE, '--client-connected', 'reject']);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(names(s).slice(0, 2), ['ping', 'authenticated']);
    await assertStaysAuthenticated(server, s);
    assert.equal(s.log.count('unauthenticated'), 0);
  });

  it('fixture knobs: --client-connected none and --auth-behaviour ok behave like the program', async (t) => {
    const server = await useFixture(t, [...BASE, '--client-connected', 'none', '--auth-behaviour', 'ok']);
    const s = await authedClient(server, { token: 'good' });
    const rec = emitWithAckRecord(s, 'echo', 'x');
    await assertNothing(server, [s], 'welcome');
    assert.equal(rec.acked, false, 'no echo handler');
    const bad = await connectClient(server, { token: 'bad' });
    bad.emit('authenticate');
    const [payload] = await next(bad, 'unauthenticated');
    assert.equal(payload.message, 'Invalid token to authenticate! Please login again!');
  });
});
