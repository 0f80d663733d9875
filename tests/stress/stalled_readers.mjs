// Readers that stop during a fan-out, and what the server keeps of them: --slow raw WebSocket
// clients join "/" and stop reading while --healthy socket.io-client receivers and they get
// 64 KiB broadcasts (fixture: --max-buffered-bytes, --close-timeout, one event loop by default).
// Each stalled reader overflows its output bound; reported are the broadcasts sent until the last
// overflow, how long after it their server sockets were all gone from `ss`, the descriptors,
// heap in use and VmRSS of the server before, at the peak and after, and whether every healthy
// receiver got every broadcast in order.
//
//   node tests/stress/stalled_readers.mjs --fixture build/release/app/ignis-fixture \
//        [--slow 200] [--healthy 50] [--threads 1] [--close-timeout 5000]
//        [--max-buffered-bytes 1048576]
//
// Exit status 1 when a server socket of a stalled reader outlives --close-timeout + 1 s after the
// last overflow, descriptors or heap in use do not come back to the baseline, or a healthy
// receiver missed a broadcast.
import { readFileSync } from 'node:fs';
import { spawnChild } from '../interop/lib/server.mjs';
import { closeAllClients, connectSocket } from '../interop/lib/sio-client.mjs';
import { sleep } from '../interop/lib/util.mjs';
import { descriptorCount, serverSockets, stalledClient } from '../interop/reliability/lib/tcp-state.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i].startsWith('--')) args[process.argv[i].slice(2)] = process.argv[i + 1];
}
const fixture = args.fixture ?? process.env.IGNIS_FIXTURE;
if (!fixture) throw new Error('--fixture PATH (ignis-fixture) is required');
const slowCount = Number(args.slow ?? 200);
const healthyCount = Number(args.healthy ?? 50);
const closeTimeout = Number(args['close-timeout'] ?? 5000);
const maxBuffered = Number(args['max-buffered-bytes'] ?? 1 << 20);
const SIZE = 64 * 1024;
const BATCH = Math.max(1, Math.floor(maxBuffered / SIZE / 2));  // one loop turn's worth fits a healthy client
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const server = await spawnChild(fixture, ['--mode', 'socketio', '--port', '0', '--threads', String(args.threads ?? 1),
  '--ping-interval', '60000', '--ping-timeout', '60000', '--write-stall-timeout', '600000',
  '--max-buffered-bytes', String(maxBuffered), '--close-timeout', String(closeTimeout)], { kind: 'fixture' });
const pid = server.process.pid;
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const healthy = [];
for (let i = 0; i < healthyCount; i++) healthy.push(await connectSocket(server.url, { transports: ['websocket'] }));
const got = healthy.map(() => []);
healthy.forEach((s, i) => s.on('big', (n, data) => got[i].push(data.length === SIZE ? n : -1)));
const [control] = healthy;
const ask = (event, arg) => control.timeout(30_000).emitWithAck(event, arg);
const before = { fds: descriptorCount(pid), heap: await ask('heap-in-use'), rss: rssKiB(pid) };

const stalled = [];
for (let i = 0; i < slowCount; i++) stalled.push(await stalledClient(server));
const ports = new Set(stalled.map((s) => s.port));
const peak = { fds: descriptorCount(pid), heap: 0, rss: 0 };

const started = Date.now();
let sent = 0;
let lastOverflow = null;
while (lastOverflow === null) {
  await ask('emit-repeat', { event: 'big', first: sent, count: BATCH, size: SIZE });
  sent += BATCH;
  peak.heap = Math.max(peak.heap, await ask('heap-in-use'));
  peak.rss = Math.max(peak.rss, rssKiB(pid));
  const counts = await ask('server-disconnect-counts');
  if ((counts['transport error'] ?? 0) >= slowCount) lastOverflow = Date.now();
  if (sent > 100_000) throw new Error(`the stalled readers were not all closed after ${sent} broadcasts`);
}
let goneAfter = null;
while (Date.now() - lastOverflow < closeTimeout + 5000) {
  if (serverSockets(server.port, ports).length === 0) {
    goneAfter = Date.now() - lastOverflow;
    break;
  }
  await sleep(20);
}
const left = serverSockets(server.port, ports);
console.log(`${slowCount} stalled readers, ${healthyCount} healthy receivers; ${sent} broadcasts of 64 KiB in ` +
  `${Date.now() - started} ms until the last overflow`);
check(goneAfter !== null && goneAfter <= closeTimeout + 1000,
  `every stalled reader's server socket gone ${goneAfter ?? '(not)'} ms after the last overflow ` +
  `(bound ${closeTimeout + 1000} ms; left: ${left.length}, e.g. ${JSON.stringify(left[0] ?? null)})`);

// Healthy receivers: everything, in order.
const deadline = Date.now() + 60_000;
while (!got.every((l) => l.length >= sent) && Date.now() < deadline) await sleep(50);
const complete = got.every((l) => l.length === sent && l.every((n, i) => n === i));
check(complete, `every healthy receiver got all ${sent} broadcasts in order ` +
  `(fewest: ${Math.min(...got.map((l) => l.length))})`);

for (const s of stalled) s.tcp.destroy();
await sleep(500);
const after = { fds: descriptorCount(pid), heap: await ask('heap-in-use'), rss: rssKiB(pid) };
console.log(`descriptors ${before.fds} -> ${peak.fds} -> ${after.fds}; heap in use ${before.heap} -> ` +
  `${peak.heap} -> ${after.heap} bytes; VmRSS ${before.rss} -> ${peak.rss} -> ${after.rss} KiB`);
check(after.fds === before.fds, 'descriptors back to the baseline');
check(after.heap - before.heap < 512 * 1024, `heap in use back to the baseline (+${after.heap - before.heap} bytes)`);
closeAllClients();
await server.stop();
process.exit(failures === 0 ? 0 : 1);
