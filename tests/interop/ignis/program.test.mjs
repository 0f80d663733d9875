// The program ignis-socketio itself: environment variables, the listening line,
// --auth none / tokens / jwt (HS256, RS256, exp/nbf, rooms claim), the HTTP API's
// 401/400/404 answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API_KEY, freePort, spawnProgram, startProgram, usingProgram, useProgram } from '../lib/server.mjs';
import {
  MSG_INVALID, authenticate, authedClient, closeAllClients, connectClient, disconnected, names, next, request,
} from '../lib/ignis-client.mjs';

const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];

/** A spawned program for test `t`, stopped (SIGTERM, exit 0 asserted) afterwards. */
async function spawned(t, flags, opts) {
  const server = await spawnProgram(flags, opts);
  t.after(async () => {
    closeAllClients();
    await server.stop();
  });
  return server;
}

// ---------------------------------------------------------------------------
// JWT helpers (node:crypto)

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function jwt(claims, { alg = 'HS256', secret, privateKey, header = {} } = {}) {
  const h = b64url(JSON.stringify({ alg, typ: 'JWT', ...header }));
  const p = b64url(JSON.stringify(claims));
  const input = `${h}.${p}`;
  let sig = '';
  if (alg === 'HS256') sig = b64url(crypto.createHmac('sha256', secret).update(input).digest());
  else if (alg === 'RS256') sig = b64url(crypto.sign('sha256', Buffer.from(input), privateKey));
  return `${input}.${sig}`;
}

const now = () => Math.floor(Date.now() / 1000);
const SECRET = 'test-secret-0123456789';

async function expectAuth(server, opts, ok) {
  const s = await connectClient(server, opts);
  if (ok) {
    await authenticate(s);
    return s;
  }
  s.emit('authenticate');
  const [payload] = await next(s, 'unauthenticated');
  assert.equal(payload.message, MSG_INVALID);
  assert.equal(await disconnected(s), 'io server disconnect');
  return s;
}

