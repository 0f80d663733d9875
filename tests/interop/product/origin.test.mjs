// Browsers' Origin checked against --cors-origin (--check-origin; docs/operations.md, "Browser
// origins and cookies"): polling requests from other origins get 403 {"code":4,"message":
// "Forbidden"}, WebSocket handshakes Node's plain 400 "Forbidden"; requests without Origin pass.
// And the warning at start when the webhook forwards cookies while origins are not checked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { spawnProgram } from '../lib/server.mjs';
import { authedClient, client, closeAllClients } from '../lib/ignis-client.mjs';
import { waitFor } from '../lib/util.mjs';
import { runProgram, stopAndReadLog } from '../lib/program-run.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];
const APP = 'https://app.example';
const EVIL = 'https://evil.example';

/** A spawned program for test `t`, stopped afterwards. */
async function spawned(t, flags, opts) {
  const server = await spawnProgram(flags, opts);
  t.after(async () => {
    closeAllClients();
    await server.stop();
  });
  return server;
}

/** One HTTP request to the program: {status, headers, body}. */
function httpRequest(server, { method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, async (res) => {
      let text = '';
      for await (const chunk of res) text += chunk;
      resolve({ status: res.statusCode, headers: res.headers, body: text });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket handshake on the Engine.IO path: {status, body} (101 once switched). */
function upgrade(server, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: server.port,
      path: `${server.path}/?EIO=4&transport=websocket`,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, body: '' });
    });
    req.on('response', async (res) => {
      let text = '';
      for await (const chunk of res) text += chunk;
      resolve({ status: res.statusCode, body: text });
    });
    req.on('error', reject);
    req.end();
  });
}

const pollingPath = (server, sid) => `${server.path}/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;

describe('Origin of browsers\' requests (--cors-origin, --check-origin)', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('with a list of origins, polling and WebSocket handshakes from other origins are refused', async (t) => {
    const server = await spawned(t, [...TOKENS, '--cors-origin', `${APP},http://other.example:8080`]);
    const forbidden = await httpRequest(server, { path: pollingPath(server), headers: { Origin: EVIL } });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(JSON.parse(forbidden.body), { code: 4, message: 'Forbidden' });
    assert.equal(forbidden.headers['access-control-allow-origin'], undefined);

    const allowed = await httpRequest(server, { path: pollingPath(server), headers: { Origin: APP } });
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    const sid = JSON.parse(allowed.body.slice(1)).sid;
    // Every polling request of a session is checked, not only the handshake.
    const hijacked = await httpRequest(server, { path: pollingPath(server, sid), headers: { Origin: EVIL } });
    assert.equal(hijacked.status, 403);
    const noOrigin = await httpRequest(server, { path: pollingPath(server) });
    assert.equal(noOrigin.status, 200, 'clients that are not browsers send no Origin');
    // The null origin (sandboxed frames, file: pages) is not in the list either.
    assert.equal((await httpRequest(server, { path: pollingPath(server), headers: { Origin: 'null' } })).status, 403);

    assert.deepEqual(await upgrade(server, { Origin: EVIL }), { status: 400, body: 'Forbidden' });
    assert.equal((await upgrade(server, { Origin: 'http://other.example:8080' })).status, 101);
    assert.equal((await upgrade(server)).status, 101);

    // What a browser page on another origin would get: no connection.
    const page = client(server, { token: 'good', extraHeaders: { Origin: EVIL } });
    await waitFor(page, 'connect_error');
    const good = await authedClient(server, { token: 'good', extraHeaders: { Origin: APP } });
    assert.equal(good.connected, true);
  });

  it('--check-origin off lets every origin through; on needs a list; * checks nothing', async (t) => {
    const off = await spawned(t, [...TOKENS, '--cors-origin', APP, '--check-origin', 'off']);
    assert.equal((await httpRequest(off, { path: pollingPath(off), headers: { Origin: EVIL } })).status, 200);
    assert.equal((await upgrade(off, { Origin: EVIL })).status, 101);
    const star = await spawned(t, [...TOKENS, '--cors-origin', '*']);
    assert.equal((await upgrade(star, { Origin: EVIL })).status, 101);
    for (const cors of [[], ['--cors-origin', '*']]) {
      const r = await runProgram([...TOKENS, ...cors, '--check-origin', 'on']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--check-origin on needs --cors-origin/);
    }
  });

  it('--auth webhook forwarding cookies without an origin check is warned about at start', async (t) => {
    const webhook = ['--auth', 'webhook', '--auth-url', 'http://127.0.0.1:9/auth'];
    const unchecked = await spawnProgram(webhook);
    assert.match(await stopAndReadLog(unchecked), /forwards cookies, but origins are not checked/);
    const checked = await spawnProgram([...webhook, '--cors-origin', APP]);
    assert.doesNotMatch(await stopAndReadLog(checked), /forwards cookies/);
    const noCookies = await spawnProgram([...webhook, '--auth-headers', 'authorization']);
    assert.doesNotMatch(await stopAndReadLog(noCookies), /forwards cookies/);
  });
});
