// One server of a three-server cluster (Node, the fixture, the program) stops answering, then
// dies, with clients connected to each; the others keep serving.
//   Frozen (SIGSTOP): it stays subscribed, so the others count it, but it answers nothing. A
//   fetchSockets asked on the fixture answers when the requests timeout expires, with the
//   sockets of the two live servers (Node's adapter rejects at that point: "timeout reached").
//   Killed (kill -9): fetchSockets asked on the fixture at once answers within the requests
//   timeout with exactly the live servers' sockets; once Redis has dropped the dead server's
//   subscriptions, the fixture and Node answer without waiting for it. Broadcasts and
//   server-side emits between the live servers go on, and new clients connect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freeze, thaw } from '../lib/freeze.mjs';
import { eventually } from '../lib/util.mjs';
import { command, programClient, serverCount, sioClient, startCluster } from './cluster.mjs';

const REQUESTS_TIMEOUT_MS = 1500;
// Slack over the timeout for the round trip to the asking server on a loaded machine.
const MARGIN_MS = 500;

const ids = (sockets) => sockets.map((s) => s.id).sort();

async function timed(fn) {
  const start = Date.now();
  const value = await fn();
  return [value, Date.now() - start];
}

for (const mode of ['classic', 'sharded']) {
  describe(`a server of three freezes, then dies, ${mode} adapter`, () => {
    let c, n1, n2, f1, f2, p1, p2;
    before(async () => {
      c = await startCluster(mode, { requestsTimeout: REQUESTS_TIMEOUT_MS });
      [n1, n2, f1, f2] = await Promise.all([
        sioClient(c.node), sioClient(c.node), sioClient(c.fixture), sioClient(c.fixture),
      ]);
      [p1, p2] = await Promise.all([programClient(c.program), programClient(c.program)]);
    });
    after(async () => {
      await c?.stop();
    });

    const fetchOnFixture = () => command(f1, 'fetch-sockets', {});
    // In process: a rejection must reach the test, not the fixture protocol's handler.
    const fetchOnNode = () => c.node.io.timeout(REQUESTS_TIMEOUT_MS).fetchSockets();

    it('frozen: fetchSockets on the fixture answers at the requests timeout with the live servers\' sockets', async (t) => {
      assert.deepEqual(ids(await fetchOnFixture()), ids([n1, n2, f1, f2, p1, p2]));
      await freeze(c.program.process);
      let fromFixture, fixtureMs, nodeOutcome, nodeMs;
      try {
        [[fromFixture, fixtureMs], [nodeOutcome, nodeMs]] = await Promise.all([
          timed(fetchOnFixture),
          timed(() => fetchOnNode().then(() => 'answered', (e) => e.message)),
        ]);
      } finally {
        thaw(c.program.process);
      }
      t.diagnostic(`program frozen: the fixture answered after ${fixtureMs} ms (timeout ` +
        `${REQUESTS_TIMEOUT_MS} ms), Node after ${nodeMs} ms with "${nodeOutcome}"`);
      assert.deepEqual(ids(fromFixture), ids([n1, n2, f1, f2]));
      assert.ok(fixtureMs >= REQUESTS_TIMEOUT_MS - 10 && fixtureMs <= REQUESTS_TIMEOUT_MS + MARGIN_MS,
        `the fixture answered after ${fixtureMs} ms`);
      assert.match(nodeOutcome, /timeout reached/);
      assert.ok(nodeMs <= REQUESTS_TIMEOUT_MS + MARGIN_MS, `Node answered after ${nodeMs} ms`);
      // Running again, the program answers again.
      assert.deepEqual(ids(await fetchOnFixture()), ids([n1, n2, f1, f2, p1, p2]));
    });

    it('killed: the others keep serving and fetchSockets answers with the live servers\' sockets', async (t) => {
      const live = ids([n1, n2, f1, f2]);
      const exit = await c.program.signal('SIGKILL');
      c.program.stopped = true;
      assert.equal(exit.signal, 'SIGKILL');

      // At once, whether or not Redis has dropped the dead server's subscriptions yet.
      const [atOnce, atOnceMs] = await timed(fetchOnFixture);
      assert.deepEqual(ids(atOnce), live);
      assert.ok(atOnceMs <= REQUESTS_TIMEOUT_MS + MARGIN_MS, `the fixture answered after ${atOnceMs} ms`);

      await eventually(async () => (await serverCount(c.admin, mode)) === 2, { label: 'two servers left' });
      const [[fromFixture, fixtureMs], [fromNode, nodeMs]] = await Promise.all([
        timed(fetchOnFixture),
        timed(fetchOnNode),
      ]);
      t.diagnostic(`program killed: the fixture answered after ${atOnceMs} ms at once, then the ` +
        `fixture after ${fixtureMs} ms and Node after ${nodeMs} ms (timeout ${REQUESTS_TIMEOUT_MS} ms)`);
      assert.deepEqual(ids(fromFixture), live);
      assert.deepEqual(ids(fromNode), live);
      for (const [who, ms] of [['the fixture', fixtureMs], ['Node', nodeMs]]) {
        assert.ok(ms < REQUESTS_TIMEOUT_MS, `${who} waited ${ms} ms for the dead server`);
      }

      // Broadcasts between the live servers.
      await command(n1, 'emit-to', { event: 'from-node', args: [1] });
      await Promise.all([n2, f1, f2].map((s) => s.log.next('from-node', { timeout: 3000 })));
      await command(f1, 'emit-to', { event: 'from-fixture', args: [2] });
      await Promise.all([n1, n2, f2].map((s) => s.log.next('from-fixture', { timeout: 3000 })));
      // Server-side emits: each live server hears from the other one only.
      assert.deepEqual(await command(n1, 'server-side-emit', 'x'),
        { err: null, replies: 1, values: [{ from: 'ignis', args: ['x'] }] });
      assert.deepEqual(await command(f1, 'server-side-emit', 'y'),
        { err: null, replies: 1, values: [{ from: 'node', args: ['y'] }] });
      // New clients, seen cluster-wide.
      const [n3, f3] = await Promise.all([sioClient(c.node), sioClient(c.fixture)]);
      assert.deepEqual(ids(await fetchOnFixture()), ids([n1, n2, n3, f1, f2, f3]));
      await eventually(() => !p1.connected && !p2.connected, { label: 'the dead server\'s clients disconnected' });
      assert.equal(c.fixture.process.exitCode, null);
    });
  });
}
