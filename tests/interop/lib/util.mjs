// Small async helpers shared by every Node test (interop, browser, bench, stress): bounded
// waits, a free port and a raw TCP client. Every wait has a bound; DEFAULT_WAIT_MS is the one default.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * The default bound of every wait (waitFor, eventually, the event logs of sio-client.mjs, the
 * Ignis client helpers). Only a failing wait runs to it, so it is generous: the suites also run
 * against the sanitizer builds of the fixture.
 */
export const DEFAULT_WAIT_MS = 5000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolve/reject like `promise`, or reject with a timeout error after `ms`. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wait for one `event` on an emitter with on/off (socket.io-client Socket or Manager,
 * engine.io-client Socket, Node EventEmitter). Resolves with the listener's arguments as an
 * array; rejects after `timeout` ms, or when one of the `failOn` events fires first (its
 * arguments are reported).
 */
export function waitFor(emitter, event, { timeout = DEFAULT_WAIT_MS, failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const listeners = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const [ev, fn] of listeners) emitter.off(ev, fn);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for "${event}"`));
    }, timeout);
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    listeners.push([event, onEvent]);
    emitter.on(event, onEvent);
    for (const ev of failOn) {
      const onFail = (...args) => {
        cleanup();
        const detail = args.map((a) => (a instanceof Error ? a.message : JSON.stringify(a))).join(', ');
        reject(new Error(`"${ev}" (${detail}) while waiting for "${event}"`));
      };
      listeners.push([ev, onFail]);
      emitter.on(ev, onFail);
    }
  });
}

/**
 * Retry `fn` every `interval` ms until it returns a truthy value (returned) or `timeout` passes
 * (then the last error, with the label in its message, or a timeout error is thrown). Only for
 * what has no event to await, e.g. "the session is eventually gone" after a server timer.
 */
export async function eventually(fn, { timeout = DEFAULT_WAIT_MS, interval = 50, label = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= end) {
      if (lastError) {
        lastError.message = `${label} not reached within ${timeout} ms: ${lastError.message}`;
        throw lastError;
      }
      throw new Error(`${label} not reached within ${timeout} ms`);
    }
    await sleep(interval);
  }
}

/**
 * A raw TCP client (node:net) that records everything it receives and when the
 * connection ends. `closed` resolves with { hadError, received } once the socket
 * is closed (by either side).
 */
export function rawTcp(port, host = '127.0.0.1') {
  const socket = net.connect({ port, host });
  const chunks = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {}); // ECONNRESET etc. count as "closed"
  const connected = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const closed = new Promise((resolve) => {
    socket.once('close', (hadError) => resolve({ hadError, received: Buffer.concat(chunks) }));
  });
  return {
    socket,
    connected,
    closed,
    received: () => Buffer.concat(chunks),
    write: (data) => new Promise((resolve) => socket.write(data, () => resolve())),
    destroy: () => socket.destroy(),
  };
}

// The first port the kernel hands out to outgoing connections (32768 unless configured).
function ephemeralStart() {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 11000) return n;
  } catch {
    // not Linux: the usual default
  }
  return 32768;
}

function listensOn(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a process the test starts, chosen below the kernel's
 * ephemeral range: a port from that range (listen(0)) can be taken by any outgoing connection of
 * the machine between this check and the process's bind, which a load test running beside the
 * suite makes likely. Random within [10000, start of the range), checked by listening on it.
 */
export async function freePort() {
  const high = ephemeralStart();
  for (let attempt = 0; attempt < 200; ++attempt) {
    const port = 10000 + Math.floor(Math.random() * (high - 10000));
    if (await listensOn(port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}
