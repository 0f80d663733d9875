// The program's connection deadlines and bounds (--close-timeout, --write-stall-timeout,
// --max-connections) and what /metrics says of them:
// - SIGTERM with a client that stopped reading: the program exits within --close-timeout, not at
//   --shutdown-timeout;
// - a WSS client that stops reading is released at --write-stall-timeout (the TLS relay's write
//   has the deadline too);
// - the authenticate timeout of a client that stopped reading ends within --close-timeout and is
//   counted as a close timeout; refusals past --max-connections are counted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { spawnProgram, withApi } from '../lib/server.mjs';
import { closeAllClients } from '../lib/ignis-client.mjs';
import { rawWebSocketUpgrade } from '../lib/eio.mjs';
import { withTimeout } from '../lib/util.mjs';
import { frame } from '../reliability/lib/hostile.mjs';
import { heldConnections, rawTcp, serverSockets, stalledClient, within } from '../reliability/lib/tcp-state.mjs';
import { selfSigned } from '../lib/tls.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const FILLER = 'x'.repeat(900 * 1024);  // under the API's 1 MB body limit

// ~9 MiB for `sid`: more than the kernel's buffers hold; what stays queued in the server is less
// than its output bound (8 MiB).
async function fill(server, sid, { ca } = {}) {
  for (let i = 0; i < 10; i++) {
    const body = JSON.stringify({ destination: sid, topic: 'bulk', data: { i, filler: FILLER } });
    if (!ca) {
      await server.api.send({ destination: sid, topic: 'bulk', data: { i, filler: FILLER } });
      continue;
    }
    const status = await new Promise((resolve, reject) => {
      const req = https.request(`${server.url}/api/send`, {
        method: 'POST', ca, headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey },
      }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 200);
  }
}

async function metric(server, name, options) {
  // Not kept alive: the connection count below must not include a pooled one.
  const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(name + (options ?? ' ')));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

// rawWebSocketUpgrade over TLS.
async function tlsUpgrade(port, ca) {
  const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
  const chunks = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  }), 5000, 'TLS connect');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const tcp = {
    socket,
    closed,
    received: () => Buffer.concat(chunks),
    write: (d) => new Promise((resolve) => socket.write(d, () => resolve())),
    destroy: () => socket.destroy(),
  };
  await tcp.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\n' +
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    'Sec-WebSocket-Version: 13\r\n\r\n');
  const headerLength = await withTimeout(new Promise((resolve) => {
    const check = () => {
      const buf = tcp.received();
      const end = buf.indexOf('0{');
      if (end >= 0 && buf.indexOf('}', end) > 0) resolve(buf.indexOf('}', end) + 1);
      else socket.once('data', check);
    };
    check();
  }), 5000, 'WSS upgrade');
  // The local port of the TCP connection under TLS.
  return { tcp, rest: () => tcp.received().subarray(headerLength) };
}

describe('program deadlines', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('SIGTERM with a client that stopped reading: exits within --close-timeout, not at --shutdown-timeout', async () => {
    const server = await spawnProgram(withApi(['--auth', 'tokens', '--tokens', 'good',
      '--shutdown-timeout', '30000', '--close-timeout', '1000', '--authenticate-timeout', '60000']));
    const slow = await stalledClient(server, { auth: { token: 'good' } });
    try {
      await fill(server, slow.sid);
      const started = Date.now();
      const exit = await server.signal('SIGTERM');
      const took = Date.now() - started;
      assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
      assert.ok(took < 4000, `exited ${took} ms after SIGTERM`);
    } finally {
      slow.tcp.destroy();
      closeAllClients();
    }
  });

  it('a WSS client that stops reading is released at --write-stall-timeout', async (t) => {
    const { cert, key, ca } = selfSigned(t);
    const server = await spawnProgram(withApi(['--auth', 'tokens', '--tokens', 'good',
      '--tls-cert', cert, '--tls-key', key, '--write-stall-timeout', '1500', '--close-timeout', '1000',
      '--authenticate-timeout', '60000']));
    const slow = await stalledClient(server, { auth: { token: 'good' }, connect: () => tlsUpgrade(server.port, ca) });
    t.after(async () => {
      slow.tcp.destroy();
      await server.stop();
    });
    const ports = new Set([slow.port]);
    await fill(server, slow.sid, { ca });
    assert.equal(serverSockets(server.port, ports)[0]?.state, 'ESTAB');
    await within(1500 + 2500, () => serverSockets(server.port, ports).length === 0, 'the WSS connection to be gone');
  });

  it('/metrics: closes by reason, close timeouts, refusals past --max-connections', async (t) => {
    const server = await spawnProgram(withApi(['--auth', 'tokens', '--tokens', 'good',
      '--close-timeout', '1000', '--authenticate-timeout', '2000', '--max-connections', '4']));
    t.after(async () => {
      closeAllClients();
      await server.stop();
    });
    // Never authenticates, and stops reading: the authenticate timeout closes it behind 16 MiB.
    const slow = await stalledClient(server, { auth: { token: 'good' } });
    t.after(() => slow.tcp.destroy());
    await fill(server, slow.sid);
    await within(5000, async () => (await metric(server, 'ignis_close_timeouts_total')) === 1, 'a close timeout');
    assert.equal(serverSockets(server.port, new Set([slow.port])).length, 0);
    assert.equal(await metric(server, 'ignis_closes_total', '{reason="forced close"}'), 1);

    // The /metrics requests above came on connections of their own, which the server may still be
    // letting go of: the bound below must count only the connections made here.
    await within(5000, async () => heldConnections(server.port) === 0, 'earlier connections gone');
    // Three held and one for each fetch below: the bound is 4.
    const held = [];
    for (let i = 0; i < 3; i++) {
      const tcp = rawTcp(server.port);
      await tcp.connected;
      held.push(tcp);
    }
    const extra = rawTcp(server.port);
    await extra.connected;
    const refused = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(refused.status, 503);
    await refused.arrayBuffer();
    extra.destroy();
    for (const tcp of held) tcp.destroy();
    await within(5000, async () => {
      try {
        return (await metric(server, 'ignis_connections_refused_total')) >= 1;
      } catch {
        return false;  // still refused while the held connections go
      }
    }, 'the refusal counted');
    assert.equal(await metric(server, 'ignis_tcp_connections_limit'), 4);
  });
});
