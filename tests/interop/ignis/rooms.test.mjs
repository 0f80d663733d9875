// Checklist items 35–45: join / leave, as amended by the contract: only the
// intersection of requested and allowed rooms is joined (B7), the socket-id room
// cannot be left (B8), join/leave answer an ack when the client passes one (join
// {rooms: [joined], refused: [the rest of the request]}, leave {rooms: [left]};
// requests before authentication answer nothing). Amended in docs/operations.md
// ("Rooms"): names of a socket id's form are never joined, a client may be in at
// most --max-rooms-per-socket rooms through its own joins, and patterns match
// UTF-8 code points. The program's validateRoomFn is --rooms-allow (globs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { usingProgram, useProgram } from '../lib/server.mjs';
import { stopAndReadLog } from '../lib/program-run.mjs';
import {
  acked, assertNothing, authenticate, authedClient, connectClient, emitWithAckRecord, marker, next, request,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];
const BASE = [...TOKENS, '--authenticate-timeout', '5000', '--ping-interval', '10000'];
const ALLOW = ['--rooms-allow', 'public-*,team-?'];

/** Send `topic` to each room; assert `socket` got exactly the ones in `expected`, in order. */
async function assertMembership(server, socket, { inRooms = [], notIn = [] }) {
  const topic = `probe-${Math.random().toString(36).slice(2, 8)}`;
  for (const room of [...inRooms, ...notIn]) await server.api.send({ destination: room, topic, data: room });
  for (const room of inRooms) assert.deepEqual(await next(socket, topic), [room], `member of ${room}`);
  await assertNothing(server, [socket], topic, { label: `not a member of ${notIn.join(', ')}:` });
}

