// Soak: mixed load against the Ignis program (ignis-fixture --mode ignis) for --minutes, with the
// server's VmRSS and open descriptors sampled every 10 s and a trend computed at the end.
//
// Load: --users concurrent virtual users, each in a loop: connect (WebSocket, or polling one time
// in four), authenticate (one time in ten it does not, and the server disconnects it at
// --authenticate-timeout), join two of 50 rooms, stay 1-4 s receiving broadcasts, leave one room,
// disconnect. Meanwhile the HTTP API broadcasts to a random room every 50 ms and to everyone
// every second.
//
//   node tests/stress/soak.mjs --fixture build/release/app/ignis-fixture [--minutes 30] \
//        [--users 200] [--threads 2] [--authenticate-timeout 2000] [--out soak.csv]
//
// The trend: a least-squares line through the samples of the second half of the run (the first
// half is warm-up: allocator pools and kernel buffers settle). The run fails (exit 1) when, over
// the second half, that line rises by more than 10 % of the mean RSS or by more than 50
// descriptors (runs of 2 minutes and more), or when a user saw an error.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnChild } from '../interop/lib/server.mjs';
import { sleep } from '../interop/lib/util.mjs';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const { io } = require('socket.io-client');

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith('--')) args[a.slice(2)] = process.argv[i + 1];
}
const fixture = args.fixture ?? process.env.IGNIS_FIXTURE;
if (!fixture) throw new Error('--fixture PATH (ignis-fixture) is required');
const minutes = Number(args.minutes ?? 30);
const users = Number(args.users ?? 200);
const threads = Number(args.threads ?? 2);
const authTimeout = Number(args['authenticate-timeout'] ?? 2000);
const API_KEY = 'soak-key';
const ROOMS = 50;

const server = await spawnChild(fixture, ['--mode', 'ignis', '--host', '127.0.0.1', '--port', '0', '--threads', String(threads),
  '--auth', 'tokens', '--tokens', 'good', '--authenticate-timeout', String(authTimeout),
  '--rooms-allow', 'room-*', '--api-key', API_KEY, '--ping-interval', '5000'], { kind: 'fixture' });
const { port } = server;
let serverExit = null;
server.exited.then((info) => {
  serverExit = info;
});
const base = `http://127.0.0.1:${port}`;
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))[1]);
const openFds = () => readdirSync(`/proc/${server.process.pid}/fd`).length;

const stats = { sessions: 0, authenticated: 0, kickedUnauthenticated: 0, lateAuthenticate: 0, broadcastsReceived: 0, errors: {}, apiErrors: 0 };
const bump = (k) => {
  stats.errors[k] = (stats.errors[k] ?? 0) + 1;
};
const pick = (n) => Math.floor(Math.random() * n);
let running = true;

async function session() {
  const authenticate = Math.random() >= 0.1;
  const socket = io(base, {
    transports: Math.random() < 0.25 ? ['polling'] : ['websocket'],
    auth: { token: 'good' }, reconnection: false, forceNew: true,
  });
  stats.sessions++;
  socket.on('news', () => stats.broadcastsReceived++);
  let leaving = false;
  const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (e) => reject(new Error(`connect_error: ${e.message}`)));
      setTimeout(() => reject(new Error('connect timeout')), 30_000);
    });
    if (!authenticate) {
      const reason = await Promise.race([disconnected, sleep(authTimeout * 3).then(() => 'still connected')]);
      if (reason === 'io server disconnect') stats.kickedUnauthenticated++;
      else bump(`unauthenticated: ${reason}`);
      return;
    }
    const outcome = await new Promise((resolve, reject) => {
      socket.once('authenticated', () => resolve('authenticated'));
      // A client slowed down past --authenticate-timeout is rightly disconnected first.
      disconnected.then((r) => resolve(`disconnected before authenticated: ${r}`));
      socket.emit('authenticate');
      setTimeout(() => reject(new Error('authenticate timeout')), 30_000);
    });
    if (outcome !== 'authenticated') {
      stats.lateAuthenticate++;
      if (!outcome.endsWith('io server disconnect')) bump(outcome);
      return;
    }
    stats.authenticated++;
    const rooms = [`room-${pick(ROOMS)}`, `room-${pick(ROOMS)}`];
    await socket.timeout(10_000).emitWithAck('join', { rooms });
    await Promise.race([sleep(1000 + pick(3000)), disconnected.then((r) => leaving || bump(`disconnected early: ${r}`))]);
    if (socket.connected) await socket.timeout(10_000).emitWithAck('leave', { rooms: [rooms[0]] });
  } catch (e) {
    bump(e.message);
  } finally {
    leaving = true;
    socket.disconnect();
  }
}

