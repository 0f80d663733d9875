// Connection state recovery across a mixed streams-mode cluster: Node (socket.io 4.8 +
// @socket.io/redis-streams-adapter 0.3), ignis-fixture and the program, all with recovery on.
// A client lost by one server recovers on another, C++ to Node and Node to C++: same id, rooms
// and data, every packet it missed (and only those) with the stream entry ids as offsets. Then
// Redis itself: frozen while every server publishes, and restarted; connected clients get every
// message once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newSocket, whenConnected } from '../lib/sio-client.mjs';
import { eventually, waitFor } from '../lib/util.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { command, programClient, sioClient, startCluster, startFixture } from './cluster.mjs';

const { decode } = requirePeer('@msgpack/msgpack');

const RECOVERY_MS = 5000;
const FREEZE_MS = 10_000;
const ID_RE = /^[0-9]+-[0-9]+$/;

/** A client of `server` that does not reconnect by itself; with `from`, it asks to recover it. */
async function recoveringClient(server, from) {
  const socket = newSocket(server.url, { path: server.path ?? '/socket.io/' });
  if (from) {
    // What socket.io-client sends after a lost connection to the same URL: its pid and last offset.
    socket._pid = from.pid;
    socket._lastOffset = from.offset;
  }
  await whenConnected(socket);
  return socket;
}

/** Drops the connection from the client side: the server sees "transport close". */
async function lose(socket) {
  const state = { pid: socket._pid, offset: socket._lastOffset, id: socket.id };
  const gone = waitFor(socket, 'disconnect');
  socket.io.engine.close();
  await gone;
  return state;
}

