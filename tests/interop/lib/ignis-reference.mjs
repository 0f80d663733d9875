#!/usr/bin/env node
// Node reference for the Ignis server helper, the program `ignis-socketio` and
// the test fixture `ignis-fixture --mode ignis`, on the official socket.io 4.8
// server (in-memory adapter: one node, no Redis). The black-box suite in
// tests/interop/ignis/ runs against it when IGNIS_PROGRAM / IGNIS_FIXTURE are
// not set; the C++ binaries must behave the same way (see server.mjs).
//
// As a program:   node tests/interop/lib/ignis-reference.mjs [flags]
// As the fixture: node tests/interop/lib/ignis-reference.mjs --mode ignis [flags] [knobs]
//
// Flags (program and fixture). Every flag also reads IGNIS_<FLAG> (upper case,
// '-' -> '_'), e.g. IGNIS_PORT; a flag on the command line wins over the
// environment, an empty environment value is ignored:
//   --host H                     default 127.0.0.1
//   --port N                     default 3000 (0: any free port)
//   --path P                     default /socket.io
//   --threads N                  accepted, ignored by the reference (one event loop)
//   --cors-origin O              '*' or a comma-separated list of origins;
//                                absent: no CORS headers at all
//   --auth tokens|jwt|none       required
//   --tokens a,b                 with --auth tokens
//   --jwt-secret S               with --auth jwt: HS256
//   --jwt-public-key FILE        with --auth jwt: RS256 (PEM public key)
//   --jwt-require-exp            tokens without exp are rejected
//   --jwt-max-age S              tokens without iat, or issued more than S s ago, are rejected
//   --rooms-allow 'p1,p2'        glob patterns (* and ?) for client joins;
//                                absent: no validateRoomFn (every join rejected)
//   --default-rooms a,b          default io-default,io-notification; '' = none
//   --max-rooms-per-socket N     rooms a client may be in through its own joins (default 100; 0: no limit)
//   --authenticate-timeout MS    default 10000
//   --ping-interval MS           default 30000 (application-level `ping` event)
//   --broadcast-to-unauthenticated   (flag; env value true/1/yes/on or false/0/no/off)
//   --api-key KEY                enables the HTTP API under /api/
// Fixture only (with --mode ignis):
//   --auth-behaviour ok|false|throw|reject|never|slow:<MS>
//   --client-connected none|emit|throw|reject|handler
//
// Output: `listening on http://HOST:PORT` on stdout once connections are
// accepted; `--auth none` prints a warning line on stderr (starts with
// "warning:"); log lines go to stderr. SIGTERM/SIGINT -> shutdown() -> exit 0.
// Bad command line -> `error: <text>` on stderr, exit code 2.
import crypto from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { requirePeer } from './peers.mjs';

const { Server } = requirePeer('socket.io');

// ---------------------------------------------------------------------------
// Constants (upstream §2 and the contract)

export const EVENTS = Object.freeze({
  PING: 'ping',
  JOIN: 'join',
  LEAVE: 'leave',
  AUTHENTICATE: 'authenticate',
  AUTHENTICATED: 'authenticated',
  UNAUTHENTICATED: 'unauthenticated',
});
export const DEFAULT_ROOMS = Object.freeze(['io-default', 'io-notification']);
export const STATES = Object.freeze({
  UNAUTHORIZED: 'unauthorized',
  AUTHENTICATING: 'authenticating',
  AUTHENTICATED: 'authenticated',
});
export const MSG_INVALID_TOKEN = 'Invalid token to authenticate! Please login again!';
export const MSG_FAILED = 'Failed to authenticate connection! Please login again!';
export const RESERVED_EVENTS = Object.freeze(new Set([
  'connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener',
]));
export const MAX_ROOMS_PER_REQUEST = 100;
export const MAX_ROOM_BYTES = 256;
export const DEFAULT_MAX_ROOMS_PER_SOCKET = 100;
/** Names of a socket id's form (Node's ids and ours) are never joined through a join request. */
export const SOCKET_ID_FORM = /^[A-Za-z0-9_-]{20}$/;

const iso = () => new Date().toISOString();

