// Connection flood: COUNT Socket.IO WebSocket connections opened as fast as possible by worker
// processes (spread over 127.0.0.1-8 source addresses), a share of them never authenticating,
// against the Ignis program (ignis-fixture --mode ignis, i.e. the program plus an "echo" handler
// for the probe). Meanwhile a healthy, authenticated client sends an echo every 20 ms; its round
// trips are reported for the flood and for the quiet periods around it. Reported: how many
// connected, authenticated, and how many unauthenticated ones the server closed and when
// (relative to --authenticate-timeout), and the server's VmRSS before, at the peak, and after
// every flood connection is gone.
//
//   node tests/stress/flood.mjs --fixture build/release/app/ignis-fixture \
//        [--count 15000] [--unauthenticated 0.33] [--workers 3] [--threads 2] \
//        [--authenticate-timeout 10000] [--concurrency 500] [--settle 30 (seconds sampled after close)]
//
// Exit status 1 when a check fails: a connection that should have opened did not, an
// unauthenticated connection outlived the timeout by more than 50 %, an authenticated one was
// closed, or the healthy client missed an echo.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnChild } from '../interop/lib/server.mjs';
import { sleep } from '../interop/lib/util.mjs';

const require = createRequire(new URL('../node/package.json', import.meta.url));

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const next = argv[i + 1];
    out[argv[i].slice(2)] = next && !next.startsWith('--') ? next : true;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Worker: opens its share of connections and reports what happened to them.
