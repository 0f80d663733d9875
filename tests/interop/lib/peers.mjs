// The official Node.js Socket.IO packages the interop tests talk to.
//
// They are installed once in tests/node/node_modules (see tests/node/package.json).
// Test files live elsewhere, so plain `import 'engine.io'` would not resolve; every
// test imports the peers from here instead. We resolve them with a `require`
// anchored at tests/node/package.json, which loads the CommonJS builds — the same
// builds a Node application gets with `require()`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../node/package.json', import.meta.url));

/** Load any package installed in tests/node/node_modules. */
export function requirePeer(name) {
  return require(name);
}

/** The `engine.io` server package (6.6.x). */
export const engineio = require('engine.io');

/** The `engine.io-client` package (6.6.x): `new EioSocket(url, opts)`. */
export const engineioClient = require('engine.io-client');
export const EioSocket = engineioClient.Socket;

/** The `ws` package (8.x). */
export const ws = require('ws');
export const WebSocket = ws.WebSocket;
export const WebSocketServer = ws.WebSocketServer;

function installedVersion(name) {
  // Some packages do not export ./package.json, so read it from disk.
  const file = new URL(`../../node/node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** Versions actually loaded, for diagnostics. */
export const versions = {
  'engine.io': installedVersion('engine.io'),
  'engine.io-client': installedVersion('engine.io-client'),
  ws: installedVersion('ws'),
};