describe('program: environment variables and process', () => {
  it('the listening line is `listening on http://127.0.0.1:<port>`; --host defaults to 127.0.0.1', async (t) => {
    const server = await spawned(t, [...TOKENS, '--port', '0'], { hostPort: false });
    const m = /listening on http:\/\/([^\s:/]+):(\d+)/.exec(server.stdout());
    assert.ok(m, `stdout: ${server.stdout()}`);
    assert.equal(m[1], '127.0.0.1');
    assert.equal(Number(m[2]), server.port);
    assert.notEqual(server.port, 0);
    await connectClient(server, { token: 'good' });
  });

  it('IGNIS_PORT, IGNIS_HOST, IGNIS_AUTH, IGNIS_TOKENS, IGNIS_AUTHENTICATE_TIMEOUT, IGNIS_API_KEY are read', async (t) => {
    const port = await freePort();
    const server = await spawned(t, [], {
      hostPort: false,
      env: {
        IGNIS_PORT: String(port),
        IGNIS_HOST: '127.0.0.1',
        IGNIS_AUTH: 'tokens',
        IGNIS_TOKENS: 'env-a,env-b',
        IGNIS_AUTHENTICATE_TIMEOUT: '500',
        IGNIS_API_KEY: 'env-key',
      },
    });
    assert.equal(server.port, port);
    assert.ok(server.stdout().includes(`listening on http://127.0.0.1:${port}`));
    await authedClient(server, { token: 'env-b' });
    const idle = await connectClient(server, { token: 'env-a' });
    assert.equal(await disconnected(idle), 'io server disconnect');
    const elapsed = idle.disconnects[0].at - idle.connectedAt;
    assert.ok(elapsed >= 400 && elapsed < 1300, `IGNIS_AUTHENTICATE_TIMEOUT=500: disconnected after ${elapsed} ms`);
    const r = await server.api.request('GET', '/api/clients', { key: 'env-key' });
    assert.equal(r.status, 200);
    assert.equal(r.json.authenticated, 1);
  });

  it('IGNIS_PING_INTERVAL, IGNIS_DEFAULT_ROOMS, IGNIS_ROOMS_ALLOW, IGNIS_PATH, IGNIS_BROADCAST_TO_UNAUTHENTICATED are read', async (t) => {
    const server = await spawned(t, ['--api-key', API_KEY], {
      env: {
        IGNIS_AUTH: 'tokens',
        IGNIS_TOKENS: 'good',
        IGNIS_PING_INTERVAL: '200',
        IGNIS_DEFAULT_ROOMS: 'lobby',
        IGNIS_ROOMS_ALLOW: 'public-*',
        IGNIS_PATH: '/rt',
        IGNIS_BROADCAST_TO_UNAUTHENTICATED: 'true',
      },
    });
    server.path = '/rt';
    const s = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    await s.log.waitCount('ping', 3, { timeout: 2000 }); // 200 ms, not the 30 s default
    assert.deepEqual(await request(s, 'join', { rooms: ['public-x', 'other'] }), { rooms: ['public-x'], refused: ['other'] });
    await server.api.send({ destination: 'lobby', topic: 'news', data: 'lobby' });
    assert.deepEqual(await next(s, 'news'), ['lobby']);
    await server.api.send({ topic: 'all', data: 'all' });
    assert.deepEqual(await next(u, 'all'), ['all']);
  });

  it('a flag on the command line wins over its environment variable', async (t) => {
    const server = await spawned(t, ['--auth', 'tokens', '--tokens', 'flag-token', '--authenticate-timeout', '500'], {
      env: { IGNIS_TOKENS: 'env-token', IGNIS_AUTHENTICATE_TIMEOUT: '20000' },
    });
    await expectAuth(server, { token: 'flag-token' }, true);
    await expectAuth(server, { token: 'env-token' }, false);
    const idle = await connectClient(server, { token: 'flag-token' });
    assert.equal(await disconnected(idle), 'io server disconnect');
    assert.ok(idle.disconnects[0].at - idle.connectedAt < 1300);
  });

  it('--handshake-headers keeps what authentication reads whatever the list says', { skip: !usingProgram && 'a flag of the C++ program only' }, async (t) => {
    const server = await spawned(t, ['--auth', 'tokens', '--tokens', 'good', '--authenticate-timeout', '2000', '--handshake-headers', 'x-other']);
    await expectAuth(server, { extraHeaders: { Authorization: 'Bearer good' } }, true);
    await expectAuth(server, { extraHeaders: { Authorization: 'Bearer bad' } }, false);
  });

  it('--auth none accepts every client and prints a warning', async (t) => {
    const server = await spawned(t, ['--auth', 'none', '--authenticate-timeout', '2000']);
    await authedClient(server, {});
    await authedClient(server, { token: 'anything' });
    assert.match(server.stderr() + server.stdout(), /warn/i);
  });
});

