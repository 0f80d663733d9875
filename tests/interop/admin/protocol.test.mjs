// The Admin UI's namespace on the wire, as @socket.io/admin-ui 0.5.1's UI meets it: the same steps
// against the program (--admin-ui) and against the Node reference (instrument()), with the real
// socket.io-client: the login (refusal, the session id before the CONNECT answer, a comeback with
// it), config and all_sockets, server_stats, every event of a user's socket in development mode and
// none in production mode, the UI's commands, and read-only mode.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGGREGATED_TYPES, ADMIN_USER, DEV_FEATURES, ISO_RE, PROD_FEATURES, TARGETS, USER_TOKEN,
  adminSocket, eventsAbout, loginAdmin, nextMatching,
} from '../lib/admin.mjs';
import { authenticate, client, connected } from '../lib/ignis-client.mjs';
import { closeAllClients, managerSocket } from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const SID_RE = /^[A-Za-z0-9_-]{20}$/;

/** A user of "/" (polling, then WebSocket), authenticated, on its final transport. */
async function user(server) {
  const socket = client(server, { token: USER_TOKEN, transports: ['polling', 'websocket'] });
  await connected(socket);
  await authenticate(socket);
  if (socket.io.engine.transport.name !== 'websocket') await waitFor(socket.io.engine, 'upgrade');
  return socket;
}

/**
 * Resolves once the server handled what `ui` sent so far: a second namespace joined on the same
 * connection is answered after everything sent before it.
 */
async function handled(ui) {
  const probe = managerSocket(ui.io, '/', { auth: { token: USER_TOKEN } });
  await waitFor(probe, 'connect', { failOn: ['connect_error'] });
  probe.disconnect();
}

function joinRooms(socket, rooms) {
  return new Promise((resolve) => socket.emit('join', { rooms }, resolve));
}

/** Runs `body(server)` with a fresh server of `target`; clients and server go afterwards. */
async function withServer(target, opts, body) {
  const server = await target.start(opts);
  try {
    await body(server);
  } finally {
    closeAllClients();
    await server.stop();
  }
}

function checkSerializedSocket(s) {
  for (const key of ['id', 'clientId', 'transport', 'nsp', 'data', 'handshake', 'rooms']) assert.ok(key in s, `SerializedSocket has ${key}: ${JSON.stringify(s)}`);
  assert.match(s.id, SID_RE);
  assert.equal(s.clientId.length, 12);
  assert.ok(['polling', 'websocket'].includes(s.transport), s.transport);
  assert.ok(Array.isArray(s.rooms) && s.rooms.includes(s.id));
  for (const key of ['address', 'headers', 'query', 'issued', 'secure', 'time', 'url', 'xdomain']) assert.ok(key in s.handshake, `handshake has ${key}`);
  assert.ok(!('auth' in s.handshake), 'the handshake auth is never shown');
  assert.equal(typeof s.handshake.issued, 'number');
  assert.match(s.handshake.time, /GMT/);
}

