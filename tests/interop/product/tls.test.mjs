// --tls-cert/--tls-key: HTTPS and WSS with a self-signed certificate made here (openssl), trusted
// by the official socket.io-client through its `ca` option.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { spawnProgram, withApi } from '../lib/server.mjs';
import { selfSigned } from '../lib/tls.mjs';
import { authedClient, closeAllClients, next } from '../lib/ignis-client.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

function httpsGet(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

describe('TLS', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('HTTPS and WSS: polling with upgrade and WebSocket-only clients, on two event loops', async (t) => {
    const { cert, key, ca } = selfSigned(t);
    const server = await spawnProgram(withApi([
      '--auth', 'tokens', '--tokens', 'good', '--tls-cert', cert, '--tls-key', key, '--threads', '2',
    ]));
    t.after(async () => {
      closeAllClients();
      await server.stop();
    });
    assert.match(server.url, /^https:\/\//);
    const health = await httpsGet(`${server.url}/health`, ca);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');

    const upgraded = await authedClient(server, { token: 'good', transports: ['polling', 'websocket'], ca });
    if (upgraded.io.engine.transport.name !== 'websocket') await new Promise((resolve) => upgraded.io.engine.once('upgrade', resolve));
    const wsOnly = await authedClient(server, { token: 'good', transports: ['websocket'], ca });
    const pollingOnly = await authedClient(server, { token: 'good', transports: ['polling'], ca });
    const got = [upgraded, wsOnly, pollingOnly].map((s) => next(s, 'news'));
    // Through the HTTPS API.
    const api = await new Promise((resolve, reject) => {
      const req = https.request(`${server.url}/api/send`, {
        method: 'POST', ca, headers: { 'Content-Type': 'application/json', 'X-API-Key': server.apiKey },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ topic: 'news', data: { big: 'y'.repeat(200_000) } }));
    });
    assert.equal(api, 200);
    for (const p of got) assert.equal((await p)[0].big.length, 200_000);
    assert.equal(upgraded.io.engine.transport.name, 'websocket');
  });

  it('an untrusted certificate is refused by the client; plain HTTP gets no answer', async (t) => {
    const { cert, key } = selfSigned(t);
    const server = await spawnProgram(['--auth', 'none', '--tls-cert', cert, '--tls-key', key]);
    t.after(() => server.stop());
    await assert.rejects(httpsGet(`${server.url}/health`, undefined), /self[- ]signed/i);
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/health`, { signal: AbortSignal.timeout(3000) }));
  });

  it('a missing key file is refused at start', async (t) => {
    const { cert } = selfSigned(t);
    await assert.rejects(spawnProgram(['--auth', 'none', '--tls-cert', cert, '--tls-key', '/nonexistent.pem']), /tls-key/);
  });
});
