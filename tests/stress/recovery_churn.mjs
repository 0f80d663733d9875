// Connection state recovery under churn: what the server keeps for recovery stays bounded.
// --users clients of the program (ignis-fixture --mode ignis, --connection-state-recovery
// --window MS, --recovery-store BYTES) loop: connect, authenticate, join a room, receive, then lose
// their connection (engine closed under them) and either come back at once (recovering what they
// missed, checked in order and without duplicates), come back after the window (a new session),
// or never come back (their session waits for the window and goes). Meanwhile the HTTP API sends to
// rooms and to everyone every 20 ms. /metrics is read every 5 s: the recovery store's bytes must
// stay under its bound and its sessions under what the window allows; VmRSS is reported with a
// trend over the second half.
//
//   node tests/stress/recovery_churn.mjs --fixture build/release/app/ignis-fixture \
//        [--minutes 10] [--users 60] [--window 10000] [--recovery-store 4194304] [--threads 2]
//
// Exit status 1 on a recovery that lost or repeated a message, an unbounded store, an error, or a
// second-half RSS trend above 10 % of the mean (runs of 2 minutes and more).
import { readFileSync } from 'node:fs';
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
const minutes = Number(args.minutes ?? 10);
const users = Number(args.users ?? 60);
const windowMs = Number(args.window ?? 10_000);
const storeBytes = Number(args['recovery-store'] ?? 4 * 1024 * 1024);
const API_KEY = 'churn-key';
const ROOMS = 10;

const server = await spawnChild(fixture, ['--mode', 'ignis', '--host', '127.0.0.1', '--port', '0',
  '--threads', String(args.threads ?? 2), '--auth', 'tokens', '--tokens', 'good', '--rooms-allow', 'room-*',
  '--api-key', API_KEY, '--connection-state-recovery', String(windowMs),
  '--recovery-store-bytes', String(storeBytes)], { kind: 'fixture' });
const base = `http://127.0.0.1:${server.port}`;
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))[1]);
const stats = { sessions: 0, recovered: 0, fresh: 0, abandoned: 0, received: 0, lost: 0, repeated: 0, errors: 0, apiErrors: 0 };
let running = true;
let sendSeq = 0;

async function metric(name, labels = '') {
  const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(name + labels + ' '));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

function waitEvent(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event}`)), ms);
    emitter.once(event, (...a) => {
      clearTimeout(t);
      resolve(a);
    });
  });
}

// When each connection was cut: the server keeps a session per cut for at most the window.
const disconnects = [];

async function user() {
  while (running) {
    stats.sessions++;
    const room = `room-${Math.floor(Math.random() * ROOMS)}`;
    const socket = io(base, { transports: ['websocket'], reconnection: false, auth: { token: 'good' } });
    // Every message carries {seq, room}: what this user must see is what went to "all" or to its
    // room, in order, once.
    let last = -1;
    socket.on('m', (data) => {
      stats.received++;
      if (data.seq <= last) stats.repeated++;
      last = data.seq;
    });
    try {
      await waitEvent(socket, 'connect', 5000);
      const authed = waitEvent(socket, 'authenticated', 5000);
      socket.emit('authenticate');
      await authed;
      await socket.timeout(5000).emitWithAck('join', { rooms: [room] });
      for (let round = 0; round < 3 && running; round++) {
        await sleep(200 + Math.random() * 800);
        const fate = Math.random();
        const gone = waitEvent(socket, 'disconnect', 5000);
        socket.io.engine.close();
        await gone;
        disconnects.push(Date.now());
        if (fate < 0.15) {
          // Never comes back: its session waits for the window; the user starts a new one, so
          // that the number of users stays the same however long the run.
          stats.abandoned++;
          break;
        }
        if (fate < 0.25) await sleep(windowMs + 500);  // too late: a new session
        const connected = waitEvent(socket, 'connect', 5000);
        socket.connect();
        await connected;
        if (socket.recovered) {
          stats.recovered++;
        } else {
          stats.fresh++;
          last = -1;
          socket.emit('authenticate');
          await waitEvent(socket, 'authenticated', 5000);
          await socket.timeout(5000).emitWithAck('join', { rooms: [room] });
        }
      }
    } catch {
      stats.errors++;
    } finally {
      socket.close();
    }
  }
}

async function sender() {
  while (running) {
    const room = Math.random() < 0.2 ? undefined : `room-${Math.floor(Math.random() * ROOMS)}`;
    try {
      const res = await fetch(`${base}/api/send`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ destination: room, topic: 'm', data: { seq: sendSeq++, room: room ?? 'all', pad: 'x'.repeat(200) } }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) stats.apiErrors++;
    } catch {
      stats.apiErrors++;
    }
    await sleep(20);
  }
}

const started = Date.now();
const samples = [];
let storeOver = 0;
let sessionsOver = 0;
const workers = [sender(), ...Array.from({ length: users }, () => user())];
while (Date.now() - started < minutes * 60_000) {
  await sleep(5000);
  const bytes = await metric('ignis_recovery_bytes');
  const sessions = await metric('ignis_recovery_sessions');
  const rss = rssKiB();
  samples.push({ t: (Date.now() - started) / 1000, rss, bytes, sessions });
  if (bytes > storeBytes) storeOver++;
  // A session waits at most the window (plus the one-second sweep, and a second of slack for the
  // time between the cut and this sample): never more than the cuts of that long ago.
  const since = Date.now() - windowMs - 2000;
  while (disconnects.length && disconnects[0] < since) disconnects.shift();
  if (sessions > disconnects.length) sessionsOver++;
  console.log(`t=${samples.at(-1).t.toFixed(0)}s rss=${rss}KiB store=${bytes}B sessions=${sessions} ` +
    `recovered=${stats.recovered} fresh=${stats.fresh} abandoned=${stats.abandoned} errors=${stats.errors}`);
}
running = false;
await Promise.all(workers);
const evicted = await metric('ignis_recovery_evicted_total');
await server.stop();

const second = samples.slice(Math.floor(samples.length / 2));
const n = second.length;
const mt = second.reduce((a, s) => a + s.t, 0) / n;
const mr = second.reduce((a, s) => a + s.rss, 0) / n;
const slope = second.reduce((a, s) => a + (s.t - mt) * (s.rss - mr), 0) / (second.reduce((a, s) => a + (s.t - mt) ** 2, 0) || 1);
const rise = slope * (second.at(-1).t - second[0].t);
console.log(JSON.stringify({ minutes, users, windowMs, storeBytes, ...stats, evicted,
  maxStore: Math.max(...samples.map((s) => s.bytes)), maxSessions: Math.max(...samples.map((s) => s.sessions)),
  rssFirst: samples[0]?.rss, rssLast: samples.at(-1)?.rss, secondHalfRiseKiB: Math.round(rise) }));
const failures = [];
if (stats.repeated) failures.push(`${stats.repeated} messages came twice`);
if (stats.errors) failures.push(`${stats.errors} user errors`);
if (stats.apiErrors) failures.push(`${stats.apiErrors} API errors`);
if (storeOver) failures.push(`the store passed its bound ${storeOver} times`);
if (sessionsOver) failures.push(`more sessions than cuts within the window ${sessionsOver} times`);
if (!stats.recovered) failures.push('no recovery happened');
if (minutes >= 2 && rise > 0.1 * mr) failures.push(`RSS rose ${Math.round(rise)} KiB over the second half`);
if (failures.length) {
  console.log(`FAIL: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('ok');
