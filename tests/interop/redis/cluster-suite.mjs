// What every server of a mixed cluster must see of the others, in one adapter mode: Node
// (socket.io 4.8 + @socket.io/redis-adapter 8.3), ignis-fixture and the ignis-socketio program.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SID_RE } from '../lib/ignis-client.mjs';
import { eventually } from '../lib/util.mjs';
import { command, programClient, sioClient, startCluster } from './cluster.mjs';

const sorted = (a) => [...a].sort();

/** Resolves once every socket got `event`, with the args each received. */
async function deliveredTo(sockets, event) {
  return Promise.all(sockets.map((s) => s.log.next(event, { timeout: 5000 })));
}

/**
 * The suite in `mode` on a private Redis, or on `redisCluster()` (a function: the Redis Cluster
 * is started by the caller's before() hook, after this suite is declared).
 */
export function clusterSuite(mode, { redisCluster } = {}) {
  describe(`mixed cluster, ${mode} adapter${redisCluster ? ', on a Redis Cluster' : ''}`, () => {
    let c;
    let n1, n2, f1, f2, f3, p1;
    let markers = 0;

    // A broadcast from Node that every client gets. Each server publishes on one connection and
    // receives on one subscriber connection, so once a client has the marker, whatever was
    // published to it before has arrived: "nothing came" needs no sleep.
    async function flush(sockets) {
      const event = `marker-${++markers}`;
      await command(n1, 'emit-to', { event, args: [] });
      await deliveredTo(sockets, event);
    }

    before(async () => {
      c = await startCluster(mode, { redisCluster: redisCluster?.() });
      [n1, n2, f1, f2, f3] = await Promise.all([
        sioClient(c.node), sioClient(c.node), sioClient(c.fixture), sioClient(c.fixture),
        sioClient(c.fixture),
      ]);
      p1 = await programClient(c.program);
      for (const s of [n1, n2, f1, f2, f3, p1]) assert.match(s.id, SID_RE);
    });
    after(async () => {
      await c?.stop();
    });

    it('broadcasts from every server reach the clients of every other (binary included)', async () => {
      const all = () => [n1, n2, f1, f2, f3, p1];
      await command(n1, 'emit-to', { event: 'from-node', args: ['n', 1, { deep: [true, null] }] });
      for (const args of await deliveredTo(all(), 'from-node')) assert.deepEqual(args, ['n', 1, { deep: [true, null] }]);

      await command(f1, 'emit-to', { event: 'from-fixture', args: ['f', 1.5, Buffer.from([1, 2, 3])] });
      for (const [s, b, bin] of await deliveredTo(all(), 'from-fixture')) {
        assert.equal(s, 'f');
        assert.equal(b, 1.5);
        assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
      }

      await command(n2, 'emit-to', { event: 'bin-node', args: [Buffer.from('dead', 'hex')] });
      for (const [bin] of await deliveredTo([f1, f2, p1], 'bin-node')) {
        assert.deepEqual([...new Uint8Array(bin)], [0xde, 0xad]);
      }

      // The program's send() (HTTP API) goes through the adapter.
      await c.program.api.send({ topic: 'from-program', data: { p: 2 } });
      for (const args of await deliveredTo(all(), 'from-program')) assert.deepEqual(args, [{ p: 2 }]);
    });

    it('room sends and except work from every server', async () => {
      for (const [s, room] of [[n1, 'r1'], [n2, 'r2'], [f1, 'r1'], [f2, 'r1'], [f2, 'r2']]) {
        assert.equal(await command(s, 'join', room), 'joined');
      }
      // f3 and p1 are in neither room; n2 and f2 are in r2.
      await command(n1, 'emit-to', { event: 'room-n', rooms: ['r1'], except: ['r2'], args: [1] });
      await deliveredTo([n1, f1], 'room-n');
      await command(f1, 'emit-to', { event: 'room-f', rooms: ['r1', 'r2'], except: [], args: [2] });
      await deliveredTo([n1, n2, f1, f2], 'room-f');
      await command(f3, 'emit-to', { event: 'except-f', except: ['r1'], args: [3] });
      await deliveredTo([n2, f3, p1], 'except-f');
      await c.program.api.send({ destination: 'r2', topic: 'room-p', data: 4 });
      await deliveredTo([n2, f2], 'room-p');
      // A send to one socket id crosses servers too.
      await c.program.api.send({ destination: n1.id, topic: 'to-id', data: 5 });
      await deliveredTo([n1], 'to-id');

      await flush([n1, n2, f1, f2, f3, p1]);
      const got = (s, e) => s.log.count(e);
      for (const s of [n2, f2, f3, p1]) assert.equal(got(s, 'room-n'), 0, `room-n reached ${s.id}`);
      for (const s of [f3, p1]) assert.equal(got(s, 'room-f'), 0);
      for (const s of [n1, f1, f2]) assert.equal(got(s, 'except-f'), 0);
      for (const s of [n1, f1, f3, p1]) assert.equal(got(s, 'room-p'), 0);
      for (const s of [n2, f1, f2, f3, p1]) assert.equal(got(s, 'to-id'), 0);
    });

    it("a program client cannot join the id room of a client on another server (--rooms-allow '*')", async () => {
      const spy = await programClient(c.program);
      // The ids of a Node client and a fixture client: neither lives on the program's server.
      const answer = await command(spy, 'join', { rooms: [n1.id, f1.id, 'open-room'] });
      assert.deepEqual(answer, { rooms: ['open-room'], refused: [n1.id, f1.id] });

      // Direct messages, from Node (io.to(id)) and from the program's HTTP API, reach their owners only.
      await command(n2, 'emit-to', { event: 'direct-n', rooms: [n1.id], args: ['n1'] });
      await command(n2, 'emit-to', { event: 'direct-n', rooms: [f1.id], args: ['f1'] });
      await c.program.api.send({ destination: n1.id, topic: 'direct-p', data: 'n1' });
      await c.program.api.send({ destination: f1.id, topic: 'direct-p', data: 'f1' });
      assert.deepEqual(await n1.log.next('direct-n'), ['n1']);
      assert.deepEqual(await f1.log.next('direct-n'), ['f1']);
      assert.deepEqual(await n1.log.next('direct-p'), ['n1']);
      assert.deepEqual(await f1.log.next('direct-p'), ['f1']);
      // The room it was allowed is an ordinary cluster room.
      await command(n2, 'emit-to', { event: 'to-open-room', rooms: ['open-room'], args: [1] });
      await deliveredTo([spy], 'to-open-room');

      await flush([n1, n2, f1, f2, spy]);
      for (const e of ['direct-n', 'direct-p']) {
        assert.equal(spy.log.count(e), 0, `${e} reached the program's client`);
        for (const s of [n2, f2]) assert.equal(s.log.count(e), 0, `${e} reached ${s.id}`);
        for (const s of [n1, f1]) assert.equal(s.log.count(e), 1, `${e} once to ${s.id}`);
      }
      spy.disconnect();
    });

    it('fetchSockets sees every server, with Node\'s ids and rooms', async () => {
      const fromNode = await command(n1, 'fetch-sockets', { rooms: ['r1'] });
      assert.deepEqual(sorted(fromNode.map((s) => s.id)), sorted([n1.id, f1.id, f2.id]));
      const f2seen = fromNode.find((s) => s.id === f2.id);
      assert.deepEqual(sorted(f2seen.rooms), sorted([f2.id, 'r1', 'r2']));

      const fromFixture = await command(f1, 'fetch-sockets', {});
      const ids = fromFixture.map((s) => s.id);
      for (const s of [n1, n2, f1, f2, f3, p1]) assert.ok(ids.includes(s.id), `${s.id} missing`);
      const n2seen = fromFixture.find((s) => s.id === n2.id);
      assert.deepEqual(sorted(n2seen.rooms), sorted([n2.id, 'r2']));
      for (const id of ids) assert.match(id, SID_RE);
    });

    // Node's sharded adapter has no allRooms(): the test exists in classic mode only.
    if (mode === 'classic') {
      it('allRooms (classic only) is answered by the C++ servers', async () => {
        const rooms = await c.node.io.of('/').adapter.allRooms();
        for (const r of ['r1', 'r2', f1.id, f3.id, p1.id, 'io-default']) assert.ok(rooms.has(r), `${r} missing`);
      });
    }

    it('socketsJoin and socketsLeave work in both directions', async () => {
      const rooms = (s) => command(s, 'rooms');
      await command(n1, 'sockets-join', { rooms: [f3.id], room: 'joined-by-node' });
      await eventually(async () => (await rooms(f3)).includes('joined-by-node'), { label: 'f3 joined' });
      await command(f1, 'sockets-join', { rooms: ['r2'], room: 'joined-by-fixture' });
      await eventually(async () => (await rooms(n2)).includes('joined-by-fixture'), { label: 'n2 joined' });
      // The classic adapter applies a rooms operation when it hears its own request back from
      // Redis, like every other server: Node may have it first.
      await eventually(async () => (await rooms(f2)).includes('joined-by-fixture'), { label: 'f2 joined' });

      await command(f1, 'sockets-leave', { rooms: [n2.id], room: 'joined-by-fixture' });
      await eventually(async () => !(await rooms(n2)).includes('joined-by-fixture'), { label: 'n2 left' });
      await command(n1, 'sockets-leave', { room: 'joined-by-node' });
      await eventually(async () => !(await rooms(f3)).includes('joined-by-node'), { label: 'f3 left' });
      assert.ok((await rooms(f2)).includes('joined-by-fixture'), 'f2 was not targeted');
    });

    it('broadcast with acks collects the answers of clients on other servers', async () => {
      for (const s of [n1, f1, f2]) s.on('ask', (q, cb) => cb(`${q}:${s.id}`));
      for (const s of [n1, f1, f2]) assert.equal(await command(s, 'join', 'ackers'), 'joined');
      const fromNode = await command(n1, 'emit-to-with-ack', { rooms: ['ackers'], timeout: 4000, event: 'ask', args: ['q1'] });
      assert.equal(fromNode.err, null);
      assert.deepEqual(sorted(fromNode.responses), sorted([n1, f1, f2].map((s) => `q1:${s.id}`)));
      const fromFixture = await command(f1, 'emit-to-with-ack', { rooms: ['ackers'], timeout: 4000, event: 'ask', args: ['q2'] });
      assert.equal(fromFixture.err, null);
      assert.deepEqual(sorted(fromFixture.responses), sorted([n1, f1, f2].map((s) => `q2:${s.id}`)));
    });

    it('disconnectSockets reaches other servers', async () => {
      const [n3, f4] = await Promise.all([sioClient(c.node), sioClient(c.fixture)]);
      const gone = (s) => new Promise((resolve) => s.once('disconnect', resolve));
      let g = gone(f4);
      await command(n1, 'disconnect-sockets', { rooms: [f4.id] });
      assert.equal(await g, 'io server disconnect');
      g = gone(n3);
      await command(f1, 'disconnect-sockets', { rooms: [n3.id], close: true });
      assert.equal(await g, 'io server disconnect');  // the DISCONNECT packet comes before the close
      assert.ok(n1.connected && f1.connected && p1.connected);
    });

    it('serverSideEmit reaches the other servers, and acks come back', async () => {
      await command(n1, 'notify-servers', 'hello-from-node');
      assert.deepEqual(await f1.log.next('server-event'), ['hello-from-node']);
      await command(f1, 'notify-servers', 'hello-from-fixture');
      assert.deepEqual(await n1.log.next('server-event'), ['hello-from-fixture']);

      // The program registers no server-side handlers (it would never answer): without it.
      await c.program.stop();
      c.program.stopped = true;
      await eventually(async () => (await c.serverCount()) === 2, { label: 'two servers left' });
      const fromNode = await command(n1, 'server-side-emit', 'p', 1);
      assert.deepEqual(fromNode, { err: null, replies: 1, values: [{ from: 'ignis', args: ['p', 1] }] });
      const fromFixture = await command(f1, 'server-side-emit', 'q', { x: 2 });
      assert.deepEqual(fromFixture, { err: null, replies: 1, values: [{ from: 'node', args: ['q', { x: 2 }] }] });
    });
  });
}