for (const target of TARGETS) {
  describe(`admin namespace: ${target.name}`, () => {
    it('refuses a wrong password, a wrong username and an unknown session with "invalid credentials"', () =>
      withServer(target, {}, async (server) => {
        for (const auth of [{ username: ADMIN_USER, password: 'wrong' }, { username: 'root', password: 'changeit' }, { sessionId: '0000000000000000' }]) {
          const ui = adminSocket(server, { auth });
          const [err] = await waitFor(ui, 'connect_error', { failOn: ['connect'] });
          assert.equal(err.message, 'invalid credentials', JSON.stringify(auth));
        }
      }));

    it('logs in: the session id before the CONNECT answer, then config and all_sockets; the session id logs in again', () =>
      withServer(target, {}, async (server) => {
        const u = await user(server);
        const ui = await loginAdmin(server);
        // The raw order: EVENT session, then CONNECT.
        const session = ui.packets.findIndex((p) => p.type === 2 && p.data?.[0] === 'session');
        const connect = ui.packets.findIndex((p) => p.type === 0);
        assert.ok(session >= 0 && session < connect, `session (${session}) before CONNECT (${connect})`);
        const [sessionId] = await ui.log.next('session');
        assert.match(sessionId, /^[0-9a-f]{16}$/);
        assert.deepEqual(ui.log.all('config')[0][0], { supportedFeatures: [...DEV_FEATURES] });
        const [sockets] = await ui.log.next('all_sockets');
        const mine = sockets.find((s) => s.id === u.id);
        assert.ok(mine, `the user's socket is listed: ${JSON.stringify(sockets.map((s) => s.id))}`);
        checkSerializedSocket(mine);
        assert.equal(mine.nsp, '/');
        assert.equal(mine.clientId, u.io.engine.id.slice(0, 12));
        assert.equal(mine.transport, 'websocket');
        const self = sockets.find((s) => s.id === ui.id);
        assert.ok(self, 'the UI lists its own socket');
        assert.equal(self.nsp, '/admin');

        const again = adminSocket(server, { auth: { sessionId } });
        await waitFor(again, 'connect', { failOn: ['connect_error'] });
        await again.log.next('config');
        assert.equal(again.log.count('session'), 0, 'no new session for a session login');
      }));

    it('sends server_stats with every field the UI reads', () =>
      withServer(target, {}, async (server) => {
        await user(server);
        const ui = await loginAdmin(server);
        const [stats] = await ui.log.next('server_stats', { timeout: 2500 });
        assert.equal(stats.serverId, server.serverId);
        assert.equal(typeof stats.hostname, 'string');
        assert.ok(Number.isInteger(stats.pid));
        assert.equal(typeof stats.uptime, 'number');
        assert.ok(stats.clientsCount >= 2, `clientsCount ${stats.clientsCount}`);
        assert.equal(typeof stats.pollingClientsCount, 'number');
        const names = stats.namespaces.map((n) => n.name);
        assert.ok(names.includes('/') && names.includes('/admin'), JSON.stringify(stats.namespaces));
        assert.equal(stats.namespaces.find((n) => n.name === '/').socketsCount, 1);
        assert.ok(stats.aggregatedEvents.length > 0);
        for (const e of stats.aggregatedEvents) {
          assert.ok(AGGREGATED_TYPES.has(e.type), e.type);
          assert.equal(e.timestamp % 1000, 0);
          assert.ok(e.count > 0);
        }
        assert.ok(stats.aggregatedEvents.some((e) => e.type === 'rawConnection'));
      }));

    it('development mode: a user socket\'s life, and the UI\'s join, emit, leave and disconnect', () =>
      withServer(target, {}, async (server) => {
        const ui = await loginAdmin(server);
        const u = await user(server);
        const uid = u.id;  // the client forgets it on disconnect
        assert.deepEqual(await joinRooms(u, ['room-x']), { rooms: ['room-x'], refused: [] });
        u.emit('hello', 1, () => {});
        const [, , received] = await nextMatching(ui, 'event_received', (nsp, id, args) => id === uid && args[0] === 'hello');
        assert.deepEqual(received, ['hello', 1], 'the acknowledgement is not part of the arguments');

        ui.emit('join', '/', 'room-y', uid);
        await nextMatching(ui, 'room_joined', (nsp, room, id) => room === 'room-y' && id === uid);
        ui.emit('emit', '/', 'room-y', 'hello-from-admin', 1, 2);
        assert.deepEqual(await u.log.next('hello-from-admin'), [1, 2]);
        const [, , sent] = await nextMatching(ui, 'event_sent', (nsp, id, args) => id === uid && args[0] === 'hello-from-admin');
        assert.deepEqual(sent, ['hello-from-admin', 1, 2]);
        ui.emit('leave', '/', 'room-y');
        await nextMatching(ui, 'room_left', (nsp, room, id) => room === 'room-y' && id === uid);
        const gone = waitFor(u, 'disconnect');
        ui.emit('_disconnect', '/', false, uid);
        assert.equal((await gone)[0], 'io server disconnect');
        const [, , reason, at] = await nextMatching(ui, 'socket_disconnected', (nsp, id) => id === uid);
        assert.equal(reason, 'server namespace disconnect');
        assert.match(at, ISO_RE);
        await nextMatching(ui, 'room_left', (nsp, room, id) => room === uid && id === uid);

        // In order: own room, connected, its room, the event, ..., disconnected.
        const about = eventsAbout(ui, uid);
        const index = (pred) => about.findIndex(pred);
        const ownRoom = index((e) => e.event === 'room_joined' && e.args[1] === uid);
        const connectedAt = index((e) => e.event === 'socket_connected');
        const roomX = index((e) => e.event === 'room_joined' && e.args[1] === 'room-x');
        const hello = index((e) => e.event === 'event_received' && e.args[2][0] === 'hello');
        const disconnected = index((e) => e.event === 'socket_disconnected');
        assert.ok(ownRoom >= 0 && ownRoom < connectedAt && connectedAt < roomX && roomX < hello && hello < disconnected,
          about.map((e) => e.event).join(', '));
        const [s] = about[connectedAt].args;
        checkSerializedSocket(s);
        assert.match(about[connectedAt].args[1], ISO_RE);
        // Its transport, as the UI knows it at the end: WebSocket.
        const updates = about.filter((e) => e.event === 'socket_updated' && e.args[0].transport);
        assert.equal(updates.length ? updates.at(-1).args[0].transport : s.transport, 'websocket');
        // What the server sent it (the helper's authenticated, at least).
        assert.ok(about.some((e) => e.event === 'event_sent' && e.args[2][0] === 'authenticated'));
        if (target.name === 'program') {
          // The helper's view as the socket's data.
          const data = about.filter((e) => e.event === 'socket_updated' && e.args[0].data).map((e) => e.args[0].data);
          assert.deepEqual(data.at(-1), { ignis: { state: 'authenticated', authenticated: true } });
        }
      }));

    it('production mode: config and server_stats, no socket events; the commands stay', () =>
      withServer(target, { mode: 'prod' }, async (server) => {
        const ui = await loginAdmin(server);
        assert.deepEqual(ui.log.all('config')[0][0], { supportedFeatures: [...PROD_FEATURES] });
        const u = await user(server);
        await joinRooms(u, ['room-x']);
        ui.emit('join', '/', 'room-y', u.id);
        ui.emit('emit', '/', 'room-y', 'hello-from-admin', 3);
        assert.deepEqual(await u.log.next('hello-from-admin'), [3], 'join then emit went through');
        // The next statistics count the user.
        const [stats] = await nextMatching(ui, 'server_stats', (st) => st.namespaces.find((n) => n.name === '/')?.socketsCount === 1, { timeout: 4500 });
        assert.equal(stats.serverId, server.serverId);
        const gone = waitFor(u, 'disconnect');
        ui.emit('_disconnect', '/', false, u.id);
        assert.equal((await gone)[0], 'io server disconnect');
        const verbose = ui.log.entries.filter((e) => !['session', 'config', 'server_stats'].includes(e.event)).map((e) => e.event);
        assert.deepEqual(verbose, [], 'production mode sends no per-socket events');
      }));

    it('read-only: only the views, the commands do nothing', () =>
      withServer(target, { readonly: true }, async (server) => {
        const ui = await loginAdmin(server);
        assert.deepEqual(ui.log.all('config')[0][0], { supportedFeatures: ['AGGREGATED_EVENTS', 'ALL_EVENTS'] });
        const u = await user(server);
        ui.emit('emit', '/', u.id, 'from-admin');
        ui.emit('_disconnect', '/', false, u.id);
        await handled(ui);
        assert.ok(u.connected);
        assert.equal(u.log.count('from-admin'), 0);
      }));
  });
}
