// --auth webhook: the handshake is POSTed to a backend started here (node:http). Accept with
// rooms and data, reject (ok:false, non-2xx, bad JSON), a slow backend (--auth-timeout) and a
// backend that is down fail fast with the failure message; connections are kept alive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, spawnProgram } from '../lib/server.mjs';
import {
  MSG_FAILED, MSG_INVALID, authenticate, closeAllClients, connectClient, disconnected, next, request,
} from '../lib/ignis-client.mjs';
import { selfSigned } from '../lib/tls.mjs';
import { sleep } from '../lib/util.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

/**
 * A backend answering with `decide(body, req)` -> {status, body} (or a Promise of it).
 * Records every request body and every TCP connection it accepted.
 */
async function backend(t, decide) {
  const seen = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { raw += c; });
    req.on('end', async () => {
      const body = JSON.parse(raw);
      seen.push({ body, headers: req.headers, method: req.method, url: req.url });
      const answer = await decide(body, req);
      if (!answer) return; // never answers
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  server.on('connection', () => { connections += 1; });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { url: `http://127.0.0.1:${server.address().port}/auth/check?v=1`, seen, connections: () => connections };
}

async function program(t, authUrl, extra = []) {
  const server = await spawnProgram([
    '--auth', 'webhook', '--auth-url', authUrl, '--authenticate-timeout', '5000', ...extra,
  ]);
  t.after(async () => {
    closeAllClients();
    await server.stop();
  });
  return server;
}

async function expectFailure(server, opts, message) {
  const s = await connectClient(server, opts);
  const started = Date.now();
  s.emit('authenticate');
  const [payload] = await next(s, 'unauthenticated');
  assert.equal(payload.message, message);
  assert.equal(await disconnected(s), 'io server disconnect');
  return Date.now() - started;
}

describe('authentication by webhook', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('over TLS the backend gets the client\'s address, on polling and on WebSocket', async (t) => {
    const api = await backend(t, () => ({ status: 200, body: { ok: true } }));
    const { cert, key, ca } = selfSigned(t);
    const server = await program(t, api.url, ['--tls-cert', cert, '--tls-key', key, '--threads', '2']);
    for (const transports of [['polling'], ['websocket']]) {
      await authenticate(await connectClient(server, { token: transports[0], transports, ca }));
    }
    assert.deepEqual(api.seen.map(({ body }) => [body.auth.token, body.address]),
      [['polling', '127.0.0.1'], ['websocket', '127.0.0.1']]);
  });

  it('accepts on {"ok":true}: the handshake reaches the backend, rooms become the join rules', async (t) => {
    const api = await backend(t, (body) => (body.auth.token === 'alice'
      ? { status: 200, body: { ok: true, rooms: ['team-*'], data: { user: 'alice' } } }
      : { status: 200, body: { ok: false } }));
    const server = await program(t, api.url, ['--rooms-allow', 'public']);
    const s = await connectClient(server, {
      token: 'alice', query: { device: 'phone' }, extraHeaders: { 'X-Forwarded-For': '10.1.2.3', 'X-Secret-Header': 'no' },
      transports: ['polling'],
    });
    await authenticate(s);
    assert.equal(api.seen.length, 1);
    const { body, method, url, headers } = api.seen[0];
    assert.equal(method, 'POST');
    assert.equal(url, '/auth/check?v=1');
    assert.match(headers['content-type'], /application\/json/);
    assert.deepEqual(body.auth, { token: 'alice' });
    assert.equal(body.query.device, 'phone');
    assert.equal(body.headers['x-forwarded-for'], '10.1.2.3');
    assert.equal(body.headers['x-secret-header'], undefined, 'only allowed headers are forwarded');
    assert.match(body.address, /127\.0\.0\.1/);
    // The backend's rooms replace --rooms-allow for this client.
    const joined = await request(s, 'join', { rooms: ['team-red', 'public', 'other'] });
    assert.deepEqual(joined, { rooms: ['team-red'], refused: ['public', 'other'] });
  });

  it('rejects with the invalid-token message on ok:false, a non-2xx answer or a non-JSON body', async (t) => {
    const answers = {
      nope: { status: 200, body: { ok: false } },
      forbidden: { status: 403, body: { ok: true } },
      garbage: { status: 200, body: 'not json' },
      truthy: { status: 200, body: { ok: 'yes' } },
    };
    const api = await backend(t, (body) => answers[body.auth.token]);
    const server = await program(t, api.url);
    for (const token of Object.keys(answers)) await expectFailure(server, { token }, MSG_INVALID);
    assert.equal(api.seen.length, 4);
  });

  it('a backend slower than --auth-timeout fails fast with the failure message', async (t) => {
    const api = await backend(t, () => null); // never answers
    const server = await program(t, api.url, ['--auth-timeout', '300']);
    const took = await expectFailure(server, { token: 'x' }, MSG_FAILED);
    assert.ok(took < 3000, `took ${took} ms`);
    assert.equal(api.seen.length, 1);
  });

  it('an unreachable backend fails fast with the failure message', async (t) => {
    const port = await freePort(); // nothing listens there
    const server = await program(t, `http://127.0.0.1:${port}/auth`, ['--auth-timeout', '4000']);
    const took = await expectFailure(server, { token: 'x' }, MSG_FAILED);
    assert.ok(took < 2000, `took ${took} ms: a refused connection must not wait for the timeout`);
  });

  it('keeps connections to the backend alive and bounded by --auth-pool-size', async (t) => {
    let inFlight = 0;
    let maxInFlight = 0;
    const api = await backend(t, async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(20);
      inFlight -= 1;
      return { status: 200, body: { ok: true } };
    });
    const server = await program(t, api.url, ['--auth-pool-size', '2', '--threads', '1']);
    // One after the other: a single kept-alive connection serves them all.
    for (let i = 0; i < 4; i++) await authenticate(await connectClient(server, { token: `seq-${i}` }));
    assert.equal(api.connections(), 1, 'sequential authentications reuse one connection');
    // Many at once: never more than the pool size in flight.
    const sockets = await Promise.all(Array.from({ length: 8 }, (_, i) => connectClient(server, { token: `par-${i}` })));
    await Promise.all(sockets.map((s) => authenticate(s)));
    assert.ok(maxInFlight <= 2, `max in flight ${maxInFlight}`);
    assert.ok(api.connections() <= 2, `connections ${api.connections()}`);
    assert.equal(api.seen.length, 12);
  });
});
