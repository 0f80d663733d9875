// Small async helpers shared by every Node test (interop, browser, bench, stress): bounded
// waits and a raw TCP client. Every wait has a bound; DEFAULT_WAIT_MS is the one default.
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
