// Bad input: join/leave payloads of every wrong shape, room names over 256
// bytes, more than 100 rooms in one request, odd authenticate payloads, and an
// authenticateFn that throws or never completes (fixture knobs).
//
// Contract (ignis-behaviour.md, "join/leave validation", amended in
// docs/operations.md "Rooms"): `rooms` must be an array; entries that are not
// strings are dropped, strings that are not room names (empty, over 256 bytes,
// not UTF-8) are refused, and the rest is processed; a request with more than
// 100 entries, or whose `rooms` is not an array, is ignored whole (join ack
// {rooms: [], refused: [its strings]}, leave ack {rooms: []}).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useFixture, useProgram } from '../lib/server.mjs';
import {
  MSG_FAILED, assertNothing, authedClient, connectClient, disconnected, marker, names, next, request,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];
const BASE = [...TOKENS, '--authenticate-timeout', '5000', '--ping-interval', '10000', '--rooms-allow', '*'];

async function assertMembership(server, socket, { inRooms = [], notIn = [] }) {
  const topic = `probe-${Math.random().toString(36).slice(2, 8)}`;
  for (const room of [...inRooms, ...notIn]) await server.api.send({ destination: room, topic, data: room });
  for (const room of inRooms) assert.deepEqual(await next(socket, topic), [room], `member of ${room}`);
  await assertNothing(server, [socket], topic, { label: `not a member of ${notIn.join(', ')}:` });
}

const WRONG_SHAPES = [
  ['null', null],
  ['{}', {}],
  ['{rooms: []}', { rooms: [] }],
  ["['r1'] (array payload)", ['r1']],
  ["'r1' (string payload)", 'r1'],
  ['42', 42],
  ['true', true],
  ['false', false],
  ['0', 0],
  ["''", ''],
  ["{rooms: 'r1'} (string)", { rooms: 'r1' }],
  ['{rooms: null}', { rooms: null }],
  ['{rooms: 7}', { rooms: 7 }],
  ["{rooms: {0: 'r1', length: 1}} (array-like)", { rooms: { 0: 'r1', length: 1 } }],
  ["{room: ['r1']} (wrong key)", { room: ['r1'] }],
  ["{rooms: [1, null, '', {}, [], true]} (no valid entry)", { rooms: [1, null, '', {}, [], true] }, ['']],
  ["{rooms: [['r1']]} (nested)", { rooms: [['r1']] }],
  ['binary payload', Buffer.from('{"rooms":["r1"]}')],
  ['{rooms: [<binary>]}', { rooms: [Buffer.from('r1')] }],
];

