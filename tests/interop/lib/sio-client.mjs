// Client-side helpers for the Socket.IO interop tests (tests/interop/socketio/):
// the official socket.io-client, an event recorder that never misses an event,
// binary normalisation. The bounded waits are util.mjs's.
import { requirePeer } from './peers.mjs';
import { DEFAULT_WAIT_MS, waitFor } from './util.mjs';

const sioClient = requirePeer('socket.io-client');

/** socket.io-client 4.8 `io()` and `Manager`. */
export const { io, Manager } = sioClient;

/** The three ways a client talks to the server; main scenarios run over each. */
export const TRANSPORT_VARIANTS = Object.freeze([
  { name: 'polling only', transports: ['polling'], final: 'polling' },
  { name: 'websocket only', transports: ['websocket'], final: 'websocket' },
  { name: 'polling → websocket upgrade', transports: ['polling', 'websocket'], final: 'websocket' },
]);

/**
 * Records every (non-reserved) event a client socket receives, from the moment
 * it is created, so that a test can wait for an event that may already have
 * arrived. Each recorded event is { event, args } (an ack function, when the
 * server asked for one, is the last of args).
 */
export class EventLog {
  constructor(socket) {
    this.socket = socket;
    this.entries = [];
    this.waiters = new Set();
    socket.onAny((event, ...args) => {
      this.entries.push({ event, args, taken: false });
      for (const w of [...this.waiters]) w();
    });
  }

  /** Arguments of every `event` received so far (taken or not). */
  all(event) {
    return this.entries.filter((e) => e.event === event).map((e) => e.args);
  }

  count(event) {
    return this.entries.reduce((n, e) => n + (e.event === event ? 1 : 0), 0);
  }

  /** The arguments of the oldest not-yet-taken `event`; waits for it if needed. */
  next(event, { timeout = DEFAULT_WAIT_MS } = {}) {
    const take = () => {
      const e = this.entries.find((x) => !x.taken && x.event === event);
      if (!e) return null;
      e.taken = true;
      return e.args;
    };
    const got = take();
    if (got) return Promise.resolve(got);
    return new Promise((resolve, reject) => {
      const check = () => {
        const args = take();
        if (!args) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(args);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeout} ms waiting for event "${event}" on ${this.socket.nsp}`));
      }, timeout);
      this.waiters.add(check);
    });
  }

  /** Wait until at least `n` `event`s were received in total; returns their args. */
  async waitCount(event, n, { timeout = DEFAULT_WAIT_MS } = {}) {
    if (this.count(event) >= n) return this.all(event);
    await new Promise((resolve, reject) => {
      const check = () => {
        if (this.count(event) < n) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeout} ms waiting for ${n} "${event}" on ${this.socket.nsp} (got ${this.count(event)})`));
      }, timeout);
      this.waiters.add(check);
    });
    return this.all(event);
  }
}

// Every socket/manager created through the helpers, so that a test file can
// close them all (node:test only exits once nothing holds the event loop).
const liveSockets = new Set();
const liveManagers = new Set();

function track(socket) {
  liveSockets.add(socket);
  liveManagers.add(socket.io);
  socket.log = new EventLog(socket);
  return socket;
}

/**
 * A new client socket (own Manager, `forceNew`) for `nsp`, with `socket.log`
 * recording its events. Not awaited: see connectSocket().
 * opts: transports, auth, reconnection (default false), any other io() option.
 */
export function newSocket(url, { nsp = '/', transports = ['websocket'], reconnection = false, ...rest } = {}) {
  const socket = io(url + (nsp === '/' ? '' : nsp), {
    forceNew: true,
    transports,
    reconnection,
    ...rest,
  });
  return track(socket);
}

/** A Manager (one Engine.IO connection) for several namespaces: see managerSocket(). */
export function newManager(url, { transports = ['websocket'], reconnection = false, ...rest } = {}) {
  const manager = new Manager(url, { transports, reconnection, ...rest });
  liveManagers.add(manager);
  return manager;
}

/** A socket for `nsp` on an existing Manager, recorded like newSocket(). */
export function managerSocket(manager, nsp, opts = {}) {
  return track(manager.socket(nsp, opts));
}

/**
 * Wait until `socket` is connected and its `auth` echo (the first event the
 * fixture sends) arrived; returns the echoed auth object.
 */
export async function whenConnected(socket, { timeout = DEFAULT_WAIT_MS } = {}) {
  if (!socket.connected) await waitFor(socket, 'connect', { timeout, failOn: ['connect_error', 'disconnect'] });
  const [auth] = await socket.log.next('auth', { timeout });
  return auth;
}

/** newSocket() + whenConnected(). */
export async function connectSocket(url, opts = {}) {
  const socket = newSocket(url, opts);
  await whenConnected(socket, { timeout: opts.connectTimeoutMs ?? DEFAULT_WAIT_MS });
  return socket;
}

/** Close every socket and manager made by the helpers. */
export function closeAllClients() {
  for (const s of liveSockets) {
    s.offAny();
    s.disconnect();
  }
  liveSockets.clear();
  for (const m of liveManagers) {
    // Manager#_close(): no reconnection, engine closed (what the last socket's
    // disconnect() does; needed for managers whose sockets never connected).
    m._close();
  }
  liveManagers.clear();
}

/** True for the binary types a client may receive (Buffer, ArrayBuffer, typed arrays). */
export function isBinary(v) {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/**
 * A deep copy of `value` where every binary value (Buffer, ArrayBuffer, typed
 * array) is a Buffer, for deepEqual against expectations written with Buffers.
 */
export function normalizeBinary(value) {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(normalizeBinary);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeBinary(v);
    return out;
  }
  return value;
}

/** Count the binary leaves of a value (to check that binary stayed binary). */
export function countBinary(value) {
  if (isBinary(value)) return 1;
  if (Array.isArray(value)) return value.reduce((n, v) => n + countBinary(v), 0);
  if (value && typeof value === 'object') return Object.values(value).reduce((n, v) => n + countBinary(v), 0);
  return 0;
}

let dynCounter = 1000;
/**
 * A fresh dynamic namespace name (/dyn-<n>) so that a test's server-side state
 * (sockets, rooms, disconnect reasons) is not shared with other tests.
 */
export function uniqueDynNamespace() {
  dynCounter += 1;
  return `/dyn-${dynCounter}`;
}
