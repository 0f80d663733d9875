// What the kernel holds for a server's connections, as `ss` and /proc show it: the deadline tests
// check that a connection the server gave up on is really gone (not ESTABLISHED, not FIN-WAIT
// with bytes queued), and that descriptors come back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { rawTcp, sleep, withTimeout } from '../../lib/util.mjs';
import { rawWebSocketUpgrade } from '../../lib/eio.mjs';
import { frame } from './hostile.mjs';

/**
 * The server's TCP sockets (local port `serverPort`) whose peer is one of `clientPorts`:
 * [{ state, sendQ, peerPort }].
 */
export function serverSockets(serverPort, clientPorts) {
  const out = execFileSync('ss', ['-tanH', `( sport = :${serverPort} )`], { encoding: 'utf8' });
  const rows = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const peerPort = Number(f[4].slice(f[4].lastIndexOf(':') + 1));
    if (clientPorts.has(peerPort)) rows.push({ state: f[0], sendQ: Number(f[2]), peerPort });
  }
  return rows;
}

/** Connections the server listening on `serverPort` still holds: established, or closed by the
 * client only. */
export function heldConnections(serverPort) {
  const out = execFileSync('ss', ['-tanH', 'state', 'established', 'state', 'close-wait',
    `( sport = :${serverPort} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

/** Open descriptors of process `pid`. */
export function descriptorCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Polls `fn` every 50 ms until it returns true; returns the ms it took, or fails after `timeout`. */
export async function within(timeout, fn, label) {
  const started = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - started;
    if (Date.now() - started > timeout) assert.fail(`${label}: not within ${timeout} ms`);
    await sleep(50);
  }
}

/**
 * A raw WebSocket client that joins "/" (with `auth`) and then stops reading: its receive window
 * fills, then the server's socket buffer, then the server's queue. Returns { tcp, port, sid }.
 */
export async function stalledClient(server, { auth, path = '/socket.io/', connect } = {}) {
  const ws = connect ? await connect() : await rawWebSocketUpgrade({ port: server.port, path }, { EIO: '4', transport: 'websocket' });
  await ws.tcp.write(frame(0x1, auth ? `40${JSON.stringify(auth)}` : '40'));
  const sid = await withTimeout(new Promise((resolve) => {
    const check = () => {
      const m = /40\{"sid":"([^"]+)"/.exec(ws.rest().toString('latin1'));
      if (m) resolve(m[1]);
      else ws.tcp.socket.once('data', check);
    };
    check();
  }), 5000, 'the stalled client to join "/"');
  ws.tcp.socket.pause();
  return { tcp: ws.tcp, port: ws.tcp.socket.localPort, sid };
}

export { rawTcp };
