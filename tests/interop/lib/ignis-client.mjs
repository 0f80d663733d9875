// Client side of the Ignis tests: the official socket.io-client 4.8 (through
// sio-client.mjs: every event recorded in socket.log, every socket closed by
// closeAllClients()), plus the Ignis flow (authenticate, markers, "nothing arrived").
//
// "Nothing arrived" is never a bare sleep: the server first sends a marker
// straight to each socket (POST /api/send to its id, which reaches a socket in any
// state); once a socket has its marker, everything sent to it earlier has been
// delivered (one connection is ordered). A short extra window follows.
import assert from 'node:assert/strict';
import { closeAllClients, newSocket } from './sio-client.mjs';
import { DEFAULT_WAIT_MS, sleep, waitFor, withTimeout } from './util.mjs';

export { closeAllClients };

export const MSG_INVALID = 'Invalid token to authenticate! Please login again!';
export const MSG_FAILED = 'Failed to authenticate connection! Please login again!';
/** ISO-8601 UTC with milliseconds and a trailing Z, as Date#toISOString(). */
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Socket.IO socket id: 20 URL-safe base64 characters. */
export const SID_RE = /^[A-Za-z0-9_-]{20}$/;
/** The extra window after a marker. */
export const QUIET_MS = 150;

/**
 * A new client (not awaited). opts: token (-> auth {token}), auth, query,
 * extraHeaders, transports (default websocket), reconnection (default false), ...
 * socket.createdAt, socket.connectedAt, socket.disconnects [{reason, at}].
 */
export function client(server, { token, auth, transports = ['websocket'], ...rest } = {}) {
  const a = auth ?? (token !== undefined ? { token } : undefined);
  const socket = newSocket(server.url, { transports, path: server.path, ...(a ? { auth: a } : {}), ...rest });
  socket.createdAt = Date.now();
  socket.disconnects = [];
  socket.on('connect', () => {
    socket.connectedAt = Date.now();
  });
  socket.on('disconnect', (reason) => socket.disconnects.push({ reason, at: Date.now() }));
  return socket;
}

/** Wait for `connect` (fails on connect_error / disconnect). */
export async function connected(socket, timeout = DEFAULT_WAIT_MS) {
  if (!socket.connected) await waitFor(socket, 'connect', { timeout, failOn: ['connect_error', 'disconnect'] });
  return socket;
}

/** client() + connected(). */
export async function connectClient(server, opts = {}) {
  return connected(client(server, opts));
}

/** Emit `authenticate` and wait for `authenticated`; returns its payload. */
export async function authenticate(socket, timeout = DEFAULT_WAIT_MS) {
  socket.emit('authenticate');
  const got = socket.log.next('authenticated', { timeout });
  const [payload] = await Promise.race([
    got,
    waitFor(socket, 'disconnect', { timeout: timeout + 100 }).then(([r]) => {
      throw new Error(`disconnected (${r}) while waiting for "authenticated"; events: ${names(socket).join(', ')}`);
    }),
  ]);
  return payload;
}

/** connectClient() + authenticate(). */
export async function authedClient(server, opts = {}) {
  const socket = await connectClient(server, opts);
  await authenticate(socket);
  return socket;
}

/** The reason of the (first) disconnect, waiting for it if needed. */
export async function disconnected(socket, timeout = DEFAULT_WAIT_MS) {
  if (socket.disconnects.length) return socket.disconnects[0].reason;
  const [reason] = await waitFor(socket, 'disconnect', { timeout });
  return reason;
}

/** Names of the events received so far, in order. */
export function names(socket) {
  return socket.log.entries.map((e) => e.event);
}

let markerNo = 0;

/** Send a marker to each socket by id and wait until each has it. */
export async function marker(server, sockets, timeout = DEFAULT_WAIT_MS) {
  markerNo += 1;
  const tag = `m${markerNo}`;
  for (const s of sockets) await server.api.send({ destination: s.id, topic: 'marker', data: tag });
  await Promise.all(sockets.map(async (s) => {
    for (;;) {
      const [got] = await s.log.next('marker', { timeout });
      if (got === tag) return;
    }
  }));
}

/**
 * Assert that none of `events` reached any of `sockets` (so far, and until a
 * marker plus QUIET_MS), not counting events a test already took with
 * log.next(). `events` may be a string, an array, or null for "any event other
 * than marker and ping".
 */
export async function assertNothing(server, sockets, events, { quiet = QUIET_MS, label = '' } = {}) {
  await marker(server, sockets);
  await sleep(quiet);
  const list = events == null ? null : [].concat(events);
  for (const s of sockets) {
    const bad = s.log.entries.filter((e) => !e.taken
      && (list ? list.includes(e.event) : !['marker', 'ping'].includes(e.event)));
    assert.deepEqual(bad.map((e) => [e.event, ...e.args.filter((a) => typeof a !== 'function')]), [],
      `${label} unexpected event(s) on ${s.id}`);
  }
}

/**
 * Emit `event` with `payload` (unless `NO_PAYLOAD`) and an ack; returns
 * { acked: bool, args: [...] | null, promise } and records the ack when it comes.
 */
export const NO_PAYLOAD = Symbol('no payload');
export function emitWithAckRecord(socket, event, ...payload) {
  const rec = { acked: false, args: null };
  rec.promise = new Promise((resolve) => {
    const cb = (...args) => {
      rec.acked = true;
      rec.args = args;
      resolve(args);
    };
    if (payload.length === 1 && payload[0] === NO_PAYLOAD) socket.emit(event, cb);
    else socket.emit(event, ...payload, cb);
  });
  return rec;
}

/** join/leave with an ack; resolves with the ack's first argument. */
export function request(socket, event, payload, timeout = DEFAULT_WAIT_MS) {
  return socket.timeout(timeout).emitWithAck(event, payload);
}

/** Wait for the next `event` on socket and return its arguments. */
export function next(socket, event, timeout = DEFAULT_WAIT_MS) {
  return socket.log.next(event, { timeout });
}

/** Wait for an ack record to be answered. */
export async function acked(rec, timeout = DEFAULT_WAIT_MS) {
  return withTimeout(rec.promise, timeout, 'ack');
}