if (args.worker) {
  const WebSocket = require('ws');
  const { url, count, unauthenticated, concurrency, first } = JSON.parse(args.worker);
  const result = { opened: 0, failed: 0, authenticated: 0, unauthClosed: [], authClosed: 0, errors: {} };
  const sockets = [];
  const connectOne = (i) => new Promise((resolve) => {
    const authenticate = (first + i) % Math.round(1 / unauthenticated) !== 0;
    const ws = new WebSocket(`${url}?EIO=4&transport=websocket`, {
      localAddress: `127.0.0.${1 + ((first + i) % 8)}`, perMessageDeflate: false,
    });
    let openedAt = 0;
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      if (ok) result.opened++;
      else result.failed++;
      resolve();
    };
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') return ws.send('3');
      if (text.startsWith('0')) return ws.send('40{"token":"good"}');
      if (text.startsWith('40')) {
        openedAt = Date.now();
        if (!authenticate) return finish(true);
        return ws.send('42["authenticate"]');
      }
      if (text.startsWith('41')) {
        // "io server disconnect": a real client then closes its connection, and so do we.
        ws.closedByUs = true;
        if (authenticate) result.authClosed++;
        else if (openedAt) result.unauthClosed.push(Date.now() - openedAt);
        return ws.close();
      }
      if (text.startsWith('42["authenticated"')) {
        result.authenticated++;
        finish(true);
      }
    });
    ws.on('error', (e) => {
      result.errors[e.code ?? e.message] = (result.errors[e.code ?? e.message] ?? 0) + 1;
      finish(false);
    });
    ws.on('close', () => {
      if (ws.closedByUs) return;
      if (!done) return finish(false);
      if (authenticate) result.authClosed++;
      else if (openedAt) result.unauthClosed.push(Date.now() - openedAt);
    });
    sockets.push(ws);
  });
  let next = 0;
  const startedAt = Date.now();
  const worker = async () => {
    while (next < count) await connectOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  process.send({ type: 'opened', ms: Date.now() - startedAt, ...result });
  process.on('message', (m) => {
    if (m === 'report') process.send({ type: 'report', ...result });
    if (m === 'close') {
      for (const ws of sockets) {
        ws.closedByUs = true;
        ws.terminate();
      }
      setTimeout(() => process.exit(0), 200);
    }
  });
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const fixture = args.fixture ?? process.env.IGNIS_FIXTURE;
  if (!fixture) throw new Error('--fixture PATH (ignis-fixture) is required');
  const count = Number(args.count ?? 15000);
  const unauthenticated = Number(args.unauthenticated ?? 0.33);
  const workers = Number(args.workers ?? 3);
  const threads = Number(args.threads ?? 2);
  const authTimeout = Number(args['authenticate-timeout'] ?? 10000);
  const concurrency = Number(args.concurrency ?? 500);
  const settleSeconds = Number(args.settle ?? 30);

  const server = await spawnChild(fixture, ['--mode', 'ignis', '--host', '127.0.0.1', '--port', '0', '--threads', String(threads),
    '--auth', 'tokens', '--tokens', 'good', '--authenticate-timeout', String(authTimeout),
    '--client-connected', 'handler'], { kind: 'fixture' });
  const { port } = server;
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))[1]);
  const openFds = () => readdirSync(`/proc/${server.process.pid}/fd`).length;
  const url = `ws://127.0.0.1:${port}/socket.io/`;
  const base = `http://127.0.0.1:${port}`;

  // The healthy client: socket.io-client, authenticated, echoing every 20 ms.
  const { io } = require('socket.io-client');
  const probe = io(base, { transports: ['websocket'], auth: { token: 'good' }, reconnection: false });
  await new Promise((resolve, reject) => {
    probe.once('connect', resolve);
    probe.once('connect_error', reject);
  });
  await new Promise((resolve) => {
    probe.once('authenticated', resolve);
    probe.emit('authenticate');
  });
  let phase = 'before';
  const rtts = { before: [], flood: [], after: [] };
  let missed = 0;
  let probeDisconnected = null;
  probe.on('disconnect', (r) => {
    probeDisconnected = r;
  });
  const echo = setInterval(() => {
    const at = performance.now();
    const p = phase;
    probe.timeout(5000).emit('echo', at, (err) => {
      if (err) missed++;
      else rtts[p].push(performance.now() - at);
    });
  }, 20);
  const rssSamples = [];
  const sampler = setInterval(() => rssSamples.push([phase, rss()]), 1000);

  await sleep(2000);
  const rssBefore = rss();

  phase = 'flood';
  const floodStart = Date.now();
  const per = Math.ceil(count / workers);
  const children = [];
  const opened = [];
  for (let w = 0; w < workers; w++) {
    const n = Math.min(per, count - w * per);
    const child = fork(new URL(import.meta.url).pathname, ['--worker', JSON.stringify({
      url, count: n, unauthenticated, concurrency, first: w * per,
    })]);
    children.push(child);
    opened.push(new Promise((resolve) => child.once('message', resolve)));
  }
  const openReports = await Promise.all(opened);
  const openMs = Date.now() - floodStart;
  const rssOpen = rss();
  // Every unauthenticated connection must be gone by then (with slack for the loaded machine).
  await sleep(authTimeout * 1.5 + 2000);
  const reports = await Promise.all(children.map((c) => new Promise((resolve) => {
    c.once('message', resolve);
    c.send('report');
  })));
  const rssPeak = Math.max(...rssSamples.filter(([p]) => p === 'flood').map(([, v]) => v), rssOpen);

  phase = 'after';
  await Promise.all(children.map((c) => new Promise((resolve) => {
    c.once('exit', resolve);
    c.send('close');
  })));
  // The program trims the allocator every 10 s; closed sessions may wait for their timers.
  const settle = [];
  for (let waited = 0; waited < settleSeconds; waited += 5) {
    await sleep(5000);
    settle.push(`${waited + 5}s: ${rss()} KiB, ${openFds()} fds`);
  }
  const rssAfter = rss();
  clearInterval(echo);
  clearInterval(sampler);
  await sleep(300);

  const sum = (k) => reports.reduce((a, r) => a + (Array.isArray(r[k]) ? r[k].length : r[k]), 0);
  const closes = reports.flatMap((r) => r.unauthClosed).sort((a, b) => a - b);
  const expectedUnauth = Array.from({ length: count }, (_, i) => i).filter((i) => i % Math.round(1 / unauthenticated) === 0).length;
  const q = (a, p) => (a.length ? a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
  const fmt = (a) => `n=${a.length} p50=${q(a, 0.5).toFixed(2)} p99=${q(a, 0.99).toFixed(2)} max=${q(a, 1).toFixed(2)} ms`;
  const errors = {};
  for (const r of openReports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const report = {
    count, workers, threads, authTimeoutMs: authTimeout,
    openedMs: openMs,
    opened: openReports.reduce((a, r) => a + r.opened, 0),
    failed: openReports.reduce((a, r) => a + r.failed, 0),
    errors,
    authenticated: sum('authenticated'),
    unauthenticatedExpected: expectedUnauth,
    unauthenticatedClosed: closes.length,
    unauthClosedAfterMs: closes.length ? `min ${closes[0]} median ${q(closes, 0.5)} max ${closes[closes.length - 1]}` : 'none',
    authenticatedClosed: sum('authClosed'),
    echoBefore: fmt(rtts.before),
    echoDuringFlood: fmt(rtts.flood),
    echoAfter: fmt(rtts.after),
    echoMissed: missed,
    probeDisconnected,
    rssKiB: { before: rssBefore, allOpen: rssOpen, peak: rssPeak, afterClose: rssAfter },
    afterClose: settle,
  };
  console.log(JSON.stringify(report, null, 2));
  const failures = [];
  if (report.failed) failures.push(`${report.failed} connections failed to open`);
  if (report.unauthenticatedClosed !== expectedUnauth) failures.push(`${report.unauthenticatedClosed}/${expectedUnauth} unauthenticated closed`);
  if (closes.length && closes[closes.length - 1] > authTimeout * 1.5) failures.push('an unauthenticated connection outlived the timeout by 50 %');
  if (report.authenticatedClosed) failures.push(`${report.authenticatedClosed} authenticated connections were closed`);
  if (missed || probeDisconnected) failures.push(`healthy client: ${missed} echoes missed, disconnect ${probeDisconnected}`);
  probe.disconnect();
  await server.stop().catch((e) => failures.push(`server: ${e.message}`));
  if (failures.length) {
    console.log(`FAIL: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('OK');
}
