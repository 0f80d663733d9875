// Connection state recovery in the program (--connection-state-recovery) with the Ignis flow and
// the official socket.io-client: a recovering client's credentials are checked again before
// anything comes back; then it has its id, rooms and every message the HTTP API sent to it, to
// its rooms or to everyone while it was away, in order, once, and "authenticated" at once. A
// token that no longer passes (wrong, or a JWT that expired meanwhile) restores nothing.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnProgram, withApi } from '../lib/server.mjs';
import { authenticate, client, closeAllClients, connected } from '../lib/ignis-client.mjs';
import { eventually, sleep, waitFor } from '../lib/util.mjs';
import { TRANSPORT_VARIANTS } from '../lib/sio-client.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const T = { timeout: 60_000 };
const GAP_SENDS = 1000;
const withoutOffset = (args) => args.slice(0, -1);

const SECRET = 'recovery-secret-0123456789';
const b64url = (b) => Buffer.from(b).toString('base64url');
function jwt(claims) {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(crypto.createHmac('sha256', SECRET).update(input).digest())}`;
}

async function lose(socket) {
  const lost = waitFor(socket, 'disconnect');
  socket.io.engine.close();
  await lost;
}

async function reconnect(socket) {
  const back = waitFor(socket, 'connect');
  socket.connect();
  await back;
}

describe('connection state recovery in the program', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  const servers = [];
  after(async () => {
    closeAllClients();
    for (const s of servers) await s.stop();
  });
  const start = async (flags) => {
    const s = await spawnProgram(withApi(['--rooms-allow', '*', '--connection-state-recovery', '3000',
      '--threads', '2', ...flags]));
    servers.push(s);
    return s;
  };

  for (const variant of TRANSPORT_VARIANTS) {
    it(`${variant.name}: checked again, then the same id, rooms and every send it missed, in order`, T, async () => {
      const server = await start(['--auth', 'tokens', '--tokens', 'good']);
      const socket = client(server, { token: 'good', transports: variant.transports });
      await connected(socket);
      await authenticate(socket);
      const joined = await socket.timeout(5000).emitWithAck('join', { rooms: ['r1'] });
      assert.deepEqual(joined.rooms, ['r1']);
      const got = [];
      socket.on('n', (...args) => got.push(withoutOffset(args)[0]));
      const id = socket.id;
      await lose(socket);
      // The server notices (its client count drops) before the sends.
      await eventually(async () => (await server.api.clients()).count === 0, { label: 'the server to notice' });

      // One after the other: their order at the server is the order they must come back in.
      const expected = [];
      for (let i = 0; i < GAP_SENDS; i++) {
        const destination = [undefined, 'r1', 'r2', id][i % 4];
        await server.api.send({ destination, topic: 'n', data: i });
        if (destination !== 'r2') expected.push(i);
      }

      const authenticated = waitFor(socket, 'authenticated');
      await reconnect(socket);
      assert.equal(socket.recovered, true);
      assert.equal(socket.id, id);
      const [payload] = await authenticated;
      assert.equal(payload.id, id);
      assert.deepEqual(got, expected, 'exactly what it missed, in order, once');
      // A client that authenticates on every connect is answered at once.
      const again = waitFor(socket, 'authenticated');
      socket.emit('authenticate');
      await again;
      // In r1 again.
      await server.api.send({ destination: 'r1', topic: 'n', data: 'after' });
      await eventually(() => got.at(-1) === 'after', { label: 'a send to r1 after the recovery' });
    });
  }

  it('a token that no longer passes restores nothing: a new socket, nothing missed', T, async () => {
    const server = await start(['--auth', 'tokens', '--tokens', 'good']);
    const socket = client(server, { token: 'good' });
    await connected(socket);
    await authenticate(socket);
    const got = [];
    socket.on('n', (...args) => got.push(args[0]));
    const id = socket.id;
    await lose(socket);
    await eventually(async () => (await server.api.clients()).count === 0, { label: 'the server to notice' });
    await server.api.send({ topic: 'n', data: 1 });
    await server.api.send({ destination: id, topic: 'n', data: 2 });
    socket.auth = { token: 'revoked' };
    await reconnect(socket);
    assert.equal(socket.recovered, false);
    assert.notEqual(socket.id, id);
    // Nothing missed, and not authenticated: the authenticate answer says so.
    const unauth = waitFor(socket, 'unauthenticated');
    socket.emit('authenticate');
    await unauth;
    assert.deepEqual(got, []);
  });

  it('a JWT that expired while the client was away restores nothing', T, async () => {
    const server = await start(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const token = jwt({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 2 });
    const socket = client(server, { token });
    await connected(socket);
    await authenticate(socket);
    const id = socket.id;
    await lose(socket);
    await server.api.send({ destination: id, topic: 'n', data: 1 });
    // Nothing to wait for but the token's expiry (whole seconds).
    await sleep(2600);
    const got = [];
    socket.on('n', (...args) => got.push(args[0]));
    await reconnect(socket);
    assert.equal(socket.recovered, false);
    assert.notEqual(socket.id, id);
    assert.deepEqual(got, []);
  });
});