async function user() {
  while (running) await session();
}

async function api(body) {
  try {
    const res = await fetch(`${base}/api/send`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': API_KEY }, body: JSON.stringify(body),
    });
    await res.text();
    if (res.status !== 200) stats.apiErrors++;
  } catch {
    stats.apiErrors++;
  }
}

const samples = [];
const started = Date.now();
const sample = () => {
  const s = { t: (Date.now() - started) / 1000, rssKiB: rssKiB(), fds: openFds(), sessions: stats.sessions };
  samples.push(s);
  console.log(`t=${s.t.toFixed(0)}s rss=${s.rssKiB}KiB fds=${s.fds} sessions=${stats.sessions} authenticated=${stats.authenticated} ` +
    `kicked=${stats.kickedUnauthenticated} received=${stats.broadcastsReceived} errors=${JSON.stringify(stats.errors)}`);
};
sample();
const sampler = setInterval(sample, 10_000);
const roomCast = setInterval(() => api({ destination: `room-${pick(ROOMS)}`, topic: 'news', data: { at: Date.now() } }), 50);
const allCast = setInterval(() => api({ topic: 'news', data: { all: true } }), 1000);
const loops = Array.from({ length: users }, (_, i) => sleep(i * 10).then(user));

await sleep(minutes * 60_000);
running = false;
clearInterval(roomCast);
clearInterval(allCast);
await Promise.all(loops);
sample();
clearInterval(sampler);

function slope(points, key) {
  const n = points.length;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p[key], 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mt) * (p[key] - mv), 0);
  const den = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return { perSecond: den ? num / den : 0, mean: mv };
}
const second = samples.slice(Math.floor((samples.length - 1) / 2), -1);
const span = second.length > 1 ? second[second.length - 1].t - second[0].t : 0;
const rss = slope(second, 'rssKiB');
const fds = slope(second, 'fds');
const report = {
  minutes, users, threads, samples: samples.length,
  stats,
  rssKiB: { first: samples[0].rssKiB, min: Math.min(...samples.map((s) => s.rssKiB)), max: Math.max(...samples.map((s) => s.rssKiB)), last: samples[samples.length - 1].rssKiB },
  fds: { first: samples[0].fds, max: Math.max(...samples.map((s) => s.fds)), last: samples[samples.length - 1].fds },
  secondHalfTrend: {
    seconds: span,
    rssKiBPerMinute: +(rss.perSecond * 60).toFixed(1),
    rssRiseKiB: +(rss.perSecond * span).toFixed(0),
    rssRisePercentOfMean: +((100 * rss.perSecond * span) / rss.mean).toFixed(2),
    fdsPerMinute: +(fds.perSecond * 60).toFixed(2),
    fdsRise: +(fds.perSecond * span).toFixed(1),
  },
  serverExit,
};
console.log(JSON.stringify(report, null, 2));
if (args.out) writeFileSync(args.out, ['t,rss_kib,fds,sessions', ...samples.map((s) => `${s.t},${s.rssKiB},${s.fds},${s.sessions}`)].join('\n') + '\n');
const failures = [];
// Taken before the server stops: its shutdown disconnects the users still connected.
const unexpected = Object.entries(stats.errors);
if (serverExit) failures.push(`server exited during the run: ${JSON.stringify(serverExit)}`);
else await server.stop().catch((e) => failures.push(`server: ${e.message}`));
// A trend needs samples: short runs (CI) only check that nothing failed.
if (second.length >= 6) {
  if (report.secondHalfTrend.rssRisePercentOfMean > 10) failures.push('RSS rises over the second half');
  if (report.secondHalfTrend.fdsRise > 50) failures.push('open descriptors rise over the second half');
} else {
  console.log('too short for a trend (fewer than 6 samples in the second half)');
}
if (unexpected.length) failures.push(`errors: ${JSON.stringify(unexpected)}`);
console.log(failures.length ? `FAIL: ${failures.join('; ')}` : 'OK');
process.exit(failures.length ? 1 : 0);