describe('streams adapter: recovery across servers', () => {
  let c;
  let n1, f1;
  const sessionKey = (pid) => `sio:session:${pid}`;
  const sessionStored = (pid) => eventually(async () => (await c.admin.exists(sessionKey(pid))) === 1, { label: 'session stored' });

  before(async () => {
    c = await startCluster('streams', { recovery: RECOVERY_MS });
    [n1, f1] = await Promise.all([sioClient(c.node), sioClient(c.fixture)]);
  });
  after(async () => {
    await c?.stop();
  });

  it('writes entries as Node does, and every server gives the entry id as offset', async () => {
    const p1 = await programClient(c.program);
    await command(f1, 'emit-to', { event: 'layout', args: ['x', 1] });
    const got = await Promise.all([n1, f1, p1].map((s) => s.log.next('layout')));
    const offsets = got.map((args) => args.at(-1));
    assert.match(offsets[0], ID_RE);
    assert.deepEqual(new Set(offsets).size, 1, `offsets differ: ${offsets}`);
    for (const args of got.slice(0, 2)) assert.deepEqual(args.slice(0, 2), ['x', 1]);
    const [[id, fields]] = (await c.admin.sendCommand(['XRANGE', 'socket.io', offsets[0], offsets[0]]));
    assert.equal(id, offsets[0]);
    assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['uid', 'nsp', 'type', 'data']);
    assert.match(fields[1], /^[0-9a-f]{16}$/);
    assert.equal(fields[5], '3');
    const data = JSON.parse(fields[7]);
    assert.deepEqual(data.packet, { type: 2, data: ['layout', 'x', 1] });
    assert.deepEqual(data.opts, { rooms: [], except: [], flags: {} });
    p1.disconnect();
  });

  for (const [from, to] of [['fixture', 'node'], ['node', 'fixture']]) {
    it(`a client lost by the ${from} recovers on the ${to}, with what it missed`, async () => {
      const first = await recoveringClient(c[from]);
      assert.equal(await command(first, 'join', 'watchers'), 'joined');
      await command(n1, 'emit-to', { event: 'before', rooms: ['watchers'], args: [0] });
      await first.log.next('before');
      assert.match(first._lastOffset, ID_RE);
      const lost = await lose(first);
      await sessionStored(lost.pid);

      // While it is away, from both sides: to all, to its room, to its id, to another room,
      // except its room.
      await command(n1, 'emit-to', { event: 'missed', args: ['all-from-node'] });
      await command(f1, 'emit-to', { event: 'missed', rooms: ['watchers'], args: ['room-from-fixture'] });
      await command(n1, 'emit-to', { event: 'missed', rooms: [lost.id], args: ['id-from-node'] });
      await command(f1, 'emit-to', { event: 'missed', rooms: ['elsewhere'], args: ['not-for-it'] });
      await command(n1, 'emit-to', { event: 'missed', except: ['watchers'], args: ['not-for-it'] });
      await command(f1, 'emit-to', { event: 'marker', args: [] });
      await n1.log.next('marker');

      const back = await recoveringClient(c[to], lost);
      assert.equal(back.recovered, true);
      assert.equal(back.id, lost.id);
      const missed = back.log.all('missed');
      assert.deepEqual(missed.map((a) => a[0]), ['all-from-node', 'room-from-fixture', 'id-from-node']);
      for (const a of missed) assert.match(a.at(-1), ID_RE);
      // Offsets in stream order, after the one it had.
      const ids = [lost.offset, ...missed.map((a) => a.at(-1))].map((s) => s.split('-').map(BigInt));
      for (let i = 1; i < ids.length; ++i) assert.ok(ids[i][0] > ids[i - 1][0] || (ids[i][0] === ids[i - 1][0] && ids[i][1] > ids[i - 1][1]));
      // Its room came back: a send to it reaches the recovered socket.
      await command(n1, 'emit-to', { event: 'after', rooms: ['watchers'], args: [1] });
      assert.equal((await back.log.next('after'))[0], 1);
      if (to === 'node') {
        // The session was taken.
        assert.equal(await c.admin.exists(sessionKey(lost.pid)), 0);
      } else {
        // Taken, then kept again for the restored socket while it is connected (so that it
        // survives a crash of this server): its id and rooms, expiring unless refreshed.
        await eventually(async () => (await c.admin.exists(sessionKey(lost.pid))) === 1, { label: 'live session' });
        const live = decode(Buffer.from(await c.admin.get(sessionKey(lost.pid)), 'base64'));
        assert.deepEqual({ sid: live.sid, pid: live.pid }, { sid: lost.id, pid: lost.pid });
        assert.ok(live.rooms.includes('watchers'));
        const ttl = await c.admin.pTTL(sessionKey(lost.pid));
        assert.ok(ttl > 0 && ttl <= RECOVERY_MS + 2 * Math.max(RECOVERY_MS / 2, 1000), `PTTL ${ttl}`);
      }
      back.disconnect();
      // Gone for good (the client left): no session left behind.
      await eventually(async () => (await c.admin.exists(sessionKey(lost.pid))) === 0, { label: 'session deleted' });
    });
  }

  it('a server started after the client lost its connection finds the older part in the stream', async () => {
    const first = await recoveringClient(c.node);
    assert.equal(await command(first, 'join', 'late'), 'joined');
    await command(n1, 'emit-to', { event: 'seen', args: [] });
    await first.log.next('seen');
    const lost = await lose(first);
    await sessionStored(lost.pid);
    await command(n1, 'emit-to', { event: 'older', rooms: ['late'], args: [1] });
    await command(f1, 'emit-to', { event: 'older', args: [2] });
    await n1.log.next('older');
    // A new server: what came before its start is only in the stream; what comes after it is in
    // its own store too. The client gets both, once each, in order.
    const late = await startFixture(c.redis.url, 'streams', undefined, ['--connection-state-recovery', String(RECOVERY_MS)]);
    try {
      await eventually(async () => (await c.node.io.of('/').adapter.serverCount()) === 4, { label: 'fourth server counted' });
      await command(n1, 'emit-to', { event: 'older', rooms: ['late'], args: [3] });
      await command(f1, 'emit-to', { event: 'marker2', args: [] });
      await n1.log.next('marker2');
      const back = await recoveringClient(late, lost);
      assert.equal(back.recovered, true);
      assert.deepEqual(back.log.all('older').map((a) => a[0]), [1, 2, 3]);
      back.disconnect();
    } finally {
      await late.stop();
    }
  });

  it('a session is taken once, and an offset the stream does not hold gives a new socket', async () => {
    const first = await recoveringClient(c.fixture);
    await command(n1, 'emit-to', { event: 'one', args: [] });
    await first.log.next('one');
    const lost = await lose(first);
    await sessionStored(lost.pid);
    const again = await recoveringClient(c.node, lost);
    assert.equal(again.recovered, true);
    const twice = await recoveringClient(c.fixture, lost);
    assert.equal(twice.recovered, false);
    assert.notEqual(twice.id, lost.id);

    const other = await recoveringClient(c.node);
    await command(n1, 'emit-to', { event: 'two', args: [] });
    await other.log.next('two');
    const lost2 = await lose(other);
    await sessionStored(lost2.pid);
    const bogus = await recoveringClient(c.fixture, { ...lost2, offset: '1-0' });
    assert.equal(bogus.recovered, false);
  });
});

