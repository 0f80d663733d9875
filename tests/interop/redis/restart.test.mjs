// Redis goes away and comes back: local delivery never stops, cross-server delivery resumes
// within 5 s of Redis being back, and no server dies (stopping each asserts a clean exit).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../lib/util.mjs';
import { clusterWithClients, command } from './cluster.mjs';
import { healthRedis, RESUME_LIMIT_MS, resumeTime } from './probes.mjs';

for (const mode of ['classic', 'sharded']) {
  describe(`Redis restart, ${mode} adapter`, () => {
    const cluster = clusterWithClients(mode);

    it('keeps local delivery while Redis is down and resumes across servers once it is back', async (t) => {
      const { c, n1, f1, f2, p1 } = cluster;
      assert.equal(await healthRedis(c.program), 'connected');
      await c.redis.stopOnly();
      await eventually(async () => (await healthRedis(c.program)) === 'degraded', { label: '/health degraded' });
      // Down: a fixture broadcast still reaches the fixture's own clients.
      await command(f1, 'emit-to', { event: 'local-while-down', args: [1] });
      await f2.log.next('local-while-down', { timeout: 3000 });
      await c.program.api.send({ topic: 'program-local-while-down', data: 2 });
      await p1.log.next('program-local-while-down', { timeout: 3000 });

      await c.redis.start();
      const back = Date.now();
      const [nodeToFixture, fixtureToNode, programToNode] = await Promise.all([
        resumeTime((n) => command(n1, 'emit-to', { event: 'probe-nf', args: [n] }), f1, 'probe-nf', back),
        resumeTime((n) => command(f1, 'emit-to', { event: 'probe-fn', args: [n] }), n1, 'probe-fn', back),
        resumeTime((n) => c.program.api.send({ topic: 'probe-pn', data: n }), n1, 'probe-pn', back),
      ]);
      t.diagnostic(`resumed after Redis came back: node->fixture ${nodeToFixture} ms, ` +
        `fixture->node ${fixtureToNode} ms, program->node ${programToNode} ms`);
      for (const [label, ms] of [['node->fixture', nodeToFixture], ['fixture->node', fixtureToNode],
        ['program->node', programToNode]]) {
        assert.ok(ms <= RESUME_LIMIT_MS, `${label} resumed after ${ms} ms`);
      }
      assert.ok(c.fixture.process.exitCode === null && c.program.process.exitCode === null);
      await eventually(async () => (await healthRedis(c.program)) === 'connected', { label: '/health connected' });
    });
  });
}
