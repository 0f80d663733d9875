// Graceful shutdown: on SIGTERM the program stops accepting, sends every client a server
// disconnect after what was already queued for it, lets the queues drain and exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnProgram, withApi } from '../lib/server.mjs';
import { authedClient, closeAllClients, disconnected } from '../lib/ignis-client.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const MESSAGES = 60;
// A WebSocket client gets ~2 MB queued. A polling client can only be flushed when it polls
// again, and the program gives polling clients a short grace for that: a smaller load keeps
// this test about the drain, not about how fast a loaded machine parses megabytes.
const FILLER = { websocket: 'x'.repeat(32 * 1024), polling: 'x'.repeat(1024) };

describe('graceful shutdown', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('SIGTERM as soon as the listening line is out: a graceful stop, exit 0', async () => {
    for (let i = 0; i < 5; i++) {
      const server = await spawnProgram(['--auth', 'none']);
      assert.deepEqual(await server.signal('SIGTERM'), { code: 0, signal: null }, server.stderr());
    }
  });

  it('SIGTERM: queued messages arrive, then "io server disconnect"; exit 0', async (t) => {
    const server = await spawnProgram(withApi(['--auth', 'tokens', '--tokens', 'good', '--shutdown-timeout', '4000']));
    t.after(async () => {
      closeAllClients();
      if (server.process.exitCode === null) await server.signal('SIGKILL');
    });
    const clients = [
      await authedClient(server, { token: 'good', transports: ['websocket'] }),
      await authedClient(server, { token: 'good', transports: ['polling'] }),
    ];
    const received = clients.map(() => []);
    clients.forEach((s, i) => s.on('bulk', (d) => received[i].push(d.n)));
    const order = clients.map(() => []);
    clients.forEach((s, i) => s.on('disconnect', () => order[i].push(received[i].length)));

    // Queued, then the signal at once.
    for (let n = 0; n < MESSAGES; n++) {
      await server.api.send({ destination: clients[0].id, topic: 'bulk', data: { n, filler: FILLER.websocket } });
      await server.api.send({ destination: clients[1].id, topic: 'bulk', data: { n, filler: FILLER.polling } });
    }
    const exit = await server.signal('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
    for (const [i, s] of clients.entries()) {
      assert.equal(await disconnected(s), 'io server disconnect', `client ${i}`);
      assert.equal(order[i][0], MESSAGES, `client ${i}: every queued message before the disconnect`);
      assert.deepEqual(received[i], Array.from({ length: MESSAGES }, (_, n) => n), 'in order');
    }
    // The port no longer accepts.
    await assert.rejects(fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2000) }));
  });
});