describe('bad input', () => {
  for (const kind of ['join', 'leave']) {
    it(`${kind} payloads of every wrong shape are ignored ({rooms: []}) and the client stays connected`, async (t) => {
      const server = await useProgram(t, BASE);
      const s = await authedClient(server, { token: 'good' });
      if (kind === 'leave') assert.deepEqual(await request(s, 'join', { rooms: ['r1'] }), { rooms: ['r1'], refused: [] });
      for (const [label, payload, refused = []] of WRONG_SHAPES) {
        const expected = kind === 'join' ? { rooms: [], refused } : { rooms: [] };
        assert.deepEqual(await request(s, kind, payload), expected, label);
      }
      await assertMembership(server, s, kind === 'join'
        ? { inRooms: ['io-default'], notIn: ['r1'] }
        : { inRooms: ['r1', 'io-default'] });
      assert.equal(s.connected, true);
    });
  }

  it('entries that are not strings are dropped, invalid names refused, and the rest is processed', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const rooms = [1, 'r-ok', null, '', { r: 1 }, ['r-x'], true, Buffer.from('r-bin'), 'r-ok2', 'r-ok'];
    assert.deepEqual(await request(s, 'join', { rooms }), { rooms: ['r-ok', 'r-ok2'], refused: [''] });
    assert.deepEqual(await request(s, 'leave', { rooms: [false, 'r-ok2', 3, ''] }), { rooms: ['r-ok2'] });
    // Extra arguments after the payload do not matter.
    assert.deepEqual(await s.timeout(3000).emitWithAck('join', { rooms: ['r-extra'] }, 'extra', 5), { rooms: ['r-extra'], refused: [] });
    await assertMembership(server, s, { inRooms: ['r-ok', 'r-extra'], notIn: ['r-ok2', 'r-bin', 'r-x'] });
  });

  it('room names: 256 bytes are allowed, 257 bytes are refused (bytes, not characters)', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const ascii256 = `r-${'x'.repeat(254)}`;
    const ascii257 = `r-${'y'.repeat(255)}`;
    const utf8x256 = 'é'.repeat(128); // 128 characters, 256 bytes
    const utf8x258 = 'è'.repeat(129); // 129 characters, 258 bytes
    const emoji = `${'😀'.repeat(64)}`; // 64 code points, 128 UTF-16 units, 256 bytes
    const emojiOver = `${'😀'.repeat(64)}z`; // 257 bytes
    assert.equal(Buffer.byteLength(ascii256), 256);
    assert.equal(Buffer.byteLength(utf8x258), 258);
    const ack = await request(s, 'join', { rooms: [ascii256, ascii257, utf8x256, utf8x258, emoji, emojiOver, 'z'.repeat(5000)] });
    assert.deepEqual(ack, { rooms: [ascii256, utf8x256, emoji], refused: [ascii257, utf8x258, emojiOver, 'z'.repeat(5000)] });
    await assertMembership(server, s, { inRooms: [ascii256, utf8x256, emoji], notIn: [ascii257, utf8x258, emojiOver] });
    assert.deepEqual(await request(s, 'leave', { rooms: [ascii257, ascii256] }), { rooms: [ascii256] });
  });

  it('100 rooms in one request are processed; 101 entries are ignored whole', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const hundred = Array.from({ length: 100 }, (_, i) => `bulk-${i}`);
    assert.deepEqual(await request(s, 'join', { rooms: hundred }), { rooms: hundred, refused: [] });
    const more = Array.from({ length: 101 }, (_, i) => `more-${i}`);
    assert.deepEqual(await request(s, 'join', { rooms: more }), { rooms: [], refused: more });
    // 100 valid entries plus one invalid one are still 101 entries.
    assert.deepEqual(await request(s, 'join', { rooms: [...more.slice(0, 100), 5] }), { rooms: [], refused: more.slice(0, 100) });
    // Leave: 101 entries, the first being a joined room -> ignored whole.
    assert.deepEqual(await request(s, 'leave', { rooms: ['bulk-0', ...more.slice(0, 100)] }), { rooms: [] });
    await assertMembership(server, s, { inRooms: ['bulk-0', 'bulk-99'], notIn: ['more-0', 'more-99', 'more-100'] });
    assert.deepEqual(await request(s, 'leave', { rooms: hundred }), { rooms: hundred });
    await assertMembership(server, s, { notIn: ['bulk-0', 'bulk-99'] });
  });

  it('a request with many huge entries does not hurt the server', async (t) => {
    const server = await useProgram(t, BASE);
    const s = await authedClient(server, { token: 'good' });
    const big = Array.from({ length: 100 }, (_, i) => `${i}-${'w'.repeat(3000)}`);
    assert.deepEqual(await request(s, 'join', { rooms: big }), { rooms: [], refused: big });
    assert.deepEqual(await request(s, 'join', { rooms: ['fine'] }), { rooms: ['fine'], refused: [] });
    await marker(server, [s]);
  });

  it('odd authenticate payloads are ignored; the handshake decides', async (t) => {
    const server = await useProgram(t, BASE);
    const payloads = [[null], ['x'.repeat(100_000)], [Buffer.alloc(1000, 7)], [{ token: { $gt: '' } }], [1, 2, 3, 4], []];
    for (const args of payloads) {
      const s = await connectClient(server, { token: 'good' });
      s.emit('authenticate', ...args);
      await next(s, 'authenticated');
    }
    const list = await server.api.clients();
    assert.equal(list.authenticated, payloads.length);
  });

  it('authenticateFn throws (fixture throw) -> unauthenticated {Failed…} before the disconnect; the next client too', async (t) => {
    const server = await useFixture(t, [...BASE, '--auth-behaviour', 'throw']);
    for (let i = 0; i < 3; i++) {
      const s = await connectClient(server, { token: 'good' });
      s.emit('authenticate');
      assert.equal(await disconnected(s), 'io server disconnect');
      assert.deepEqual(names(s), ['unauthenticated']);
      assert.equal(s.log.all('unauthenticated')[0][0].message, MSG_FAILED);
      assert.ok(s.disconnects[0].at - s.connectedAt < 2500, 'before the 5000 ms timeout');
    }
  });

  it('authenticateFn never completes (fixture never) -> unauthenticated {Failed…} and disconnect at authenticateTimeout', async (t) => {
    const server = await useFixture(t, [...TOKENS, '--authenticate-timeout', '500', '--ping-interval', '400', '--auth-behaviour', 'never']);
    const s = await connectClient(server, { token: 'good' });
    s.emit('authenticate');
    assert.equal(await disconnected(s), 'io server disconnect');
    const elapsed = s.disconnects[0].at - s.connectedAt;
    assert.ok(elapsed >= 400 && elapsed < 1300, `disconnected after ${elapsed} ms`);
    assert.deepEqual(names(s), ['unauthenticated']);
    const [payload] = s.log.all('unauthenticated')[0];
    assert.equal(payload.message, MSG_FAILED);
    // The server keeps working (and its registry is clean).
    const other = await connectClient(server, { token: 'good' });
    assert.deepEqual((await server.api.clients()).ids, [other.id]);
  });

  // The later authenticate packets arrive for a namespace the socket has left, which closes the
  // connection (as Node): the rejection and the DISCONNECT queued before must still arrive first.
  it('authenticate from a client that is already being rejected does not start a second attempt', async (t) => {
    const server = await useFixture(t, [...TOKENS, '--authenticate-timeout', '5000', '--auth-behaviour', 'reject']);
    const s = await connectClient(server, { token: 'good' });
    for (let i = 0; i < 5; i++) s.emit('authenticate');
    assert.equal(await disconnected(s), 'io server disconnect');
    assert.deepEqual(names(s), ['unauthenticated']);
    const other = await connectClient(server, { token: 'good' });
    other.emit('authenticate');
    assert.equal(await disconnected(other), 'io server disconnect');
    assert.deepEqual(names(other), ['unauthenticated']);
  });
});
