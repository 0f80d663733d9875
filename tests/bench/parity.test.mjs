// The bench profiles answer alike: `ignis-socketio --profile bench` and bench/node/server.js get the
// same scripted steps from the real socket.io-client, and what each client observes (events,
// acknowledgements, in the order they arrive) must be the same from both. Load tools written for
// one server (artillery's Socket.IO engine waits for authenticate's acknowledgement) then work on
// the other.
//   IGNIS_PROGRAM=/path/ignis-socketio node --test tests/bench/parity.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnChild } from '../interop/lib/server.mjs';
import { requirePeer } from '../interop/lib/peers.mjs';

const { io } = requirePeer('socket.io-client');
const PROGRAM = process.env.IGNIS_PROGRAM;
const NODE_SERVER = fileURLToPath(new URL('../../bench/node/server.js', import.meta.url));
const NODE_PATH = fileURLToPath(new URL('../node/node_modules', import.meta.url));
const STEP_TIMEOUT_MS = 5_000;

function connect(port) {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Resolves once `log` has `n` entries (the answers of a step), or fails after a while. */
async function until(log, n) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (log.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} observations, got ${JSON.stringify(log)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The script: two clients a and b; every event either receives and every acknowledgement goes
 * into one log, as [client, kind, name, args]. Each step waits for its answers, then a short
 * quiet time shows nothing more arrives.
 */
async function transcript(port) {
  const a = await connect(port);
  const b = await connect(port);
  const log = [];
  a.onAny((event, ...args) => log.push(['a', 'event', event, args]));
  b.onAny((event, ...args) => log.push(['b', 'event', event, args]));
  const ack = (name) => (...args) => log.push(['a', 'ack', name, args]);
  const steps = [
    ['echo without ack', 1, () => a.emit('echo', 'hello')],
    ['echo with ack', 1, () => a.emit('echo', { n: 1, s: 'x' }, ack('echo'))],
    ['broadcast', 2, () => a.emit('broadcast', 'to all')],
    ['authenticate without ack', 1, () => a.emit('authenticate')],
    ['authenticate with ack', 2, () => a.emit('authenticate', ack('authenticate'))],
    ['authenticate with an argument and ack', 2, () => a.emit('authenticate', { token: 't' }, ack('authenticate'))],
  ];
  const out = [];
  try {
    for (const [name, answers, send] of steps) {
      log.length = 0;
      send();
      await until(log, answers);
      await new Promise((r) => setTimeout(r, 50));
      // Both receivers of a broadcast get it; which one's socket is read first is not observable.
      const seen = name === 'broadcast' ? [...log].sort((x, y) => x[0].localeCompare(y[0])) : [...log];
      out.push([name, seen]);
    }
  } finally {
    a.close();
    b.close();
  }
  return out;
}

describe('bench profiles: ignis-socketio and bench/node/server.js', { skip: !PROGRAM }, () => {
  let ignis;
  let node;
  before(async () => {
    ignis = await spawnChild(PROGRAM, ['--profile', 'bench', '--host', '127.0.0.1', '--port', '0', '--threads', '1'],
      { kind: 'program' });
    node = await spawnChild(process.execPath, [NODE_SERVER, '--host', '127.0.0.1', '--port', '0'],
      { env: { NODE_PATH } });
  });
  after(async () => {
    await ignis?.stop();
    await node?.stop();
  });

  it('the same answers to the same steps', async () => {
    const fromNode = await transcript(node.port);
    const fromIgnis = await transcript(ignis.port);
    assert.deepEqual(fromIgnis, fromNode);
    // And what those answers are, so that both being wrong alike fails too.
    assert.deepEqual(fromNode, [
      ['echo without ack', [['a', 'event', 'echo', ['hello']]]],
      ['echo with ack', [['a', 'ack', 'echo', [{ n: 1, s: 'x' }]]]],
      ['broadcast', [['a', 'event', 'broadcast', ['to all']], ['b', 'event', 'broadcast', ['to all']]]],
      ['authenticate without ack', [['a', 'event', 'authenticated', []]]],
      ['authenticate with ack', [['a', 'ack', 'authenticate', [{ ok: true }]], ['a', 'event', 'authenticated', []]]],
      ['authenticate with an argument and ack',
        [['a', 'ack', 'authenticate', [{ ok: true }]], ['a', 'event', 'authenticated', []]]],
    ]);
  });
});