// ---------------------------------------------------------------------------
// The server helper (contract: /work/shared/spec/ignis-behaviour.md)

export class IgnisServerHelper {
  /**
   * opts: { io, authenticateFn(handshake) -> boolean | Promise<boolean>,
   *         validateRoomFn?({socket, rooms}) -> string[] | Promise<string[]>,
   *         clientConnectedFn?({socket}), authenticateTimeout = 10000,
   *         pingInterval = 30000, defaultRooms = DEFAULT_ROOMS,
   *         broadcastToUnauthenticated = false, maxRoomsPerSocket = 100, log(level, msg) }
   */
  constructor(opts) {
    this.io = opts.io;
    this.authenticateFn = opts.authenticateFn;
    this.validateRoomFn = opts.validateRoomFn;
    this.clientConnectedFn = opts.clientConnectedFn;
    this.authenticateTimeout = opts.authenticateTimeout ?? 10_000;
    this.pingInterval = opts.pingInterval ?? 30_000;
    this.defaultRooms = [...(opts.defaultRooms ?? DEFAULT_ROOMS)];
    this.broadcastToUnauthenticated = Boolean(opts.broadcastToUnauthenticated);
    this.maxRoomsPerSocket = opts.maxRoomsPerSocket ?? DEFAULT_MAX_ROOMS_PER_SOCKET;
    this.log = opts.log ?? (() => {});
    this.clients = new Map(); // id -> { id, socket, state, authTimer, pingTimer }
  }

  configure() {
    this.io.of('/').on('connection', (socket) => this.onClientConnect(socket));
  }

  get nsp() {
    return this.io.of('/');
  }

  onClientConnect(socket) {
    if (this.clients.has(socket.id)) return;
    const client = {
      id: socket.id, socket, state: STATES.UNAUTHORIZED, authTimer: null, pingTimer: null, requestedRooms: new Set(),
    };
    client.authTimer = setTimeout(() => this.onAuthenticateTimeout(client), this.authenticateTimeout);
    this.clients.set(socket.id, client);
    socket.on('disconnect', (reason) => {
      this.forget(client);
      this.log('info', `Client disconnected | id: ${client.id} | reason: ${reason}`);
    });
    socket.on(EVENTS.AUTHENTICATE, () => this.onAuthenticate(client));
    socket.on(EVENTS.JOIN, (...args) => this.onRoomRequest(client, 'join', args));
    socket.on(EVENTS.LEAVE, (...args) => this.onRoomRequest(client, 'leave', args));
  }

  forget(client) {
    clearTimeout(client.authTimer);
    clearInterval(client.pingTimer);
    client.authTimer = null;
    client.pingTimer = null;
    if (this.clients.get(client.id) === client) this.clients.delete(client.id);
  }

  live(client) {
    return this.clients.get(client.id) === client && client.socket.connected;
  }

  onAuthenticateTimeout(client) {
    client.authTimer = null;
    if (!this.live(client) || client.state === STATES.AUTHENTICATED) return;
    if (client.state === STATES.AUTHENTICATING) {
      // authenticateFn did not answer in time: a failure (contract "Which failure message").
      this.log('warn', `Authenticate timeout while authenticating | id: ${client.id}`);
      this.reject(client, MSG_FAILED);
      return;
    }
    this.log('warn', `Authenticate timeout | id: ${client.id}`);
    this.disconnect(client);
  }

  onAuthenticate(client) {
    if (!this.live(client)) return;
    if (client.state !== STATES.UNAUTHORIZED) {
      this.log('warn', `Client attempted auth in invalid state | id: ${client.id} | currentState: ${client.state}`);
      return;
    }
    client.state = STATES.AUTHENTICATING;
    let result;
    try {
      // Upstream calls authenticateFn(handshake); the socket is passed too (the
      // program remembers a JWT rooms claim per socket).
      result = this.authenticateFn(client.socket.handshake, client.socket);
    } catch (err) {
      this.log('error', `Failed to authenticate | id: ${client.id} | error: ${err && err.message}`);
      this.reject(client, MSG_FAILED);
      return;
    }
    Promise.resolve(result).then(
      (ok) => {
        if (!this.live(client) || client.state !== STATES.AUTHENTICATING) return;
        if (ok) this.onClientAuthenticated(client);
        else this.reject(client, MSG_INVALID_TOKEN);
      },
      (err) => {
        if (!this.live(client) || client.state !== STATES.AUTHENTICATING) return;
        this.log('error', `Failed to authenticate | id: ${client.id} | error: ${err && err.message}`);
        this.reject(client, MSG_FAILED);
      },
    );
  }

