// CORS headers as Node's engine.io sets them through the `cors` middleware.
// See wire-formats.md §1.10.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { EioHttp, RawWs } from '../lib/eio.mjs';
import { withTimeout } from '../lib/util.mjs';

const T = { timeout: 10_000 };
const RELAXED = { pingInterval: 10_000, pingTimeout: 5_000 };
const ALLOWED = ['http://allowed.example', 'https://other.example:8443'];

/** A spread of responses: success, every error code, 500, 413, octet-stream 400. */
async function collectResponses(h, headers = {}) {
  const out = [];
  const add = async (label, p) => out.push([label, await p]);
  const { sid } = await h.handshake({}, { headers });
  await add('handshake', h.request('GET', { EIO: 4, transport: 'polling' }, { headers }));
  await add('POST ok', h.post(sid, '4hi', { headers }));
  await add('GET data', h.poll(sid, { headers }));
  await add('code 0', h.request('GET', { EIO: 4 }, { headers }));
  await add('code 1', h.request('GET', { EIO: 4, transport: 'polling', sid: 'AAAAAAAAAAAAAAAAAAAA' }, { headers }));
  await add('code 2', h.request('POST', { EIO: 4, transport: 'polling' }, { headers, body: '4x' }));
  await add('code 3', h.request('GET', { EIO: 4, transport: 'websocket' }, { headers }));
  await add('code 5', h.request('GET', { transport: 'polling' }, { headers }));
  await add('500 (PUT with sid)', h.request('PUT', { EIO: 4, transport: 'polling', sid }, { headers, body: '4x' }));
  await add('413', h.post(sid, `4${'x'.repeat(1_000_000)}`, { headers }));
  await add('400 octet-stream', h.post(sid, '4x', { headers: { ...headers, 'Content-Type': 'application/octet-stream' } }));
  return out;
}

describe('CORS with origin "*"', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: { ...RELAXED, corsOrigin: '*' } });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  for (const [label, headers] of [['without Origin', {}], ['with an Origin', { Origin: 'http://anything.example' }]]) {
    it(`every response, errors included, has Access-Control-Allow-Origin: * (${label})`, T, async () => {
      const responses = await collectResponses(h, headers);
      const statuses = responses.map(([l, r]) => `${l}:${r.status}`);
      assert.deepEqual(statuses, [
        'handshake:200', 'POST ok:200', 'GET data:200', 'code 0:400', 'code 1:400', 'code 2:400',
        'code 3:400', 'code 5:400', '500 (PUT with sid):500', '413:413', '400 octet-stream:400',
      ]);
      for (const [l, r] of responses) {
        assert.equal(r.headers.get('access-control-allow-origin'), '*', l);
        assert.equal(r.headers.get('access-control-allow-credentials'), null, l);
        // `origin: "*"` never reflects, so nothing varies on Origin.
        assert.equal(r.headers.get('vary'), null, l);
      }
    });
  }

  it('OPTIONS preflight → 204 with methods, echoed request headers, Vary, Content-Length 0', T, async () => {
    const res = await h.request('OPTIONS', { EIO: 4, transport: 'polling' }, {
      headers: {
        Origin: 'http://anything.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type, x-custom-header',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-custom-header');
    assert.equal(res.headers.get('vary'), 'Access-Control-Request-Headers');
    assert.equal(res.headers.get('content-length'), '0');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });

  it('OPTIONS preflight without Access-Control-Request-Headers: no Allow-Headers, still Vary', T, async () => {
    // Also: the preflight is answered before any Engine.IO check (no query at all here).
    const res = await h.request('OPTIONS', {}, {
      headers: { Origin: 'http://anything.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), null);
    assert.equal(res.headers.get('vary'), 'Access-Control-Request-Headers');
    assert.equal(res.headers.get('content-length'), '0');
  });

  it('the WebSocket 101 response carries Access-Control-Allow-Origin: *', T, async () => {
    const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }), { headers: { Origin: 'http://anything.example' } });
    try {
      await withTimeout(c.opened, 5000, 'WebSocket open');
      assert.equal(c.upgradeResponse.statusCode, 101);
      assert.equal(c.upgradeResponse.headers['access-control-allow-origin'], '*');
    } finally {
      c.terminate();
    }
  });
});

describe('CORS with an origin list and credentials', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({
      mode: 'engineio',
      options: { ...RELAXED, corsOrigin: ALLOWED, corsCredentials: true },
    });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  for (const origin of ALLOWED) {
    it(`an allowed Origin (${origin}) is reflected with credentials and Vary: Origin, errors included`, T, async () => {
      const responses = await collectResponses(h, { Origin: origin });
      for (const [l, r] of responses) {
        assert.equal(r.headers.get('access-control-allow-origin'), origin, l);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true', l);
        assert.equal(r.headers.get('vary'), 'Origin', l);
      }
    });
  }

  it('a preflight from an allowed Origin → 204, reflected origin, credentials, Vary: Origin, Access-Control-Request-Headers', T, async () => {
    const res = await h.request('OPTIONS', { EIO: 4, transport: 'polling' }, {
      headers: {
        Origin: ALLOWED[0],
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'Content-Type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED[0]);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), 'Content-Type');
    assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Headers');
    assert.equal(res.headers.get('content-length'), '0');
  });

  // Node (the `cors` package) leaves out only Access-Control-Allow-Origin for an
  // origin that is not listed (or no Origin at all): it still sends
  // Access-Control-Allow-Credentials: true and Vary: Origin, and the request
  // itself is served normally (CORS is enforced by the browser, not the server).
  for (const [label, headers] of [
    ['a non-listed Origin', { Origin: 'http://evil.example' }],
    ['a listed origin with another port', { Origin: 'https://other.example' }],
    ['no Origin header', {}],
  ]) {
    it(`${label}: no Access-Control-Allow-Origin, request still served`, T, async () => {
      const responses = await collectResponses(h, headers);
      assert.equal(responses[0][1].status, 200, 'handshake served');
      for (const [l, r] of responses) {
        assert.equal(r.headers.get('access-control-allow-origin'), null, l);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true', l);
        assert.equal(r.headers.get('vary'), 'Origin', l);
      }
    });
  }

  it('a preflight from a non-listed Origin → 204 without Access-Control-Allow-Origin', T, async () => {
    const res = await h.request('OPTIONS', { EIO: 4, transport: 'polling' }, {
      headers: {
        Origin: 'http://evil.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'Content-Type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Headers');
  });

  it('the WebSocket 101 response reflects an allowed Origin (and omits a non-listed one)', T, async () => {
    for (const [origin, expected] of [[ALLOWED[1], ALLOWED[1]], ['http://evil.example', undefined]]) {
      const c = new RawWs(h.wsUrl({ EIO: 4, transport: 'websocket' }), { headers: { Origin: origin } });
      try {
        await withTimeout(c.opened, 5000, 'WebSocket open');
        const hdrs = c.upgradeResponse.headers;
        assert.equal(c.upgradeResponse.statusCode, 101);
        assert.equal(hdrs['access-control-allow-origin'], expected, origin);
        assert.equal(hdrs['access-control-allow-credentials'], 'true', origin);
        assert.equal(hdrs.vary, 'Origin', origin);
        // The session itself is opened either way.
        assert.match((await c.next()).data, /^0\{/);
      } finally {
        c.terminate();
      }
    }
  });
});
