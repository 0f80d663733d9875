// Healthy clients that prove the server keeps serving while something hostile happens:
// a WebSocket client and a long-polling client, connected before the hostile phase, and a
// ticker that (every `intervalMs`) asks the server for an echo and for a broadcast to every
// client of "/". At the end every echo and every broadcast must have arrived, in order, and
// neither client may have been disconnected.
//
//   const watch = await startWatch(server.url);
//   ... hostile traffic ...
//   await watch.finish();   // asserts; returns { ticks, echoRttMs: sorted round trips }
import assert from 'node:assert/strict';
import { connectSocket } from '../../lib/sio-client.mjs';
import { withTimeout } from '../../lib/util.mjs';

export async function startWatch(url, { intervalMs = 50 } = {}) {
  const ws = await connectSocket(url, { transports: ['websocket'] });
  const polling = await connectSocket(url, { transports: ['polling'] });
  const disconnects = [];
  for (const [name, s] of [['websocket', ws], ['polling', polling]]) {
    s.on('disconnect', (reason) => disconnects.push(`${name}: ${reason}`));
  }
  const received = { echo: [], wsTick: [], pollingTick: [] };
  const sentAt = new Map();
  const rtts = [];
  ws.on('message-back', (n) => {
    received.echo.push(n);
    if (sentAt.has(n)) rtts.push(performance.now() - sentAt.get(n));
  });
  ws.on('tick', (n) => received.wsTick.push(n));
  polling.on('tick', (n) => received.pollingTick.push(n));

  let sent = 0;
  const tick = () => {
    const n = sent++;
    sentAt.set(n, performance.now());
    ws.emit('message', n);
    ws.emit('emit-to', { event: 'tick', args: [n] });
  };
  tick();
  const timer = setInterval(tick, intervalMs);

  return {
    get sent() {
      return sent;
    },
    /** Resolves once both clients have everything sent so far (bounded by `timeout`). */
    async caughtUp(timeout = 10_000) {
      const target = sent;
      await withTimeout(new Promise((resolve) => {
        const check = () => {
          if (received.echo.length >= target && received.wsTick.length >= target
              && received.pollingTick.length >= target) return resolve();
          setTimeout(check, 20);
        };
        check();
      }), timeout, `healthy clients to receive ${target} echoes and broadcasts ` +
        `(got echo ${received.echo.length}, websocket ${received.wsTick.length}, polling ${received.pollingTick.length}; ` +
        `disconnects: ${disconnects.join(', ') || 'none'})`);
    },
    async finish() {
      clearInterval(timer);
      await this.caughtUp();
      const expected = Array.from({ length: sent }, (_, i) => i);
      assert.deepEqual(disconnects, [], 'healthy clients were disconnected');
      assert.deepEqual(received.echo, expected, 'echoes: every one, in order');
      assert.deepEqual(received.wsTick, expected, 'broadcasts to the WebSocket client');
      assert.deepEqual(received.pollingTick, expected, 'broadcasts to the polling client');
      ws.disconnect();
      polling.disconnect();
      return { ticks: sent, echoRttMs: rtts.sort((a, b) => a - b) };
    },
  };
}

/** The q-quantile (0..1) of an ascending array. */
export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** VmRSS of process `pid` in KiB (Linux /proc). */
export async function rssKiB(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  assert.ok(m, `no VmRSS for pid ${pid}`);
  return Number(m[1]);
}