  /** `unauthenticated {message, time}` on the socket, then the server disconnect. */
  reject(client, message) {
    client.state = STATES.UNAUTHORIZED;
    client.socket.emit(EVENTS.UNAUTHENTICATED, { message, time: iso() });
    this.disconnect(client);
  }

  disconnect(client) {
    this.forget(client);
    client.socket.disconnect();
  }

  ping(client) {
    if (!this.live(client) || client.state !== STATES.AUTHENTICATED) return;
    client.socket.emit(EVENTS.PING, { time: iso() });
  }

  onClientAuthenticated(client) {
    const { socket } = client;
    client.state = STATES.AUTHENTICATED;
    clearTimeout(client.authTimer);
    client.authTimer = null;
    this.ping(client);
    if (this.defaultRooms.length) socket.join(this.defaultRooms);
    client.pingTimer = setInterval(() => this.ping(client), this.pingInterval);
    socket.emit(EVENTS.AUTHENTICATED, { id: socket.id, time: iso() });
    this.log('info', `Client authenticated | id: ${client.id}`);
    if (!this.clientConnectedFn) return;
    try {
      const r = this.clientConnectedFn({ socket });
      if (r && typeof r.then === 'function') {
        r.then(undefined, (err) => this.log('error', `Handler error | id: ${client.id} | error: ${err && err.message}`));
      }
    } catch (err) {
      this.log('error', `Handler error | id: ${client.id} | error: ${err && err.message}`);
    }
  }

  /**
   * A join/leave payload: { names, ignored }. names: its string entries, first
   * occurrence kept; ignored: the request is ignored whole (the payload is not an
   * object whose `rooms` is an array of at most 100 entries).
   */
  static parseRooms(payload) {
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return { names: [], ignored: true };
    const { rooms } = payload;
    if (!Array.isArray(rooms)) return { names: [], ignored: true };
    const names = [...new Set(rooms.filter((r) => typeof r === 'string'))];
    return { names, ignored: rooms.length > MAX_ROOMS_PER_REQUEST };
  }

  /** Non-empty, at most 256 UTF-8 bytes, well-formed (no lone surrogate). */
  static isRoomName(r) {
    return r.length > 0 && Buffer.byteLength(r, 'utf8') <= MAX_ROOM_BYTES && r.isWellFormed();
  }

  /** join/leave requests of one client are handled one after the other, in order. */
  onRoomRequest(client, kind, args) {
    client.roomQueue = (client.roomQueue ?? Promise.resolve())
      .then(() => this.handleRoomRequest(client, kind, args))
      .catch((err) => this.log('error', `${kind} failed | id: ${client.id} | error: ${err && err.message}`));
  }

