// The Admin UI in a mixed cluster on one private Redis (@socket.io/redis-adapter's classic
// protocol): the program (--admin-ui dev --redis) and Node's socket.io with the Redis adapter and
// instrument(), both on the admin namespace /ops. A UI logged in on either server sees both servers
// (server_stats of both serverIds), the sockets of both in all_sockets (with their client ids and
// transports: each server puts them in what fetchSockets answers), and the events of the other
// server's sockets; a command given on one server acts on the other server's sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ADMIN_HASH, ADMIN_USER, USER_TOKEN, loginAdmin, nextMatching } from '../lib/admin.mjs';
import { authenticate, client, connected } from '../lib/ignis-client.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { startRedis } from '../lib/redis-server.mjs';
import { spawnProgram, usingProgram } from '../lib/server.mjs';
import { attachFixtureProtocol, SIO_SERVER_OPTIONS } from '../lib/sio-reference.mjs';
import { closeAllClients, newSocket } from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const { Server } = requirePeer('socket.io');
const { createClient } = requirePeer('redis');
const { createAdapter } = requirePeer('@socket.io/redis-adapter');
const { instrument } = requirePeer('@socket.io/admin-ui');

const NAMESPACE = '/ops';

async function redisClient(url) {
  const c = createClient({ url, socket: { reconnectStrategy: (n) => Math.min(50 * n, 300) } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

// Node's socket.io with the Redis adapter, the fixture protocol on "/" (join, rooms, ...) and
// the Admin UI on /ops.
async function startNodeServer(redisUrl) {
  const pub = await redisClient(redisUrl);
  const sub = pub.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  const httpServer = http.createServer();
  const sockets = new Set();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const io = new Server(httpServer, { ...SIO_SERVER_OPTIONS, pingInterval: 2000, pingTimeout: 5000, adapter: createAdapter(pub, sub, { requestsTimeout: 3000 }) });
  attachFixtureProtocol(io);
  instrument(io, { auth: { type: 'basic', username: ADMIN_USER, password: ADMIN_HASH }, mode: 'development', serverId: 'node-1', namespaceName: NAMESPACE });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = httpServer.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    path: '/socket.io/',
    adminNamespace: NAMESPACE,
    async stop() {
      await new Promise((resolve) => io.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

function ack(socket, event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, resolve));
}

describe('the Admin UI in a mixed Redis cluster (program + Node)', { skip: !usingProgram && 'needs IGNIS_PROGRAM' }, () => {
  let redis;
  let program;
  let node;
  let programUser;
  let nodeUser;
  let programUserId;

  before(async () => {
    redis = await startRedis();
    program = await spawnProgram(['--threads', '2', '--auth', 'tokens', '--tokens', USER_TOKEN, '--rooms-allow', '*',
      '--redis', redis.url, '--redis-requests-timeout', '3000', '--admin-ui', 'dev', '--admin-username', ADMIN_USER,
      '--admin-password-hash', ADMIN_HASH, '--admin-namespace', NAMESPACE, '--admin-server-id', 'ignis-1']);
    program.adminNamespace = NAMESPACE;
    node = await startNodeServer(redis.url);
    programUser = client(program, { token: USER_TOKEN, transports: ['websocket'] });
    await connected(programUser);
    await authenticate(programUser);
    programUserId = programUser.id;
    nodeUser = newSocket(node.url, { path: node.path, transports: ['websocket'] });
    await waitFor(nodeUser, 'connect');
  });

  after(async () => {
    closeAllClients();
    await node?.stop();
    await program?.stop();
    await redis?.stop();
  });

  for (const side of ['program', 'node']) {
    it(`a UI on the ${side} server sees both servers and the sockets of both`, async () => {
      const server = side === 'program' ? program : node;
      const ui = await loginAdmin(server);
      const [sockets] = await ui.log.next('all_sockets', { timeout: 6000 });
      const ofProgram = sockets.find((s) => s.id === programUserId);
      const ofNode = sockets.find((s) => s.id === nodeUser.id);
      assert.ok(ofProgram && ofNode, `both users listed: ${sockets.map((s) => `${s.nsp} ${s.id}`).join(', ')}`);
      assert.equal(ofProgram.clientId, programUser.io.engine.id.slice(0, 12));
      assert.equal(ofNode.clientId, nodeUser.io.engine.id.slice(0, 12));
      assert.equal(ofProgram.transport, 'websocket');
      assert.equal(ofNode.transport, 'websocket');
      assert.ok(!('auth' in ofProgram.handshake) && !('auth' in ofNode.handshake));
      assert.deepEqual(ofProgram.data.ignis, { state: 'authenticated', authenticated: true });
      for (const id of ['ignis-1', 'node-1']) await nextMatching(ui, 'server_stats', (s) => s.serverId === id, { timeout: 5000 });
    });
  }

  it('a join given on the program moves the Node server\'s socket, and both UIs see it', async () => {
    const uiProgram = await loginAdmin(program);
    const uiNode = await loginAdmin(node);
    uiProgram.emit('join', '/', 'room-z', nodeUser.id);
    for (const ui of [uiProgram, uiNode]) await nextMatching(ui, 'room_joined', (nsp, room, id) => room === 'room-z' && id === nodeUser.id);
    assert.ok((await ack(nodeUser, 'rooms')).includes('room-z'));
    // The program's UI also sees what the Node server sends its socket.
    uiProgram.emit('emit', '/', 'room-z', 'from-the-program-ui', 7);
    assert.deepEqual(await nodeUser.log.next('from-the-program-ui'), [7]);
    await nextMatching(uiProgram, 'event_sent', (nsp, id, args) => id === nodeUser.id && args[0] === 'from-the-program-ui');
  });

  it('a disconnect given on the Node server reaches the program\'s socket, and both UIs see it', async () => {
    const uiProgram = await loginAdmin(program);
    const uiNode = await loginAdmin(node);
    const gone = waitFor(programUser, 'disconnect');
    uiNode.emit('_disconnect', '/', false, programUserId);
    assert.equal((await gone)[0], 'io server disconnect');
    for (const ui of [uiProgram, uiNode]) {
      const [, , reason] = await nextMatching(ui, 'socket_disconnected', (nsp, id) => id === programUserId);
      assert.equal(reason, 'server namespace disconnect');
    }
  });
});
