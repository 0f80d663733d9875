// A private redis-server for a test: loopback only, a free port, no persistence.
//
//   const redis = await startRedis();
//   redis.url                 -> 'redis://127.0.0.1:<port>'
//   await redis.restart()     // stop, then start again on the same port
//   await redis.freeze(); redis.thaw()  // SIGSTOP / SIGCONT: the port stays open, nothing answers
//   redis.pid
//   await redis.stop()
//
// The server is ready when it answers PING; stop() waits for the process to exit (and thaws a
// frozen server first, or SIGTERM would wait for SIGCONT).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freeze, thaw } from './freeze.mjs';
import { freePort, sleep, withTimeout } from './util.mjs';

const READY_TIMEOUT_MS = 10_000;


// One RESP PING over a fresh TCP connection: resolves true on +PONG.
function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        sock.destroy();
        resolve(data.startsWith('+PONG'));
      }
    });
    sock.on('error', () => resolve(false));
  });
}

async function whenReady(port, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (await ping(port)) return;
    await sleep(50);
  }
  throw new Error(`redis-server on ${port} not ready after ${READY_TIMEOUT_MS} ms`);
}

function launch(port) {
  const child = spawn(
    process.env.IGNIS_REDIS_SERVER || 'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no',
      '--protected-mode', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}

export async function startRedis() {
  const port = await freePort();
  let current = launch(port);
  await whenReady(port, current.child);
  let frozen = false;
  const stopCurrent = async () => {
    if (frozen) {
      thaw(current.child);
      frozen = false;
    }
    if (current.child.exitCode === null) current.child.kill('SIGTERM');
    await withTimeout(current.exited, 10_000, 'redis-server exit');
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.child.pid;
    },
    async freeze() {
      frozen = true;
      await freeze(current.child);
    },
    thaw() {
      thaw(current.child);
      frozen = false;
    },
    async restart() {
      await stopCurrent();
      current = launch(port);
      await whenReady(port, current.child);
    },
    /** Stops without starting again (restart later with start()). */
    async stopOnly() {
      await stopCurrent();
    },
    async start() {
      current = launch(port);
      await whenReady(port, current.child);
    },
    async stop() {
      await stopCurrent();
    },
  };
}