  async handleRoomRequest(client, kind, args) {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (!this.live(client) || client.state !== STATES.AUTHENTICATED) return; // no answer at all
    const { names, ignored } = IgnisServerHelper.parseRooms(args[0]);
    const { socket } = client;
    // join: {rooms: joined, refused: the rest of the request}; leave: {rooms: left}.
    const answer = (rooms) => {
      if (!ack || !this.live(client)) return;
      if (kind === 'leave') ack({ rooms });
      else ack({ rooms, refused: names.filter((r) => !rooms.includes(r)) });
    };
    if (ignored) {
      this.log('warn', `${kind} ignored | id: ${client.id} | reason: invalid payload`);
      answer([]);
      return;
    }
    if (kind === 'leave') {
      const left = names.filter((r) => IgnisServerHelper.isRoomName(r) && r !== socket.id && socket.rooms.has(r));
      for (const r of left) {
        socket.leave(r);
        client.requestedRooms.delete(r);
      }
      answer(left);
      return;
    }
    // Names of a socket id's form are never joined, whoever owns the id (on any server).
    const candidates = names.filter((r) => IgnisServerHelper.isRoomName(r) && !SOCKET_ID_FORM.test(r));
    if (!this.validateRoomFn || candidates.length === 0) {
      if (!this.validateRoomFn) this.log('debug', `Join rejected | id: ${client.id} | reason: no validateRoomFn configured`);
      answer([]);
      return;
    }
    let allowed;
    try {
      allowed = await this.validateRoomFn({ socket, rooms: candidates });
    } catch (err) {
      this.log('error', `validateRoomFn failed | id: ${client.id} | error: ${err && err.message}`);
      allowed = [];
    }
    if (!this.live(client)) return;
    const allowedSet = new Set(Array.isArray(allowed) ? allowed : []);
    const limit = this.maxRoomsPerSocket;
    const counted = client.requestedRooms;
    for (const r of counted) if (!socket.rooms.has(r)) counted.delete(r); // left some other way
    const joined = [];
    for (const r of candidates) {
      if (!allowedSet.has(r)) continue;
      if (!socket.rooms.has(r)) {
        if (limit !== 0) {
          if (counted.size >= limit) continue;
          counted.add(r);
        }
        socket.join(r);
      }
      joined.push(r);
    }
    answer(joined);
  }

  /**
   * send({destination?, payload: {topic, data}}): destination = a live socket id
   * (direct: whatever its state), a room name, or absent/'' = everyone. Rooms and
   * broadcasts skip unauthenticated sockets unless broadcastToUnauthenticated.
   */
  send({ destination, payload } = {}) {
    if (!payload || typeof payload !== 'object') throw new Error('Payload is required');
    const { topic } = payload;
    if (typeof topic !== 'string' || topic === '') throw new Error('Topic is required');
    if (RESERVED_EVENTS.has(topic)) throw new Error(`"${topic}" is a reserved event name`);
    const data = payload.data === undefined ? null : payload.data;
    const nsp = this.nsp;
    if (destination && nsp.sockets.has(destination)) {
      nsp.to(destination).emit(topic, data);
      return;
    }
    let op = destination ? nsp.to(destination) : nsp;
    if (!this.broadcastToUnauthenticated) {
      const unauth = [...nsp.sockets.keys()].filter((id) => this.clients.get(id)?.state !== STATES.AUTHENTICATED);
      if (unauth.length) op = op.except(unauth);
    }
    op.emit(topic, data);
  }

  getClients(id) {
    return id ? this.clients.get(id) : this.clients;
  }

  async shutdown() {
    for (const client of [...this.clients.values()]) this.disconnect(client);
    this.clients.clear();
    await new Promise((resolve) => this.io.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------
// Globs, tokens, JWT

/** `*` = any sequence (also empty), `?` = exactly one character; full match, case-sensitive. */
export function globToRegExp(pattern) {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'su');
}

export function splitList(value) {
  return String(value).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** handshake.auth.token, else `Authorization: Bearer <t>`, else the `token` query parameter. */
export function extractToken(handshake) {
  const fromAuth = handshake.auth && handshake.auth.token;
  if (typeof fromAuth === 'string' && fromAuth) return fromAuth;
  const authz = handshake.headers && handshake.headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    if (m) return m[1];
  }
  const q = handshake.query && handshake.query.token;
  if (typeof q === 'string' && q) return q;
  return null;
}

const b64urlDecode = (s) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

/**
 * Verify a compact JWS; returns the claims object, or null when the token is
 * malformed, has the wrong algorithm or signature, is expired (now >= exp) or not
 * yet valid (now < nbf). keys: { secret?: string, publicKey?: KeyObject }.
 */
export function verifyJwt(token, keys, nowSeconds = Date.now() / 1000, { requireExp = false, maxAge = 0 } = {}) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return null;
  let header;
  let claims;
  try {
    header = JSON.parse(b64urlDecode(parts[0]).toString('utf8'));
    claims = JSON.parse(b64urlDecode(parts[1]).toString('utf8'));
  } catch {
    return null;
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object' || Array.isArray(claims)) return null;
  const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
  const sig = b64urlDecode(parts[2]);
  let ok = false;
  if (header.alg === 'HS256' && keys.secret != null) {
    const mac = crypto.createHmac('sha256', keys.secret).update(signingInput).digest();
    ok = mac.length === sig.length && crypto.timingSafeEqual(mac, sig);
  } else if (header.alg === 'RS256' && keys.publicKey) {
    try {
      ok = crypto.verify('sha256', signingInput, keys.publicKey, sig);
    } catch {
      ok = false;
    }
  }
  if (!ok) return null;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || nowSeconds >= claims.exp)) return null;
  if (requireExp && claims.exp === undefined) return null;
  if (maxAge && (typeof claims.iat !== 'number' || !(nowSeconds - claims.iat <= maxAge))) return null;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowSeconds < claims.nbf)) return null;
  if (claims.rooms !== undefined && (!Array.isArray(claims.rooms) || claims.rooms.some((r) => typeof r !== 'string'))) return null;
  return claims;
}