describe('program: JWT authentication', () => {
  let dir;
  let keys;
  let otherKeys;
  let pubFile;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ignis-jwt-'));
    keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    otherKeys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    pubFile = path.join(dir, 'public.pem');
    writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const HS = ['--auth', 'jwt', '--jwt-secret', SECRET, '--authenticate-timeout', '5000', '--ping-interval', '10000'];

  it('HS256: a valid token authenticates (auth.token, Bearer header, token query)', async (t) => {
    const server = await useProgram(t, HS);
    const token = jwt({ sub: 'u1', exp: now() + 600 }, { secret: SECRET });
    await expectAuth(server, { token }, true);
    await expectAuth(server, { extraHeaders: { Authorization: `Bearer ${token}` } }, true);
    await expectAuth(server, { query: { token } }, true);
    await expectAuth(server, { token: jwt({ sub: 'no-exp' }, { secret: SECRET }) }, true);
  });

  it('HS256: bad signature, expired, not yet valid, alg none, malformed -> Invalid token…', async (t) => {
    const server = await useProgram(t, HS);
    const bad = [
      jwt({ sub: 'u', exp: now() + 600 }, { secret: 'wrong-secret' }),
      jwt({ sub: 'u', exp: now() - 60 }, { secret: SECRET }),
      jwt({ sub: 'u', nbf: now() + 60, exp: now() + 600 }, { secret: SECRET }),
      `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: 'u' }))}.`,
      'not-a-jwt',
      'a.b.c',
      `${jwt({ sub: 'u' }, { secret: SECRET })}x`,
    ];
    for (const token of bad) await expectAuth(server, { token }, false);
    // nbf in the past and exp in the future is fine.
    await expectAuth(server, { token: jwt({ nbf: now() - 60, exp: now() + 60 }, { secret: SECRET }) }, true);
  });

  it('--jwt-require-exp: tokens without exp are rejected (Invalid token…); with exp they pass', async (t) => {
    const server = await useProgram(t, [...HS, '--jwt-require-exp']);
    await expectAuth(server, { token: jwt({ sub: 'no-exp' }, { secret: SECRET }) }, false);
    await expectAuth(server, { token: jwt({ sub: 'u', iat: now() - 3600 }, { secret: SECRET }) }, false);
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() + 600 }, { secret: SECRET }) }, true);
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() - 1 }, { secret: SECRET }) }, false);
  });

  it('--jwt-max-age: tokens issued longer ago, or without iat, are rejected', async (t) => {
    const server = await useProgram(t, [...HS, '--jwt-max-age', '60']);
    await expectAuth(server, { token: jwt({ sub: 'u', iat: now() - 10 }, { secret: SECRET }) }, true);
    await expectAuth(server, { token: jwt({ sub: 'u', iat: now() - 10, exp: now() + 600 }, { secret: SECRET }) }, true);
    await expectAuth(server, { token: jwt({ sub: 'u', iat: now() - 120, exp: now() + 600 }, { secret: SECRET }) }, false);
    await expectAuth(server, { token: jwt({ sub: 'no-iat', exp: now() + 600 }, { secret: SECRET }) }, false);
    await expectAuth(server, { token: jwt({ sub: 'u', iat: 'recently' }, { secret: SECRET }) }, false);
  });

  it('RS256 with --jwt-public-key: valid tokens authenticate; other keys and HS256 with the public key do not', async (t) => {
    const server = await useProgram(t, ['--auth', 'jwt', '--jwt-public-key', pubFile, '--authenticate-timeout', '5000']);
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() + 600 }, { alg: 'RS256', privateKey: keys.privateKey }) }, true);
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() + 600 }, { alg: 'RS256', privateKey: otherKeys.privateKey }) }, false);
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() - 1 }, { alg: 'RS256', privateKey: keys.privateKey }) }, false);
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' });
    await expectAuth(server, { token: jwt({ sub: 'u', exp: now() + 600 }, { alg: 'HS256', secret: pem }) }, false);
  });

  it('the rooms claim replaces --rooms-allow for that client; without a claim --rooms-allow applies', async (t) => {
    const server = await useProgram(t, [...HS, '--rooms-allow', 'public-*']);
    const withClaim = await expectAuth(server, { token: jwt({ sub: 'a', rooms: ['team-*', 'exact'] }, { secret: SECRET }) }, true);
    const without = await expectAuth(server, { token: jwt({ sub: 'b' }, { secret: SECRET }) }, true);
    const requested = ['team-1', 'public-1', 'exact', 'exactly'];
    assert.deepEqual(await request(withClaim, 'join', { rooms: requested }), { rooms: ['team-1', 'exact'], refused: ['public-1', 'exactly'] });
    assert.deepEqual(await request(without, 'join', { rooms: requested }), { rooms: ['public-1'], refused: ['team-1', 'exact', 'exactly'] });
    const empty = await expectAuth(server, { token: jwt({ sub: 'c', rooms: [] }, { secret: SECRET }) }, true);
    assert.deepEqual(await request(empty, 'join', { rooms: requested }), { rooms: [], refused: requested });
  });

  it('without --rooms-allow and without a claim every join is rejected; a claim still works', async (t) => {
    const server = await useProgram(t, HS);
    const plain = await expectAuth(server, { token: jwt({ sub: 'a' }, { secret: SECRET }) }, true);
    const claim = await expectAuth(server, { token: jwt({ sub: 'b', rooms: ['t-?'] }, { secret: SECRET }) }, true);
    assert.deepEqual(await request(plain, 'join', { rooms: ['t-1'] }), { rooms: [], refused: ['t-1'] });
    assert.deepEqual(await request(claim, 'join', { rooms: ['t-1', 't-12'] }), { rooms: ['t-1'], refused: ['t-12'] });
  });
});

