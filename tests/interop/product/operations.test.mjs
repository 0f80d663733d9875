// GET /health and GET /metrics after known traffic: connections by transport, handshakes,
// authentication outcomes, joins and rooms, broadcasts, packets and bytes, Redis disabled, the
// event-loop lag of each shard.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnProgram, withApi } from '../lib/server.mjs';
import {
  MSG_INVALID, authedClient, closeAllClients, connectClient, disconnected, next, request,
} from '../lib/ignis-client.mjs';
import { eventually } from '../lib/util.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

/** Prometheus text -> Map("name{labels}" -> number), comments skipped. */
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, `malformed sample line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

async function get(server, path) {
  const res = await fetch(server.url + path, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('operations endpoints', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('/health and /metrics report known traffic', async (t) => {
    const server = await spawnProgram(withApi([
      '--auth', 'tokens', '--tokens', 'good', '--rooms-allow', 'room-*', '--threads', '1',
      '--ping-interval', '60000',
    ]));
    t.after(async () => {
      closeAllClients();
      await server.stop();
    });

    let health = await get(server, '/health');
    assert.equal(health.status, 200);
    assert.match(health.type, /application\/json/);
    assert.deepEqual(JSON.parse(health.text), { status: 'ok', connections: 0, authenticated: 0, redis: 'disabled' });

    const ws = await authedClient(server, { token: 'good', transports: ['websocket'] });
    const polling = await authedClient(server, { token: 'good', transports: ['polling'] });
    const bad = await connectClient(server, { token: 'bad' });
    bad.emit('authenticate');
    assert.equal((await next(bad, 'unauthenticated'))[0].message, MSG_INVALID);
    assert.equal(await disconnected(bad), 'io server disconnect');
    assert.deepEqual(await request(ws, 'join', { rooms: ['room-x', 'not-allowed'] }), { rooms: ['room-x'], refused: ['not-allowed'] });
    const news = next(ws, 'news');
    await server.api.send({ destination: 'room-x', topic: 'news', data: { text: 'hello' } });
    assert.deepEqual((await news)[0], { text: 'hello' });

    let metrics;
    await eventually(async () => {
      metrics = parseMetrics((await get(server, '/metrics')).text);
      return metrics.get('ignis_connections{transport="polling"}') === 1
        && metrics.get('ignis_connections{transport="websocket"}') === 1;
    }, { label: 'the rejected client is gone' });
    const res = await get(server, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /# TYPE ignis_handshakes_total counter/);
    metrics = parseMetrics(res.text);
    const expect = {
      'ignis_clients{state="authenticated"}': 2,
      'ignis_clients{state="unauthenticated"}': 0,
      ignis_handshakes_total: 3,
      ignis_upgrades_total: 0,
      'ignis_auth_total{result="success"}': 2,
      'ignis_auth_total{result="rejected"}': 1,
      'ignis_auth_total{result="error"}': 0,
      // io-default and io-notification for each authenticated client, then room-x.
      ignis_room_joins_total: 5,
      ignis_rooms: 3,
      ignis_broadcasts_total: 1,
      ignis_backpressure_dropped_total: 0,
      'ignis_redis_up{state="disabled"}': 0,
      ignis_redis_publishes_total: 0,
      ignis_redis_errors_total: 0,
    };
    for (const [key, value] of Object.entries(expect)) assert.equal(metrics.get(key), value, key);
    // Each client sent at least CONNECT and "authenticate"; the websocket one also "join".
    assert.ok(metrics.get('ignis_packets_total{direction="in"}') >= 7, res.text);
    assert.ok(metrics.get('ignis_packets_total{direction="out"}') >= 9, res.text);
    assert.ok(metrics.get('ignis_bytes_total{direction="in"}') > 50, res.text);
    assert.ok(metrics.get('ignis_bytes_total{direction="out"}') > metrics.get('ignis_bytes_total{direction="in"}'), res.text);
    const lag = metrics.get('ignis_event_loop_lag_seconds{shard="0"}');
    assert.ok(lag >= 0 && lag < 5, `lag ${lag}`);
    assert.equal(metrics.has('ignis_event_loop_lag_seconds{shard="1"}'), false, 'one line per shard');

    health = await get(server, '/health');
    assert.deepEqual(JSON.parse(health.text), { status: 'ok', connections: 2, authenticated: 2, redis: 'disabled' });

    // Leaving the room empties it; polling's departure shows in the transport gauge.
    await request(ws, 'leave', { rooms: ['room-x'] });
    polling.disconnect();
    await eventually(async () => {
      const m = parseMetrics((await get(server, '/metrics')).text);
      return m.get('ignis_connections{transport="polling"}') === 0 && m.get('ignis_rooms') === 2;
    }, { label: 'polling client and room-x gone' });
  });

  it('/health and /metrics accept only GET and HEAD', async (t) => {
    const server = await spawnProgram(['--auth', 'none']);
    t.after(() => server.stop());
    const res = await fetch(`${server.url}/metrics`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    assert.equal(res.status, 405);
  });
});
