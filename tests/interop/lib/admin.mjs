// The Admin UI's server side under test, and its reference: the tests of tests/interop/admin and
// tests/browser/admin-ui.test.mjs run the same steps against
//   program   – $IGNIS_PROGRAM with --admin-ui (only when IGNIS_PROGRAM is set), and
//   reference – the Ignis program's Node reference (ignis-reference.mjs) on the official
//               socket.io, instrumented with @socket.io/admin-ui 0.5.1's instrument() and serving
//               the UI's files under /admin/ as the program does,
// both with token authentication (USER_TOKEN), every room allowed, and the same admin login (a
// bcrypt hash made by bcryptjs, as instrument() users make theirs).
//
// adminSocket(server, opts) is a socket.io-client connected to the admin namespace with the hosted
// UI's options (polling then WebSocket, withCredentials), recording every event (socket.log) and
// every packet in arrival order (socket.packets), as the UI would see them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, startIgnis } from './ignis-reference.mjs';
import { requirePeer } from './peers.mjs';
import { spawnProgram, usingProgram } from './server.mjs';
import { newSocket } from './sio-client.mjs';
import { DEFAULT_WAIT_MS, waitFor } from './util.mjs';

const bcrypt = requirePeer('bcryptjs');
const { instrument } = requirePeer('@socket.io/admin-ui');

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'changeit';
/** bcryptjs' hash (cost 6: each login costs a few ms) of ADMIN_PASSWORD. */
export const ADMIN_HASH = bcrypt.hashSync(ADMIN_PASSWORD, 6);
export const USER_TOKEN = 'user-token';

export const DEV_FEATURES = Object.freeze(['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS']);
export const PROD_FEATURES = Object.freeze(DEV_FEATURES.filter((f) => f !== 'ALL_EVENTS'));
export const AGGREGATED_TYPES = Object.freeze(new Set(['rawConnection', 'rawDisconnection', 'packetsIn', 'bytesIn', 'packetsOut', 'bytesOut']));
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The directory of the UI's files (the package's ui/dist). */
export const UI_DIR = fileURLToPath(new URL('../../node/node_modules/@socket.io/admin-ui/ui/dist/', import.meta.url));

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

// The UI's files under /admin/ for the reference (the program serves them itself).
function uiFiles(prefix) {
  const files = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (!name.endsWith('.map')) files.set(`${prefix}/${path.relative(UI_DIR, full).split(path.sep).join('/')}`, full);
    }
  };
  walk(UI_DIR);
  return (req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p !== prefix && !p.startsWith(`${prefix}/`)) return false;
    if (p === prefix) {
      res.writeHead(301, { Location: `${prefix}/` }).end();
      return true;
    }
    const file = files.get(p === `${prefix}/` ? `${prefix}/index.html` : p);
    if (!file) {
      res.writeHead(404).end('Not Found');
      return true;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    return true;
  };
}

/**
 * Starts a target. opts: mode 'dev' | 'prod', serverId, readonly, namespace (default /admin),
 * flags (more program flags; the reference takes the Ignis ones). Resolves with a server: url,
 * path, kind, serverId, stop().
 */
async function startProgramTarget({ mode = 'dev', serverId = 'ignis-1', readonly = false, namespace = '/admin', flags = [] } = {}) {
  const server = await spawnProgram([
    '--auth', 'tokens', '--tokens', USER_TOKEN, '--rooms-allow', '*',
    '--admin-ui', mode, '--admin-username', ADMIN_USER, '--admin-password-hash', ADMIN_HASH,
    '--admin-server-id', serverId, '--admin-namespace', namespace,
    ...(readonly ? ['--admin-readonly'] : []), ...flags,
  ]);
  return Object.assign(server, { serverId, adminNamespace: namespace });
}

async function startReferenceTarget({ mode = 'dev', serverId = 'node-1', readonly = false, namespace = '/admin', flags = [] } = {}) {
  const cfg = parseConfig(['--host', '127.0.0.1', '--port', '0', '--auth', 'tokens', '--tokens', USER_TOKEN, '--rooms-allow', '*', ...flags]);
  const ref = await startIgnis(cfg, { serve: uiFiles('/admin') });
  instrument(ref.io, {
    auth: { type: 'basic', username: ADMIN_USER, password: ADMIN_HASH },
    mode: mode === 'dev' ? 'development' : 'production',
    serverId,
    readonly,
    namespaceName: namespace,
  });
  return { kind: 'reference', url: ref.url, port: ref.port, path: cfg.path, serverId, adminNamespace: namespace, io: ref.io, stop: () => ref.stop() };
}

/** The targets to run against: the program (with IGNIS_PROGRAM) and the Node reference. */
export const TARGETS = Object.freeze([
  ...(usingProgram ? [{ name: 'program', start: startProgramTarget }] : []),
  { name: 'Node reference (instrument())', start: startReferenceTarget },
]);

/**
 * A socket.io-client on the admin namespace with the hosted UI's options (not awaited).
 * auth: default the right username and password. socket.packets records the Socket.IO packets
 * in the order they arrived ({type, nsp, data}).
 */
export function adminSocket(server, { auth = { username: ADMIN_USER, password: ADMIN_PASSWORD }, transports = ['polling', 'websocket'], ...rest } = {}) {
  const socket = newSocket(server.url, { nsp: server.adminNamespace ?? '/admin', transports, path: server.path, withCredentials: true, auth, ...rest });
  socket.packets = [];
  socket.io.on('packet', (p) => socket.packets.push(p));
  return socket;
}

/** adminSocket(), connected, with its config; returns the socket. */
export async function loginAdmin(server, opts = {}) {
  const socket = adminSocket(server, opts);
  await waitFor(socket, 'connect', { failOn: ['connect_error', 'disconnect'] });
  await socket.log.next('config');
  return socket;
}

/** The first recorded event `name` whose args satisfy `pred`; waits for it. Returns its args. */
export async function nextMatching(socket, name, pred = () => true, { timeout = DEFAULT_WAIT_MS } = {}) {
  const find = () => socket.log.entries.find((e) => e.event === name && pred(...e.args));
  const end = Date.now() + timeout;
  for (;;) {
    const found = find();
    if (found) return found.args;
    const left = end - Date.now();
    if (left <= 0) throw new Error(`no "${name}" event matching within ${timeout} ms; got: ${socket.log.entries.map((e) => e.event).join(', ')}`);
    await new Promise((resolve) => {
      const check = () => {
        socket.log.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(check, left);
      socket.log.waiters.add(check);
    });
  }
}

/** The recorded admin events about socket `id` (by the position of its id in each event). */
export function eventsAbout(socket, id) {
  return socket.log.entries.filter(({ event, args }) => {
    switch (event) {
      case 'socket_connected': return args[0]?.id === id;
      case 'socket_updated': return args[0]?.id === id;
      case 'socket_disconnected': case 'event_received': case 'event_sent': return args[1] === id;
      case 'room_joined': case 'room_left': return args[2] === id;
      default: return false;
    }
  });
}