describe('streams adapter: Redis frozen and restarted', () => {
  let c;
  let n1, f1, f2, p1;
  before(async () => {
    c = await startCluster('streams');
    [n1, f1, f2] = await Promise.all([sioClient(c.node), sioClient(c.fixture), sioClient(c.fixture)]);
    p1 = await programClient(c.program);
  });
  after(async () => {
    await c?.stop();
  });

  /** Every client got `event` n times, each of 0..n-1 once per sender tag. */
  async function allOnce(event, senders, n) {
    for (const s of [n1, f1, f2, p1]) {
      await eventually(() => s.log.count(event) >= senders.length * n, { timeout: 15_000, label: `${event} on ${s.id}` });
    }
    // A marker written to the stream after all of it: once every client has it, every server has
    // read past whatever could still come twice.
    const marker = `flush-${event}`;
    await command(n1, 'emit-to', { event: marker, args: [] });
    await Promise.all([n1, f1, f2, p1].map((s) => s.log.next(marker, { timeout: 10_000 })));
    for (const s of [n1, f1, f2, p1]) {
      const got = s.log.all(event).map((a) => `${a[0]}:${a[1]}`).sort();
      const want = senders.flatMap((tag) => Array.from({ length: n }, (_, i) => `${tag}:${i}`)).sort();
      assert.deepEqual(got, want, `${event} on ${s.id}`);
    }
  }

  it('what every server sends while Redis is frozen reaches every client once, after it runs again', async () => {
    // Node's reader asks for "$" until it has read an entry: an XREAD that times out during the
    // freeze would then be followed by one that starts after what was written meanwhile (the
    // package's own gap). One entry read first gives it an id to resume from, as ours always has.
    await command(f1, 'emit-to', { event: 'warm-up', args: [] });
    await Promise.all([n1, f1, f2, p1].map((s) => s.log.next('warm-up')));
    await c.redis.freeze();
    const sent = [];
    for (let i = 0; i < 20; ++i) {
      sent.push(command(n1, 'emit-to', { event: 'frozen', args: ['node', i] }));
      sent.push(command(f1, 'emit-to', { event: 'frozen', args: ['fixture', i] }));
    }
    await Promise.all(sent);
    // Frozen for longer than the command timeout (5 s): the C++ servers' XADDs time out, and
    // their broadcasts are delivered to their own clients at once; Redis still runs them once
    // thawed, and what is read back then is not delivered twice.
    await new Promise((resolve) => setTimeout(resolve, FREEZE_MS));
    c.redis.thaw();
    await allOnce('frozen', ['node', 'fixture'], 20);
  });

  it('after a Redis restart every server reads on where it was: a burst reaches every client once', async () => {
    await c.redis.stopOnly();
    await c.redis.start();
    // Back when a probe crosses from Node to the fixture and from the fixture to Node.
    let probe = 0;
    await eventually(async () => {
      await command(n1, 'emit-to', { event: 'probe', args: [++probe] });
      await command(f1, 'emit-to', { event: 'probe', args: [++probe] });
      return n1.log.all('probe').some((a) => a[0] % 2 === 0) && f1.log.all('probe').some((a) => a[0] % 2 === 1);
    }, { timeout: 15_000, interval: 200, label: 'delivery across servers resumed' });
    for (let i = 0; i < 50; ++i) {
      await command(n1, 'emit-to', { event: 'burst', args: ['node', i] });
      await command(f1, 'emit-to', { event: 'burst', args: ['fixture', i] });
    }
    await allOnce('burst', ['node', 'fixture'], 50);
  });
});
