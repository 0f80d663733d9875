// The example application (examples/server/embedded_server.cpp): its own Beast HTTP server with the
// server helper embedded under /socket.io/. Its routes and the Socket.IO endpoint share one port.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { spawnChild } from '../lib/server.mjs';
import { newSocket, closeAllClients } from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const EXAMPLE = process.env.IGNIS_EMBEDDED_EXAMPLE;
const TOKEN = 'example-token';

async function authenticated(socket) {
  if (!socket.connected) await waitFor(socket, 'connect', { failOn: ['connect_error'] });
  const got = waitFor(socket, 'authenticated', { failOn: ['unauthenticated', 'disconnect'] });
  socket.emit('authenticate');
  const [payload] = await got;
  assert.equal(payload.id, socket.id);
  return payload;
}

// The helper never answers a join; a client knows it is in the room once its own message to the
// room comes back to it (packets of one socket are handled in order).
async function joinChat(socket) {
  socket.emit('join', { rooms: ['public-chat'] });
  const echoed = waitFor(socket, 'chat');
  socket.emit('chat', { from: socket.id, probe: true });
  const [msg] = await echoed;
  assert.deepEqual(msg, { from: socket.id, probe: true });
}

describe('embedded in an application\'s own HTTP server', { skip: !EXAMPLE && 'IGNIS_EMBEDDED_EXAMPLE not set' }, () => {
  let app;
  before(async () => {
    app = await spawnChild(EXAMPLE, ['--port', '0', '--token', TOKEN], { kind: 'example' });
  });
  after(async () => {
    closeAllClients();
    await app?.signal('SIGTERM');  // nothing to do when the last test already stopped it
  });

  it('serves the application\'s own routes on the same port', async () => {
    const res = await fetch(`${app.url}/hello`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from the application\n');
    assert.equal((await fetch(`${app.url}/nope`)).status, 404);
  });

  it('clients authenticate, join and talk, over polling → websocket and websocket only', async () => {
    const upgraded = newSocket(app.url, { transports: ['polling', 'websocket'], auth: { token: TOKEN } });
    const direct = newSocket(app.url, { transports: ['websocket'], auth: { token: TOKEN } });
    await Promise.all([authenticated(upgraded), authenticated(direct)]);
    if (upgraded.io.engine.transport.name !== 'websocket') await waitFor(upgraded.io.engine, 'upgrade');
    assert.equal(upgraded.io.engine.transport.name, 'websocket');

    const counts = await (await fetch(`${app.url}/api/clients`)).json();
    assert.deepEqual(counts, { clients: 2, authenticated: 2 });

    await joinChat(upgraded);
    await joinChat(direct);
    const received = waitFor(direct, 'chat');
    upgraded.emit('chat', { text: 'hello over the embedded endpoint' });
    const [msg] = await received;
    assert.deepEqual(msg, { text: 'hello over the embedded endpoint' });
  });

  it('a polling-only client works through the application\'s held requests', async () => {
    const polling = newSocket(app.url, { transports: ['polling'], auth: { token: TOKEN } });
    await authenticated(polling);
    await joinChat(polling);
    assert.equal(polling.io.engine.transport.name, 'polling');
    polling.disconnect();
  });

  it('a wrong token gets "unauthenticated", then a server disconnect', async () => {
    const intruder = newSocket(app.url, { transports: ['websocket'], auth: { token: 'wrong' } });
    await waitFor(intruder, 'connect', { failOn: ['connect_error'] });
    const unauth = waitFor(intruder, 'unauthenticated');
    const gone = waitFor(intruder, 'disconnect');
    intruder.emit('authenticate');
    const [payload] = await unauth;
    assert.equal(payload.message, 'Invalid token to authenticate! Please login again!');
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
  });

  it('SIGTERM: clients get a server disconnect (a held poll included) and the application exits 0', async () => {
    const clients = [
      newSocket(app.url, { transports: ['websocket'], auth: { token: TOKEN } }),
      newSocket(app.url, { transports: ['polling'], auth: { token: TOKEN } }),
    ];
    await Promise.all(clients.map(authenticated));
    const gone = clients.map((c) => waitFor(c, 'disconnect', { timeout: 5000 }));
    const exit = app.signal('SIGTERM');
    for (const g of gone) assert.equal((await g)[0], 'io server disconnect');
    assert.equal((await exit).code, 0);
  });
});