// ---------------------------------------------------------------------------
// Command line

class UsageError extends Error {}

const FLAGS = {
  // name: { value: true|false, fixtureOnly?: bool }
  mode: { value: true, noEnv: true },
  host: { value: true },
  port: { value: true },
  path: { value: true },
  threads: { value: true },
  'cors-origin': { value: true },
  auth: { value: true },
  tokens: { value: true },
  'jwt-secret': { value: true },
  'jwt-public-key': { value: true },
  'rooms-allow': { value: true },
  'default-rooms': { value: true },
  'max-rooms-per-socket': { value: true },
  'jwt-require-exp': { value: false },
  'jwt-max-age': { value: true },
  'authenticate-timeout': { value: true },
  'ping-interval': { value: true },
  'broadcast-to-unauthenticated': { value: false },
  'api-key': { value: true },
  'auth-behaviour': { value: true, fixtureOnly: true, noEnv: true },
  'client-connected': { value: true, fixtureOnly: true, noEnv: true },
};

const envName = (flag) => `IGNIS_${flag.toUpperCase().replace(/-/g, '_')}`;

function parseBool(text, name) {
  const v = String(text).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new UsageError(`${name}: not a boolean: ${text}`);
}

function parseUint(text, name, { max = Number.MAX_SAFE_INTEGER } = {}) {
  if (!/^\d+$/.test(String(text).trim())) throw new UsageError(`${name}: not a non-negative integer: ${text}`);
  const n = Number(String(text).trim());
  if (n > max) throw new UsageError(`${name}: out of range: ${text}`);
  return n;
}

/**
 * Parse argv (without node and script) and env into a configuration.
 * Throws UsageError for a bad command line.
 */