describe('program: HTTP API', () => {
  const FLAGS = [...TOKENS, '--authenticate-timeout', '5000', '--ping-interval', '10000'];

  it('401 {"error":"Unauthorized"} without X-API-Key or with a wrong one, on every endpoint', async (t) => {
    const server = await useProgram(t, FLAGS);
    const s = await connectClient(server, { token: 'good' });
    const calls = [
      ['GET', '/api/clients', undefined],
      ['POST', '/api/send', { topic: 'x', data: 1 }],
      ['POST', `/api/clients/${s.id}/join`, { rooms: ['r'] }],
      ['POST', `/api/clients/${s.id}/leave`, { rooms: ['r'] }],
    ];
    for (const [method, p, body] of calls) {
      for (const key of [null, 'wrong', '', API_KEY.toUpperCase()]) {
        const r = await server.api.request(method, p, { body, key });
        assert.equal(r.status, 401, `${method} ${p} key ${key}`);
        assert.deepEqual(r.json, { error: 'Unauthorized' });
        assert.match(r.headers.get('content-type'), /^application\/json/);
      }
    }
    assert.equal(names(s).length, 0, 'nothing was sent');
    assert.deepEqual((await server.api.clients()).count, 1);
  });

  it('400 on bad JSON and on a missing topic or rooms', async (t) => {
    const server = await useProgram(t, FLAGS);
    const s = await connectClient(server, { token: 'good' });
    const cases = [
      ['/api/send', '{not json', 'Invalid JSON body'],
      ['/api/send', '', 'Invalid JSON body'],
      ['/api/send', '[]', 'Invalid JSON body'],
      ['/api/send', 'null', 'Invalid JSON body'],
      ['/api/send', '"topic"', 'Invalid JSON body'],
      ['/api/send', '{}', 'Topic is required'],
      ['/api/send', '{"data":1}', 'Topic is required'],
      ['/api/send', '{"topic":""}', 'Topic is required'],
      [`/api/clients/${s.id}/join`, '{bad', 'Invalid JSON body'],
      [`/api/clients/${s.id}/join`, '{}', 'Rooms array is required'],
      [`/api/clients/${s.id}/join`, '{"rooms":"r1"}', 'Rooms array is required'],
      [`/api/clients/${s.id}/leave`, '{"rooms":null}', 'Rooms array is required'],
      [`/api/clients/${s.id}/leave`, '[1]', 'Invalid JSON body'],
    ];
    for (const [p, body, error] of cases) {
      const r = await server.api.request('POST', p, { body });
      assert.equal(r.status, 400, `${p} ${body}: ${r.text}`);
      assert.deepEqual(r.json, { error }, `${p} ${body}`);
      assert.match(r.headers.get('content-type'), /^application\/json/);
    }
  });

  it('GET /api/clients and POST /api/send answer the documented JSON', async (t) => {
    const server = await useProgram(t, FLAGS);
    const r0 = await server.api.request('GET', '/api/clients');
    assert.equal(r0.status, 200);
    assert.match(r0.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(r0.json, { count: 0, authenticated: 0, ids: [] });
    const a = await authedClient(server, { token: 'good' });
    const u = await connectClient(server, { token: 'good' });
    const list = await server.api.clients();
    assert.deepEqual(Object.keys(list).sort(), ['authenticated', 'count', 'ids']);
    assert.equal(list.count, 2);
    assert.equal(list.authenticated, 1);
    assert.deepEqual(new Set(list.ids), new Set([a.id, u.id]));
    const r = await server.api.request('POST', '/api/send', { body: { destination: a.id, topic: 't', data: { k: 'v' } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { success: true });
    assert.deepEqual(await next(a, 't'), [{ k: 'v' }]);
  });

  it('join/leave of an unknown client id -> 404 {"error":"Client not found"}', async (t) => {
    const server = await useProgram(t, FLAGS);
    for (const op of ['join', 'leave']) {
      const r = await server.api.request('POST', `/api/clients/AAAAAAAAAAAAAAAAAAAA/${op}`, { body: { rooms: ['r'] } });
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, { error: 'Client not found' });
    }
  });

  it('without --api-key there is no HTTP API (404)', async (t) => {
    const bare = await startProgram(FLAGS); // (useProgram would add --api-key)
    t.after(async () => {
      closeAllClients();
      await bare.stop();
    });
    for (const [method, p] of [['GET', '/api/clients'], ['POST', '/api/send']]) {
      for (const key of [null, API_KEY]) {
        const r = await bare.api.request(method, p, { key, body: method === 'POST' ? { topic: 'x' } : undefined });
        assert.equal(r.status, 404, `${method} ${p}`);
      }
    }
    await authedClient(bare, { token: 'good' });
  });
});
