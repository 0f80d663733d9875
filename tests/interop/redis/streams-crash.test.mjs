// Recovery through a crash, in streams mode: two ignis-socketio programs (A and B) on one Redis,
// connection state recovery on. Real socket.io-clients (reconnecting, with recovery) reach A
// through a TCP proxy, authenticate and join a room; numbered sends to that room flow through
// B's HTTP API the whole time. A is killed with SIGKILL (nothing is written at its death: what
// lets its clients recover is the session A kept in Redis while they were connected); the
// proxy then leads to B, the clients reconnect there by themselves and must have every send
// exactly once: sent = received, in order, no duplicates.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRedis } from '../lib/redis-server.mjs';
import { newSocket } from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { command, redisClient, startProgram } from './cluster.mjs';

const { decode } = requirePeer('@msgpack/msgpack');

/** The program's ignis_redis_session_writes_total. */
async function sessionWrites(program) {
  const text = await (await fetch(`${program.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const m = /^ignis_redis_session_writes_total (\d+)$/m.exec(text);
  assert.ok(m, 'ignis_redis_session_writes_total missing');
  return Number(m[1]);
}

const RECOVERY_MS = 10_000;
const CLIENTS = 8;
const SENDS = 300;
const KILL_AFTER = 100;  // sends
const SEND_EVERY_MS = 10;

/** A TCP proxy on a free port to `target` (a port), which can be changed: new connections go there. */
async function startProxy(target) {
  const open = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(proxy.target, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = {
    target,
    url: `http://127.0.0.1:${server.address().port}`,
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}

for (const live of [true, false]) {
  describe(`streams adapter: kill -9 of a server, ${live ? 'with' : 'without'} live sessions`, () => {
    let redis, admin, a, b, proxy;
    const clients = [];
  let writesBeforeKill = 0;

    before(async () => {
      redis = await startRedis();
      admin = await redisClient(redis.url);
      const extra = ['--connection-state-recovery', String(RECOVERY_MS)];
      [a, b] = await Promise.all([
        startProgram(redis.url, 'streams', undefined, [...extra, '--redis-live-sessions', String(live)]),
        startProgram(redis.url, 'streams', undefined, extra),
      ]);
      await eventually(async () => Number((await admin.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io#/#']))[1]) === 2, { label: 'two servers' });
      proxy = await startProxy(a.port);
    });
    after(async () => {
      for (const s of clients) s.disconnect();
      await proxy?.close();
      await b?.stop();
      if (a && !a.stopped) await a.stop();
      await admin?.quit().catch(() => {});
      await redis?.stop();
    });

    const title = live
      ? 'the clients of the killed server reconnect to another and lose nothing'
      : 'without them (what Node does) the clients of the killed server come back as new sockets';
    it(title, async (t) => {
      for (let i = 0; i < CLIENTS; ++i) {
        const s = newSocket(proxy.url, {
          path: '/socket.io', reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0,
        });
        s.received = [];
        s.on('tick', (n) => s.received.push(n));
        await waitFor(s, 'connect', { failOn: ['connect_error'] });
        s.emit('authenticate');
        await s.log.next('authenticated');
        assert.deepEqual(await command(s, 'join', { rooms: ['crash-room'] }), { rooms: ['crash-room'], refused: [] });
      // Twenty more rooms at once: one session write for all of them (coalesced), not twenty.
      const more = Array.from({ length: 20 }, (_, k) => `extra-${k}`);
      assert.deepEqual(await command(s, 'join', { rooms: more }), { rooms: more, refused: [] });
        clients.push(s);
      }
      const firstIds = clients.map((s) => s.id);
      const stored = async () => {
        let n = 0;
        for (const s of clients) n += await admin.exists(`sio:session:${s._pid}`);
        return n;
      };
      // A keeps each session in Redis while its socket is connected, with the room.
      if (live) {
      await eventually(async () => (await stored()) === CLIENTS, { label: 'live sessions written' });
      const one = decode(Buffer.from(await admin.get(`sio:session:${clients[0]._pid}`), 'base64'));
      assert.equal(one.sid, clients[0].id);
      await eventually(async () => {
        const s = decode(Buffer.from(await admin.get(`sio:session:${clients[0]._pid}`), 'base64'));
        return s.rooms.includes('crash-room') && s.rooms.includes('extra-19');
      }, { label: 'rooms in the session' });
      const ttl = await admin.pTTL(`sio:session:${clients[0]._pid}`);
      assert.ok(ttl > RECOVERY_MS && ttl <= RECOVERY_MS * 2, `PTTL ${ttl}`);
      // 21 room changes and an authentication per client: a few writes each, bounded.
      writesBeforeKill = await sessionWrites(a);
      assert.ok(writesBeforeKill >= CLIENTS && writesBeforeKill <= 4 * CLIENTS, `${writesBeforeKill} writes`);
    }

      let sent = 0;
      let killedAt = 0;
      const reconnectedAt = [];
      for (const s of clients) {
        s.io.once('reconnect', () => reconnectedAt.push(Date.now()));
      }
      while (sent < SENDS) {
        await b.api.send({ destination: 'crash-room', topic: 'tick', data: ++sent });
        if (sent === KILL_AFTER) {
          // Every client has had some of it from A.
          await eventually(() => clients.every((s) => s.received.length > 0), { label: 'first sends' });
          proxy.target = b.port;
          const exit = await a.signal('SIGKILL');
          a.stopped = true;
          assert.equal(exit.signal, 'SIGKILL');
          killedAt = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
      }
      if (!live) {
        // Nothing was kept: new sockets, without the room, and what was sent meanwhile is lost.
        await eventually(() => reconnectedAt.length === CLIENTS, { label: 'every client reconnected' });
        assert.equal(await stored(), 0);
        for (const s of clients) {
          assert.equal(s.recovered, false);
          assert.ok(!firstIds.includes(s.id));
          assert.ok(s.received.length < SENDS, `${s.received.length} received`);
        }
        return;
      }
      await eventually(() => clients.every((s) => s.received.length >= SENDS), { timeout: 20_000, label: 'every send received' });
      const expected = Array.from({ length: SENDS }, (_, i) => i + 1);
      for (const s of clients) {
        assert.equal(s.recovered, true, 'recovered on the other server');
        assert.deepEqual(s.received, expected, 'every send once, in order');
      }
      assert.deepEqual(clients.map((s) => s.id), firstIds, 'same socket ids');
      const atKill = clients.map((s) => s.received.length);  // all of them by now
      t.diagnostic(`killed after ${KILL_AFTER} of ${SENDS} sends; the ${CLIENTS} clients reconnected to the other server ` +
        `${Math.min(...reconnectedAt) - killedAt}–${Math.max(...reconnectedAt) - killedAt} ms after the kill; ` +
        `${atKill.reduce((x, y) => x + y, 0)} of ${CLIENTS * SENDS} received, 0 lost, 0 twice, in order; ` +
      `${writesBeforeKill} session writes by the killed server for ${CLIENTS} clients × 21 rooms`);
    });
  });
}
