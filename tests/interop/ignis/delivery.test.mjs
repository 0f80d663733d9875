// Checklist items 24–34: rooms and delivery, driven by the program's HTTP API
// (POST /api/send = the helper's send()), as amended by the contract: any JSON
// value is sent (B3), broadcasts and room sends reach only authenticated sockets
// unless --broadcast-to-unauthenticated (B5), a direct send to a socket id reaches
// it whatever its state.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useProgram } from '../lib/server.mjs';
import {
  assertNothing, authedClient, connectClient, marker, next,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];
const BASE = [...TOKENS, '--authenticate-timeout', '5000', '--ping-interval', '10000'];

describe('rooms and delivery (items 24–34)', () => {
  it('24: sends to io-default and io-notification reach the client after authentication, not before', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await connectClient(server, { token: 'good' });
    await server.api.send({ destination: 'io-default', topic: 'news', data: 'before-1' });
    await server.api.send({ destination: 'io-notification', topic: 'news', data: 'before-2' });
    await assertNothing(server, [s], 'news');
    s.emit('authenticate');
    await next(s, 'authenticated');
    await server.api.send({ destination: 'io-default', topic: 'news', data: 'after-1' });
    await server.api.send({ destination: 'io-notification', topic: 'news', data: 'after-2' });
    assert.deepEqual(await next(s, 'news'), ['after-1']);
    assert.deepEqual(await next(s, 'news'), ['after-2']);
  });

  it('25: --default-rooms replaces the defaults', async (t) => {
    const server = await useProgram(t, [...BASE, '--default-rooms', 'lobby,io-notification']);
    const s = await authedClient(server, { token: 'good' });
    await server.api.send({ destination: 'io-default', topic: 'news', data: 'io-default' });
    await server.api.send({ destination: 'lobby', topic: 'news', data: 'lobby' });
    await server.api.send({ destination: 'io-notification', topic: 'news', data: 'io-notification' });
    assert.deepEqual(await next(s, 'news'), ['lobby']);
    assert.deepEqual(await next(s, 'news'), ['io-notification']);
    await assertNothing(server, [s], 'news');
  });

  it("25: --default-rooms '' means no default rooms", async (t) => {
    const server = await useProgram(t, [...BASE, '--default-rooms', '']);
    const s = await authedClient(server, { token: 'good' });
    for (const room of ['io-default', 'io-notification', '']) {
      await server.api.send({ destination: room || 'lobby', topic: 'news', data: room });
    }
    await assertNothing(server, [s], 'news');
    // Positive control: broadcasts still reach it.
    await server.api.send({ topic: 'news', data: 'all' });
    assert.deepEqual(await next(s, 'news'), ['all']);
  });

  it('26: a send to a socket id reaches only that client, authenticated or not', async (t) => {
    const server = await useProgram(t, BASE);
    const a = await authedClient(server, { token: 'good' });
    const b = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    await server.api.send({ destination: a.id, topic: 'direct', data: { to: 'a' } });
    await server.api.send({ destination: u.id, topic: 'direct', data: { to: 'u' } });
    assert.deepEqual(await next(a, 'direct'), [{ to: 'a' }]);
    assert.deepEqual(await next(u, 'direct'), [{ to: 'u' }]);
    await assertNothing(server, [a, b, u], 'direct');
  });

  it("27: a send without destination (or '') reaches every authenticated client, not unauthenticated ones", async (t) => {
    const server = await useProgram(t, BASE);
    const a = await authedClient(server, { token: 'good' });
    const b = await authedClient(server, { token: 'good', transports: ['polling'] });
    const u = await connectClient(server, { token: 'good' });
    await server.api.send({ topic: 'all', data: 1 });
    await server.api.send({ destination: '', topic: 'all', data: 2 });
    for (const s of [a, b]) {
      assert.deepEqual(await next(s, 'all'), [1]);
      assert.deepEqual(await next(s, 'all'), [2]);
    }
    await assertNothing(server, [a, b, u], 'all');
  });

  it('27: room sends skip unauthenticated members (a server-side join puts one in the room)', async (t) => {
    const server = await useProgram(t, BASE);
    const a = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    await server.api.join(a.id, ['vip']);
    await server.api.join(u.id, ['vip']);
    await server.api.send({ destination: 'vip', topic: 'vip-news', data: 'x' });
    assert.deepEqual(await next(a, 'vip-news'), ['x']);
    await assertNothing(server, [a, u], 'vip-news');
    // Once authenticated, the same (still joined) client gets the room sends.
    u.emit('authenticate');
    await next(u, 'authenticated');
    await server.api.send({ destination: 'vip', topic: 'vip-news', data: 'y' });
    assert.deepEqual(await next(u, 'vip-news'), ['y']);
  });

  it('27: --broadcast-to-unauthenticated: broadcasts and room sends reach unauthenticated clients too', async (t) => {
    const server = await useProgram(t, [...BASE, '--broadcast-to-unauthenticated']);
    const a = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    await server.api.join(u.id, ['vip']);
    await server.api.send({ topic: 'all', data: 1 });
    await server.api.send({ destination: '', topic: 'all', data: 2 });
    await server.api.send({ destination: 'vip', topic: 'vip-news', data: 3 });
    for (const s of [a, u]) {
      assert.deepEqual(await next(s, 'all'), [1]);
      assert.deepEqual(await next(s, 'all'), [2]);
    }
    assert.deepEqual(await next(u, 'vip-news'), [3]);
    // Default rooms are still joined at authentication only.
    await server.api.send({ destination: 'io-default', topic: 'news', data: 4 });
    assert.deepEqual(await next(a, 'news'), [4]);
    await assertNothing(server, [a, u], ['all', 'vip-news', 'news']);
  });

  it('28: a send to an unknown room is delivered to nobody and is not an error', async (t) => {
    const server = await useProgram(t, BASE);
    const a = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    await server.api.send({ destination: 'no-such-room', topic: 'lost', data: 'x' });
    await server.api.send({ destination: 'AAAAAAAAAAAAAAAAAAAA', topic: 'lost', data: 'y' });
    await assertNothing(server, [a, u], 'lost');
  });

  it('29: any JSON data is sent, falsy values and null included; missing data arrives as null', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const values = [0, '', false, null, {}, [], 'text', 42.5, true, { a: [1, { b: null }] }, [0, '', false]];
    for (const v of values) await server.api.send({ destination: s.id, topic: 'value', data: v });
    await server.api.send({ destination: s.id, topic: 'value' });
    for (const v of values) assert.deepEqual(await next(s, 'value'), [v]);
    assert.deepEqual(await next(s, 'value'), [null]);
  });

  it('30: an empty or missing topic is refused (400) and emits nothing', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    for (const body of [{ topic: '', data: 1 }, { data: 1 }, { destination: s.id, topic: '', data: 1 }, { topic: null, data: 1 }, { topic: 7, data: 1 }]) {
      const r = await server.api.request('POST', '/api/send', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(r.json, { error: 'Topic is required' });
    }
    await assertNothing(server, [s], null);
  });

  it('31: sent events carry exactly one argument (data) and no ack', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    await server.api.send({ destination: s.id, topic: 'one', data: [1, 2, 3] });
    await server.api.send({ destination: 'io-default', topic: 'one', data: { x: 1 } });
    await server.api.send({ topic: 'one', data: 'all' });
    const got = [await next(s, 'one'), await next(s, 'one'), await next(s, 'one')];
    assert.deepEqual(got, [[[1, 2, 3]], [{ x: 1 }], ['all']]);
    for (const args of got) {
      assert.equal(args.length, 1);
      assert.notEqual(typeof args[0], 'function');
    }
  });

  it('32: several sends to one client arrive in the order they were sent', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const dests = [s.id, 'io-default', undefined, 'io-notification'];
    for (let i = 0; i < 24; i++) await server.api.send({ destination: dests[i % 4], topic: 'seq', data: i });
    const all = await s.log.waitCount('seq', 24, { timeout: 3000 });
    assert.deepEqual(all.map(([v]) => v), Array.from({ length: 24 }, (_, i) => i));
  });

  it('33 (one node, --threads 4): sends by socket id and by room reach clients on every thread', async (t) => {
    // No Redis flag in the program: the "cluster" is the program's own threads.
    const server = await useProgram(t, [...BASE, '--threads', '4', '--rooms-allow', 'team-*']);
    const clients = await Promise.all(Array.from({ length: 8 }, () => authedClient(server, { token: 'good' })));
    await Promise.all(clients.map(async (c) => {
      assert.deepEqual(await c.timeout(3000).emitWithAck('join', { rooms: ['team-x'] }), { rooms: ['team-x'], refused: [] });
    }));
    for (const c of clients) await server.api.send({ destination: c.id, topic: 'direct', data: c.id });
    await server.api.send({ destination: 'team-x', topic: 'team', data: 'hello' });
    await server.api.send({ topic: 'all', data: 'everyone' });
    await Promise.all(clients.map(async (c) => {
      assert.deepEqual(await next(c, 'direct'), [c.id]);
      assert.deepEqual(await next(c, 'team'), ['hello']);
      assert.deepEqual(await next(c, 'all'), ['everyone']);
    }));
    await assertNothing(server, clients, ['direct', 'team', 'all']);
    assert.equal((await server.api.clients()).authenticated, 8);
  });

  it('34: a reserved topic is refused (400) and nothing is delivered; ping is not reserved', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    for (const topic of ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']) {
      for (const destination of [undefined, s.id]) {
        const r = await server.api.request('POST', '/api/send', { body: { destination, topic, data: 1 } });
        assert.equal(r.status, 400, topic);
        assert.deepEqual(r.json, { error: `"${topic}" is a reserved event name` });
      }
    }
    await marker(server, [s]);
    assert.equal(s.connected, true, 'a "disconnect" send must not disconnect anybody');
    await server.api.send({ destination: s.id, topic: 'ping', data: { custom: true } });
    assert.deepEqual((await s.log.waitCount('ping', 2, { timeout: 3000 }))[1], [{ custom: true }]);
  });
});
