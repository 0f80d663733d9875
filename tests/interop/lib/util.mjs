// Small async helpers shared by the interop tests: every wait is bounded.
import net from 'node:net';

/** Resolve/reject like `promise`, or reject with a timeout error after `ms`. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Wait for one `event` on an emitter (Node EventEmitter, engine.io-client's
 * component-emitter, anything with on/off). Resolves with the listener's
 * arguments as an array. Rejects after `timeout` ms, or when one of
 * `failOn` events fires first (its first argument is reported).
 */
export function waitEvent(emitter, event, { timeout = 5000, failOn = [] } = {}) {
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
 * Retry `fn` until it returns a truthy value (returned) or the deadline passes
 * (then the last error, or a timeout error, is thrown). For effects of server
 * timers, e.g. "the session is eventually gone".
 */
export async function eventually(fn, { timeout = 5000, interval = 50, label = 'condition' } = {}) {
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