export function parseConfig(argv, env = {}) {
  const raw = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument: ${arg}`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = FLAGS[name];
    if (!spec) throw new UsageError(`unknown flag: --${name}`);
    if (spec.value) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        value = argv[++i];
      }
      raw[name] = value;
    } else {
      raw[name] = value === undefined ? true : parseBool(value, `--${name}`);
    }
  }
  const fixture = raw.mode !== undefined;
  if (fixture && raw.mode !== 'ignis') throw new UsageError(`unsupported --mode: ${raw.mode}`);
  for (const [name, spec] of Object.entries(FLAGS)) {
    if (spec.fixtureOnly && raw[name] !== undefined && !fixture) throw new UsageError(`unknown flag: --${name}`);
    if (raw[name] !== undefined || spec.noEnv) continue;
    const e = env[envName(name)];
    if (e === undefined || e === '') continue;
    raw[name] = spec.value ? e : parseBool(e, envName(name));
  }

  const cfg = {
    fixture,
    host: raw.host ?? '127.0.0.1',
    port: raw.port !== undefined ? parseUint(raw.port, '--port', { max: 65535 }) : 3000,
    path: raw.path ?? '/socket.io',
    threads: raw.threads !== undefined ? parseUint(raw.threads, '--threads') : 1,
    corsOrigin: raw['cors-origin'] !== undefined ? splitList(raw['cors-origin']) : null,
    auth: raw.auth,
    tokens: raw.tokens !== undefined ? splitList(raw.tokens) : null,
    jwtSecret: raw['jwt-secret'] ?? null,
    jwtPublicKeyFile: raw['jwt-public-key'] ?? null,
    roomsAllow: raw['rooms-allow'] !== undefined ? splitList(raw['rooms-allow']) : null,
    defaultRooms: raw['default-rooms'] !== undefined ? splitList(raw['default-rooms']) : [...DEFAULT_ROOMS],
    maxRoomsPerSocket: raw['max-rooms-per-socket'] !== undefined
      ? parseUint(raw['max-rooms-per-socket'], '--max-rooms-per-socket', { max: 100_000 }) : DEFAULT_MAX_ROOMS_PER_SOCKET,
    jwtRequireExp: Boolean(raw['jwt-require-exp']),
    jwtMaxAge: raw['jwt-max-age'] !== undefined ? parseUint(raw['jwt-max-age'], '--jwt-max-age', { max: 315_360_000 }) : 0,
    authenticateTimeout: raw['authenticate-timeout'] !== undefined
      ? parseUint(raw['authenticate-timeout'], '--authenticate-timeout') : 10_000,
    pingInterval: raw['ping-interval'] !== undefined ? parseUint(raw['ping-interval'], '--ping-interval') : 30_000,
    broadcastToUnauthenticated: Boolean(raw['broadcast-to-unauthenticated']),
    apiKey: raw['api-key'] ?? null,
    authBehaviour: raw['auth-behaviour'] ?? 'ok',
    clientConnected: raw['client-connected'] ?? 'none',
  };
  if (!cfg.path.startsWith('/')) throw new UsageError('--path must start with /');
  if (cfg.pingInterval < 100) throw new UsageError('--ping-interval: at least 100 ms');
  if (cfg.authenticateTimeout < 100) throw new UsageError('--authenticate-timeout: at least 100 ms');
  if (cfg.auth === undefined) throw new UsageError('--auth is required (tokens, jwt or none)');
  if (!['tokens', 'jwt', 'none'].includes(cfg.auth)) throw new UsageError(`--auth: unknown method ${cfg.auth}`);
  if (cfg.auth === 'tokens' && !(cfg.tokens && cfg.tokens.length)) throw new UsageError('--auth tokens needs --tokens');
  if (cfg.auth === 'jwt' && cfg.jwtSecret == null && cfg.jwtPublicKeyFile == null) {
    throw new UsageError('--auth jwt needs --jwt-secret or --jwt-public-key');
  }
  if (cfg.jwtSecret != null && cfg.jwtPublicKeyFile != null) {
    throw new UsageError('--jwt-secret and --jwt-public-key exclude each other');
  }
  if (cfg.corsOrigin && cfg.corsOrigin.length === 0) cfg.corsOrigin = null;
  if (!/^(ok|false|throw|reject|never|slow:\d+)$/.test(cfg.authBehaviour)) {
    throw new UsageError(`--auth-behaviour: unknown value ${cfg.authBehaviour}`);
  }
  if (!['none', 'emit', 'throw', 'reject', 'handler'].includes(cfg.clientConnected)) {
    throw new UsageError(`--client-connected: unknown value ${cfg.clientConnected}`);
  }
  return cfg;
}

// ---------------------------------------------------------------------------
// The program

/** authenticateFn and validateRoomFn of the program for `cfg`. */
function buildAuth(cfg, log) {
  let check;
  if (cfg.auth === 'none') {
    check = () => ({ ok: true });
  } else if (cfg.auth === 'tokens') {
    const tokens = new Set(cfg.tokens);
    check = (handshake) => {
      const t = extractToken(handshake);
      return { ok: t !== null && tokens.has(t) };
    };
  } else {
    const keys = {};
    if (cfg.jwtSecret != null) keys.secret = cfg.jwtSecret;
    if (cfg.jwtPublicKeyFile != null) {
      try {
        keys.publicKey = crypto.createPublicKey(readFileSync(cfg.jwtPublicKeyFile, 'utf8'));
      } catch (err) {
        throw new UsageError(`--jwt-public-key: cannot read a public key from ${cfg.jwtPublicKeyFile}: ${err.message}`);
      }
    }
    check = (handshake) => {
      const t = extractToken(handshake);
      const rules = { requireExp: cfg.jwtRequireExp, maxAge: cfg.jwtMaxAge };
      const claims = t === null ? null : verifyJwt(t, keys, Date.now() / 1000, rules);
      return claims ? { ok: true, rooms: claims.rooms } : { ok: false };
    };
  }

  const roomPatterns = new WeakMap(); // socket -> RegExp[] from a JWT rooms claim
  const allow = cfg.roomsAllow ? cfg.roomsAllow.map(globToRegExp) : null;

  let authenticateFn = (handshake, socket) => {
    const r = check(handshake);
    if (r.ok && Array.isArray(r.rooms) && socket) roomPatterns.set(socket, r.rooms.map(globToRegExp));
    return r.ok;
  };

  if (cfg.fixture) {
    const normal = authenticateFn;
    const b = cfg.authBehaviour;
    if (b === 'false') authenticateFn = () => false;
    else if (b === 'throw') authenticateFn = () => { throw new Error('authenticateFn throws (fixture)'); };
    else if (b === 'reject') authenticateFn = () => Promise.reject(new Error('authenticateFn rejects (fixture)'));
    else if (b === 'never') authenticateFn = () => new Promise(() => {});
    else if (b.startsWith('slow:')) {
      const ms = Number(b.slice(5));
      authenticateFn = () => new Promise((resolve) => setTimeout(() => resolve(true), ms));
    } else authenticateFn = normal;
  }

  const validateRoomFn = ({ socket, rooms }) => {
    const patterns = roomPatterns.get(socket) ?? allow;
    if (!patterns) return [];
    return rooms.filter((r) => patterns.some((re) => re.test(r)));
  };
  const hasRoomRules = cfg.auth === 'jwt' || allow !== null;
  if (cfg.auth === 'none') log('warn', 'warning: --auth none: every client is accepted without authentication');
  return { authenticateFn, validateRoomFn: hasRoomRules ? validateRoomFn : undefined };
}

function buildClientConnected(cfg) {
  switch (cfg.fixture ? cfg.clientConnected : 'none') {
    case 'emit': return ({ socket }) => { socket.emit('welcome', { id: socket.id }); };
    case 'throw': return () => { throw new Error('clientConnectedFn throws (fixture)'); };
    case 'reject': return () => Promise.reject(new Error('clientConnectedFn rejects (fixture)'));
    case 'handler': return ({ socket }) => {
      socket.on('echo', (...args) => {
        const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        if (ack) ack(...args);
      });
    };
    default: return undefined;
  }
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The HTTP API (only with --api-key) and 404 for everything that is not Socket.IO. */
function makeRequestHandler(cfg, getHelper) {
  return async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    if (!cfg.apiKey || !(p === '/api' || p.startsWith('/api/'))) {
      sendJson(res, 404, { error: 'Not found' });
      return;
    }
    if (req.headers['x-api-key'] !== cfg.apiKey) {
      sendJson(res, 401, { error: 'Unauthorized' });
      return;
    }
    const helper = getHelper();
    const body = async () => {
      const text = await readBody(req);
      try {
        const v = JSON.parse(text);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      } catch { /* below */ }
      return null;
    };
    try {
      if (req.method === 'GET' && p === '/api/clients') {
        const all = [...helper.getClients().values()];
        sendJson(res, 200, {
          count: all.length,
          authenticated: all.filter((c) => c.state === STATES.AUTHENTICATED).length,
          ids: all.map((c) => c.id),
        });
        return;
      }
      if (req.method === 'POST' && p === '/api/send') {
        const b = await body();
        if (!b) return sendJson(res, 400, { error: 'Invalid JSON body' });
        if (typeof b.topic !== 'string' || b.topic === '') return sendJson(res, 400, { error: 'Topic is required' });
        if (b.destination != null && typeof b.destination !== 'string') {
          return sendJson(res, 400, { error: 'Destination must be a string' });
        }
        if (RESERVED_EVENTS.has(b.topic)) return sendJson(res, 400, { error: `"${b.topic}" is a reserved event name` });
        helper.send({ destination: b.destination || undefined, payload: { topic: b.topic, data: b.data } });
        return sendJson(res, 200, { success: true });
      }
      const m = /^\/api\/clients\/([^/]+)\/(join|leave)$/.exec(p);
      if (req.method === 'POST' && m) {
        const b = await body();
        if (!b) return sendJson(res, 400, { error: 'Invalid JSON body' });
        if (!Array.isArray(b.rooms) || b.rooms.some((r) => typeof r !== 'string' || r === '')) {
          return sendJson(res, 400, { error: 'Rooms array is required' });
        }
        const id = decodeURIComponent(m[1]);
        const client = helper.getClients(id);
        if (!client || !client.socket.connected) return sendJson(res, 404, { error: 'Client not found' });
        if (m[2] === 'join') client.socket.join(b.rooms);
        else for (const r of b.rooms) if (r !== id) client.socket.leave(r);
        return sendJson(res, 200, { success: true });
      }
      return sendJson(res, 404, { error: 'Not found' });
    } catch (err) {
      return sendJson(res, 500, { error: String(err && err.message) });
    }
  };
}

/**
 * Start the program (or, with cfg.fixture, the fixture) described by `cfg`.
 * Resolves with { host, port, url, path, helper, io, stop() } once listening.
 * `serve(req, res)`, when given, sees every HTTP request first (not Socket.IO's) and returns
 * true for those it answered (the Admin UI's page, for tests/browser/admin-ui.test.mjs).
 */
export async function startIgnis(cfg, { log = () => {}, serve } = {}) {
  const { authenticateFn, validateRoomFn } = buildAuth(cfg, log);
  let helper = null;
  const handler = makeRequestHandler(cfg, () => helper);
  const httpServer = http.createServer((req, res) => {
    if (serve && serve(req, res)) return;
    handler(req, res);
  });
  const conns = new Set();
  httpServer.on('connection', (s) => {
    conns.add(s);
    s.once('close', () => conns.delete(s));
  });
  const serverOptions = { path: cfg.path, serveClient: false };
  if (cfg.corsOrigin) {
    const star = cfg.corsOrigin.length === 1 && cfg.corsOrigin[0] === '*';
    serverOptions.cors = { origin: star ? '*' : cfg.corsOrigin, methods: ['GET', 'POST'], credentials: !star };
  }
  const io = new Server(httpServer, serverOptions);
  helper = new IgnisServerHelper({
    io,
    authenticateFn,
    validateRoomFn,
    clientConnectedFn: buildClientConnected(cfg),
    authenticateTimeout: cfg.authenticateTimeout,
    pingInterval: cfg.pingInterval,
    defaultRooms: cfg.defaultRooms,
    broadcastToUnauthenticated: cfg.broadcastToUnauthenticated,
    maxRoomsPerSocket: cfg.maxRoomsPerSocket,
    log,
  });
  helper.configure();
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(cfg.port, cfg.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = httpServer.address().port;
  let stopped = null;
  return {
    host: cfg.host,
    port,
    url: `http://${cfg.host}:${port}`,
    path: cfg.path,
    helper,
    io,
    stop() {
      if (!stopped) {
        stopped = (async () => {
          const done = helper.shutdown();
          httpServer.closeAllConnections?.();
          for (const s of conns) s.destroy();
          await done;
        })();
      }
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------
// Main

/** Runs the reference as a program (also server.mjs's stand-in for `ignis-fixture --mode ignis`). */
export async function main(argv = process.argv.slice(2), env = process.env) {
  const log = (level, msg) => process.stderr.write(`${iso()} ${level}: ${msg}\n`);
  let cfg;
  let server;
  try {
    cfg = parseConfig(argv, env);
    server = await startIgnis(cfg, {
      log: (level, msg) => (msg.startsWith('warning:') ? process.stderr.write(`${msg}\n`) : log(level, msg)),
    });
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  process.stdout.write(`listening on http://${cfg.host}:${server.port}\n`);
  let stopping = false;
  const onSignal = async (sig) => {
    if (stopping) return;
    stopping = true;
    log('info', `${sig}: shutting down`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

const isMain = (() => {
  try {
    return Boolean(process.argv[1]) && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
})();
if (isMain) {
  await main();
}
