// The Redis streams adapter (@socket.io/redis-streams-adapter 0.3: XADD/XREAD on one stream for
// broadcasts and room operations, pub/sub for requests and answers) in a mixed cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requirePeer } from '../lib/peers.mjs';
import { eventually } from '../lib/util.mjs';
import { clusterSuite } from './cluster-suite.mjs';
import { command, programClient, sioClient, startCluster } from './cluster.mjs';

const { decode } = requirePeer('@msgpack/msgpack');

clusterSuite('streams');

describe('streams adapter: what goes through the stream and what through pub/sub', () => {
  let c, spy;
  let n1, f1, p1;
  const heard = [];  // { channel, message } of every pub/sub message of namespace "/"

  const lastId = async () => {
    const [last] = await c.admin.sendCommand(['XREVRANGE', 'socket.io', '+', '-', 'COUNT', '1']);
    return last ? last[0] : '0-0';
  };
  const entriesAfter = async (id) => (await c.admin.sendCommand(['XRANGE', 'socket.io', `(${id}`, '+']))
    .map(([entryId, fields]) => ({ id: entryId, ...Object.fromEntries(fields.reduce((a, v, i) => (i % 2 ? a.at(-1).push(v) : a.push([v]), a), [])) }));

  before(async () => {
    c = await startCluster('streams');
    [n1, f1] = await Promise.all([sioClient(c.node), sioClient(c.fixture)]);
    p1 = await programClient(c.program);
    spy = c.admin.duplicate();
    spy.on('error', () => {});
    await spy.connect();
    await spy.pSubscribe('socket.io#/#*', (message, channel) => heard.push({ channel: String(channel), message }), true);
  });
  after(async () => {
    await spy?.quit().catch(() => {});
    await c?.stop();
  });

  it('every server counts three (PUBSUB NUMSUB of the namespace channel), Node included', async () => {
    assert.equal(await c.node.io.of('/').adapter.serverCount(), 3);
    const [, n] = await c.admin.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io#/#']);
    assert.equal(Number(n), 3);
  });

  it('fetchSockets, serverSideEmit and broadcasts with acks are published as msgpack, never XADDed', async () => {
    const nodeUid = c.node.io.of('/').adapter.uid;
    const before = await lastId();
    heard.length = 0;

    const fromFixture = await command(f1, 'fetch-sockets', {});
    for (const s of [n1, f1, p1]) assert.ok(fromFixture.map((x) => x.id).includes(s.id), `${s.id} missing`);
    const fromNode = await command(n1, 'fetch-sockets', {});
    for (const s of [n1, f1, p1]) assert.ok(fromNode.map((x) => x.id).includes(s.id), `${s.id} missing`);
    assert.equal(await command(f1, 'notify-servers', 'by-pubsub'), 'ok');
    assert.deepEqual(await n1.log.next('server-event'), ['by-pubsub']);
    n1.on('ask-wire', (q, cb) => cb(`n:${q}`));
    f1.on('ask-wire', (q, cb) => cb(`f:${q}`));
    assert.equal(await command(n1, 'join', 'wire-ackers'), 'joined');
    assert.equal(await command(f1, 'join', 'wire-ackers'), 'joined');
    const acked = await command(f1, 'emit-to-with-ack', { rooms: ['wire-ackers'], timeout: 4000, event: 'ask-wire', args: ['q'] });
    assert.equal(acked.err, null);
    assert.deepEqual([...acked.responses].sort(), ['f:q', 'n:q']);
    const ackedByNode = await command(n1, 'emit-to-with-ack', { rooms: ['wire-ackers'], timeout: 4000, event: 'ask-wire', args: ['r'] });
    assert.deepEqual([...ackedByNode.responses].sort(), ['f:r', 'n:r']);

    // Nothing of it in the stream.
    const entries = await entriesAfter(before);
    for (const e of entries) {
      assert.ok(['3', '4', '5', '6'].includes(e.type), `type ${e.type} XADDed`);
      assert.ok(!(e.data ?? '').includes('requestId'), `a request XADDed: ${e.data}`);
    }

    // On the wire: msgpack {type, data, uid, nsp}, requests on socket.io#/#, answers on the
    // requester's own channel.
    const decoded = heard.map(({ channel, message }) => ({ channel, m: decode(message) }));
    for (const { m } of decoded) assert.deepEqual(Object.keys(m), ['type', 'data', 'uid', 'nsp']);
    const fixtureUid = decoded.find(({ m }) => m.type === 7 && m.uid !== nodeUid)?.m.uid;
    assert.match(fixtureUid ?? '', /^[0-9a-f]{16}$/);
    const sent = (uid, type, channel) => decoded.some(({ channel: ch, m }) => m.uid === uid && m.type === type && ch === channel);
    assert.ok(sent(fixtureUid, 7, 'socket.io#/#'), 'FETCH_SOCKETS by the fixture');
    assert.ok(sent(fixtureUid, 9, 'socket.io#/#'), 'SERVER_SIDE_EMIT by the fixture');
    assert.ok(sent(fixtureUid, 3, 'socket.io#/#'), 'BROADCAST with requestId by the fixture');
    assert.ok(sent(nodeUid, 8, `socket.io#/#${fixtureUid}#`), 'Node answers the fixture on its channel');
    assert.ok(sent(nodeUid, 12, `socket.io#/#${fixtureUid}#`), 'Node acks to the fixture');
    assert.ok(sent(fixtureUid, 8, `socket.io#/#${nodeUid}#`), 'the fixture answers Node on its channel');
    assert.ok(sent(fixtureUid, 11, `socket.io#/#${nodeUid}#`), 'the fixture counts its clients for Node');
    assert.ok(sent(fixtureUid, 12, `socket.io#/#${nodeUid}#`), 'the fixture acks to Node');
    // The program answers too (its sockets were in both fetches).
    assert.ok(decoded.some(({ channel, m }) => m.type === 8 && m.uid !== fixtureUid && m.uid !== nodeUid && channel === `socket.io#/#${nodeUid}#`));
  });

  it('broadcasts, joins, leaves and disconnects are XADDed, each server its own uid', async () => {
    const before = await lastId();
    await command(f1, 'emit-to', { event: 'in-stream', args: [1] });
    await c.program.api.send({ topic: 'in-stream-p', data: 2 });
    await Promise.all([n1.log.next('in-stream'), n1.log.next('in-stream-p')]);
    await command(f1, 'sockets-join', { rooms: [n1.id], room: 'x' });
    await command(f1, 'sockets-leave', { rooms: [n1.id], room: 'x' });
    const doomed = await sioClient(c.node);
    await command(f1, 'disconnect-sockets', { rooms: [doomed.id] });
    await eventually(async () => (await entriesAfter(before)).length >= 5, { label: 'five entries' });
    const entries = await entriesAfter(before);
    assert.deepEqual(entries.map((e) => e.type), ['3', '3', '4', '5', '6']);
    assert.equal(new Set(entries.map((e) => e.uid)).size, 2);  // the fixture's and the program's
    for (const e of entries) assert.equal(e.nsp, '/');
  });

  it("the program's /metrics and /health show its stream reader: entries, skipped entries, position, lag", async () => {
    const metrics = async () => {
      const text = await (await fetch(`${c.program.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
      const sample = (name) => {
        const m = new RegExp(`^${name} ([0-9.]+)$`, 'm').exec(text);
        assert.ok(m, `${name} missing from /metrics`);
        return Number(m[1]);
      };
      return {
        entries: sample('ignis_redis_stream_entries_total'),
        malformed: sample('ignis_redis_stream_malformed_total'),
        readErrors: sample('ignis_redis_stream_read_errors_total'),
        lastId: sample('ignis_redis_stream_last_id_seconds'),
        lag: sample('ignis_redis_stream_lag_seconds'),
      };
    };
    const health = async () => (await (await fetch(`${c.program.url}/health`, { signal: AbortSignal.timeout(3000) })).json()).redis_stream;
    // From a reader that has read what is there already (the earlier tests' entries, which a slow
    // build may still be reading), so that the counts below are this test's alone.
    const settled = await lastId();
    await eventually(async () => (await health()).position === settled, { label: 'reader caught up' });
    const m0 = await metrics();
    assert.equal(m0.readErrors, 0);
    // Not messages: no nsp; a type that is no number. Then a good broadcast, which still arrives.
    const bad1 = await c.admin.sendCommand(['XADD', 'socket.io', '*', 'uid', 'feedfeedfeedfeed', 'type', '3', 'data', '{}']);
    const bad2 = await c.admin.sendCommand(['XADD', 'socket.io', '*', 'uid', 'feedfeedfeedfeed', 'nsp', '/', 'type', 'three', 'data', '{}']);
    assert.ok(bad1 && bad2);
    await command(f1, 'emit-to', { event: 'after-bad', args: [] });
    await p1.log.next('after-bad');
    const offset = await lastId();
    await eventually(async () => (await health()).position === offset, { label: 'position at the last entry' });
    const h = await health();
    assert.equal(h.malformed, m0.malformed + 2);
    assert.equal(h.read_errors, 0);
    assert.ok(h.lag_ms >= 0 && h.lag_ms < 5000, `lag ${h.lag_ms} ms`);
    const m1 = await metrics();
    assert.equal(m1.entries, m0.entries + 3);
    assert.equal(m1.malformed, m0.malformed + 2);
    assert.equal(m1.lastId, Number(offset.split('-')[0]) / 1000);
    assert.ok(m1.lag >= 0 && m1.lag < 5, `lag ${m1.lag} s`);
    assert.equal(h.entries, m1.entries);
  });
});