describe('join / leave (items 35–45)', () => {
  it('35: join before authentication is ignored: no answer, membership unchanged', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await connectClient(server, { token: 'good' });
    const rec = emitWithAckRecord(s, 'join', { rooms: ['public-early'] });
    s.emit('join', { rooms: ['public-early2'] });
    await assertNothing(server, [s], null);
    assert.equal(rec.acked, false, 'no ack before authentication');
    await authenticate(s);
    await marker(server, [s]);
    assert.equal(rec.acked, false, 'not answered after authentication either');
    await assertMembership(server, s, { inRooms: ['io-default'], notIn: ['public-early', 'public-early2'] });
  });

  it('36: without --rooms-allow every join is rejected ({rooms: []})', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['public-a', 'anything'] }), { rooms: [], refused: ['public-a', 'anything'] });
    await assertMembership(server, s, { inRooms: ['io-default'], notIn: ['public-a', 'anything'] });
    assert.equal(s.connected, true);
  });

  it('37: join [a, b] where only a is allowed -> in a only', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['public-a', 'private-b'] }), { rooms: ['public-a'], refused: ['private-b'] });
    await assertMembership(server, s, { inRooms: ['public-a'], notIn: ['private-b'] });
  });

  it('37: glob patterns: * is any sequence, ? one character, everything else literal', async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', 'public-*,team-?,a.b']);
    const s = await authedClient(server, { token: 'good' });
    const requested = ['public-', 'public-x/y z', 'team-1', 'team-12', 'team-', 'Public-x', 'xpublic-1', 'a.b', 'axb', 'public'];
    const ack = await request(s, 'join', { rooms: requested });
    assert.deepEqual(ack, {
      rooms: ['public-', 'public-x/y z', 'team-1', 'a.b'],
      refused: ['team-12', 'team-', 'Public-x', 'xpublic-1', 'axb', 'public'],
    });
    await assertMembership(server, s, { inRooms: ['public-x/y z', 'team-1', 'a.b'], notIn: ['team-12', 'axb', 'Public-x'] });
  });

  it('38: only requested rooms are joined (the intersection with what is allowed)', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['public-a'] }), { rooms: ['public-a'], refused: [] });
    // public-b and team-1 are allowed too, but were never requested.
    await assertMembership(server, s, { inRooms: ['public-a'], notIn: ['public-b', 'team-1'] });
  });

  it('39: rules that allow nothing -> nothing joined, the client stays connected', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['private-1', 'secret'] }), { rooms: [], refused: ['private-1', 'secret'] });
    await assertMembership(server, s, { inRooms: ['io-default'], notIn: ['private-1', 'secret'] });
    assert.equal(s.connected, true);
    // Still able to join afterwards.
    assert.deepEqual(await request(s, 'join', { rooms: ['team-1'] }), { rooms: ['team-1'], refused: [] });
  });

  it("40: join payloads null, {}, {rooms:[]}, ['a'], 'a', none -> ignored ({rooms: [], refused: []})", async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', '*']);
    const s = await authedClient(server, { token: 'good' });
    for (const payload of [null, {}, { rooms: [] }, ['public-a'], 'public-a']) {
      assert.deepEqual(await request(s, 'join', payload), { rooms: [], refused: [] }, JSON.stringify(payload));
    }
    const rec = emitWithAckRecord(s, 'join'); // no payload, only the ack
    assert.deepEqual((await rec.promise)[0], { rooms: [], refused: [] });
    await assertMembership(server, s, { inRooms: ['io-default'], notIn: ['public-a', 'a'] });
  });

  it('41: join/leave answer only when the client passes an ack; otherwise nothing comes back', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    s.emit('join', { rooms: ['public-a', 'public-b'] });
    s.emit('leave', { rooms: ['public-b'] });
    s.emit('join', { rooms: ['nope'] });
    await assertNothing(server, [s], null);
    await assertMembership(server, s, { inRooms: ['public-a'], notIn: ['public-b'] });
    const rec = emitWithAckRecord(s, 'join', { rooms: ['team-1'] });
    assert.deepEqual(await acked(rec), [{ rooms: ['team-1'], refused: [] }], 'the ack has exactly one argument');
    assert.deepEqual(await request(s, 'leave', { rooms: ['team-1'] }), { rooms: ['team-1'] });
  });

  it('42: leave removes the client from a room without validation, default rooms included', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['public-a', 'public-b'] }), { rooms: ['public-a', 'public-b'], refused: [] });
    assert.deepEqual(await request(s, 'leave', { rooms: ['public-a', 'io-default'] }), { rooms: ['public-a', 'io-default'] });
    await assertMembership(server, s, { inRooms: ['public-b', 'io-notification'], notIn: ['public-a', 'io-default'] });
  });

  it('43: the socket-id room cannot be left; direct sends keep arriving', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'leave', { rooms: [s.id] }), { rooms: [] });
    assert.deepEqual(await request(s, 'leave', { rooms: [s.id, 'io-notification'] }), { rooms: ['io-notification'] });
    await server.api.send({ destination: s.id, topic: 'direct', data: 'still here' });
    assert.deepEqual(await next(s, 'direct'), ['still here']);
  });

  it('44: leaving a room the client is not in -> {rooms: []}, no error, still connected', async (t) => {
    const server = await useProgram(t, [...BASE, ...ALLOW]);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'leave', { rooms: ['public-never'] }), { rooms: [] });
    assert.deepEqual(await request(s, 'leave', { rooms: ['public-never', 'io-default'] }), { rooms: ['io-default'] });
    await marker(server, [s]);
    assert.equal(s.connected, true);
  });

  it('45: leave before authentication is ignored (no answer; default rooms joined later stay)', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await connectClient(server, { token: 'good' });
    const rec = emitWithAckRecord(s, 'leave', { rooms: ['io-default', s.id] });
    await assertNothing(server, [s], null);
    assert.equal(rec.acked, false);
    await authenticate(s);
    await assertMembership(server, s, { inRooms: ['io-default', 'io-notification', s.id] });
    assert.equal(rec.acked, false);
  });

  it("contract: a client never joins a room named after another live socket's id", async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', '*']);
    const victim = await authedClient(server, { token: 'good' });
    const victimUnauth = await connectClient(server, { token: 'good' });
    const spy = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(spy, 'join', { rooms: [victim.id, victimUnauth.id, 'public-ok'] }), {
      rooms: ['public-ok'],
      refused: [victim.id, victimUnauth.id],
    });
    await server.api.send({ destination: victim.id, topic: 'secret', data: 1 });
    await server.api.send({ destination: victimUnauth.id, topic: 'secret', data: 2 });
    assert.deepEqual(await next(victim, 'secret'), [1]);
    assert.deepEqual(await next(victimUnauth, 'secret'), [2]);
    await assertNothing(server, [spy], 'secret');
    // Once that socket is gone, the name stays reserved: ids are never joinable, whoever owns them.
    const oldId = victim.id;
    victim.disconnect();
    for (let i = 0; i < 100 && (await server.api.clients()).ids.includes(oldId); i++) await marker(server, [spy]);
    assert.deepEqual(await request(spy, 'join', { rooms: [oldId] }), { rooms: [], refused: [oldId] });
  });

  it('names of a socket id\'s form are reserved: refused whoever owns them (or nobody), whatever the rules', async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', '*']);
    const s = await authedClient(server, { token: 'good' });
    // Ids of sockets this server does not know (another server of a cluster, say): refused as well.
    const unknown = ['AAAAAAAAAAAAAAAAAAAA', 'abcdefghij_-KLMNOPQR', '01234567890123456789'];
    const notIds = ['AAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAA.', 'AAAAAAAAAAAAAAAAAAé'];
    assert.deepEqual(await request(s, 'join', { rooms: [...unknown, s.id, ...notIds] }), {
      rooms: notIds,
      refused: [...unknown, s.id],
    });
    await assertMembership(server, s, { inRooms: notIds, notIn: unknown });
    // A direct message to such an id reaches nobody here (no client is in that room).
    await server.api.send({ destination: unknown[0], topic: 'secret', data: 1 });
    await assertNothing(server, [s], 'secret');
  });

  it('--rooms-allow matches characters, not bytes: ? is one UTF-8 code point; names that are not UTF-8 never match', async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', 'g-?,x-??,café-*']);
    const s = await authedClient(server, { token: 'good' });
    const requested = ['g-é', 'g-中', 'g-😀', 'g-ab', 'x-é', 'x-中', 'x-😀', 'x-éé', 'x-中😀', 'café-1', 'cafe-1'];
    assert.deepEqual(await request(s, 'join', { rooms: requested }), {
      rooms: ['g-é', 'g-中', 'g-😀', 'x-éé', 'x-中😀', 'café-1'],
      refused: ['g-ab', 'x-é', 'x-中', 'x-😀', 'cafe-1'],
    });
    await assertMembership(server, s, { inRooms: ['g-é', 'g-中', 'x-中😀', 'café-1'], notIn: ['x-é', 'x-中'] });
  });

  it('--max-rooms-per-socket: joins past the limit are refused; leaving frees a place; default and server-side rooms do not count', async (t) => {
    const server = await useProgram(t, [...BASE, '--rooms-allow', '*', '--max-rooms-per-socket', '3']);
    const s = await authedClient(server, { token: 'good' });
    assert.deepEqual(await request(s, 'join', { rooms: ['a', 'b'] }), { rooms: ['a', 'b'], refused: [] });
    // Rooms it is already in take no new place (default rooms, a room joined before).
    assert.deepEqual(await request(s, 'join', { rooms: ['io-default', 'a', 'c', 'd', 'e'] }), {
      rooms: ['io-default', 'a', 'c'],
      refused: ['d', 'e'],
    });
    // Server-side joins are never refused and take no place of the client's.
    await server.api.join(s.id, ['vip-1', 'vip-2']);
    assert.deepEqual(await request(s, 'leave', { rooms: ['b'] }), { rooms: ['b'] });
    assert.deepEqual(await request(s, 'join', { rooms: ['d', 'e'] }), { rooms: ['d'], refused: ['e'] });
    // A room left through the HTTP API frees its place too.
    await server.api.leave(s.id, ['c']);
    assert.deepEqual(await request(s, 'join', { rooms: ['e'] }), { rooms: ['e'], refused: [] });
    await assertMembership(server, s, { inRooms: ['a', 'd', 'e', 'vip-1', 'vip-2', 'io-default'], notIn: ['b', 'c'] });

    // The default is 100; 0 lifts the limit.
    const dflt = await useProgram(t, [...BASE, '--rooms-allow', '*']);
    const d = await authedClient(dflt, { token: 'good' });
    const hundred = Array.from({ length: 100 }, (_, i) => `r-${i}`);
    assert.deepEqual(await request(d, 'join', { rooms: hundred }), { rooms: hundred, refused: [] });
    assert.deepEqual(await request(d, 'join', { rooms: ['one-more'] }), { rooms: [], refused: ['one-more'] });
    const unlimited = await useProgram(t, [...BASE, '--rooms-allow', '*', '--max-rooms-per-socket', '0']);
    const u = await authedClient(unlimited, { token: 'good' });
    assert.deepEqual(await request(u, 'join', { rooms: hundred }), { rooms: hundred, refused: [] });
    assert.deepEqual(await request(u, 'join', { rooms: ['one-more'] }), { rooms: ['one-more'], refused: [] });
  });

  it('a join without room rules is logged at debug level only', { skip: !usingProgram && 'needs IGNIS_PROGRAM (its log)' }, async (t) => {
    const quiet = await useProgram(t, BASE);
    const verbose = await useProgram(t, [...BASE, '--log-level', 'debug']);
    for (const server of [quiet, verbose]) {
      const s = await authedClient(server, { token: 'good' });
      assert.deepEqual((await request(s, 'join', { rooms: ['r'] })).rooms, []);
    }
    // Everything the programs wrote, up to their last line.
    const logs = await Promise.all([quiet, verbose].map(stopAndReadLog));
    assert.match(logs[0], /stopped/);
    assert.doesNotMatch(logs[0], /Join rejected/);
    assert.match(logs[1], /Join rejected .*no validateRoomFn configured/);
  });

  it('HTTP API join/leave: server-side, without validation', async (t) => {
    const server = await useProgram(t, BASE); // no --rooms-allow: clients cannot join anything themselves
    const s = await authedClient(server, { token: 'good' });
    await server.api.join(s.id, ['vip', 'staff']);
    await assertMembership(server, s, { inRooms: ['vip', 'staff'] });
    await server.api.leave(s.id, ['vip', 'io-default']);
    await assertMembership(server, s, { inRooms: ['staff', 'io-notification'], notIn: ['vip', 'io-default'] });
  });
});
