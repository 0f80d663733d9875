// Redis frozen for 10 s (SIGSTOP, then SIGCONT): its port stays open and its connections stay
// up, but nothing answers. Local delivery on each C++ server goes on throughout, the program
// notices the freeze by itself (no publish of its own to time out) and /health says degraded
// before Redis runs again, nothing is delivered twice, no server dies, and cross-server delivery
// resumes within 5 s of SIGCONT.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, sleep } from '../lib/util.mjs';
import { clusterWithClients, command } from './cluster.mjs';
import { healthRedis, RESUME_LIMIT_MS, resumeTime } from './probes.mjs';

const FREEZE_MS = 10_000;
// One local round (a fixture broadcast and a program send, each to its own clients) while Redis
// is frozen; Redis must not slow it down.
const LOCAL_LIMIT_MS = 1000;
const ROUND_EVERY_MS = 500;

for (const mode of ['classic', 'sharded']) {
  describe(`Redis frozen for 10 s, ${mode} adapter`, () => {
    const cluster = clusterWithClients(mode);

    it('keeps local delivery, reports degraded and resumes across servers after SIGCONT', async (t) => {
      const { c, n1, f1, f2, p1 } = cluster;
      assert.equal(await healthRedis(c.program), 'connected');
      await c.redis.freeze();
      const frozenAt = Date.now();
      let rounds = 0;
      let slowest = 0;
      let degradedAfter = null;
      let programRounds = 0;
      while (Date.now() - frozenAt < FREEZE_MS) {
        const round = ++rounds;
        const started = Date.now();
        await command(f1, 'emit-to', { event: 'frozen-f', args: [round] });
        assert.deepEqual(await f2.log.next('frozen-f', { timeout: LOCAL_LIMIT_MS }), [round]);
        // The program publishes nothing until it has noticed the freeze by itself (its
        // subscriber's health check): a publish timing out would tell it.
        if (degradedAfter === null && (await healthRedis(c.program)) === 'degraded') {
          degradedAfter = Date.now() - frozenAt;
        }
        if (degradedAfter !== null) {
          await c.program.api.send({ topic: 'frozen-p', data: ++programRounds });
          assert.deepEqual(await p1.log.next('frozen-p', { timeout: LOCAL_LIMIT_MS }), [programRounds]);
        }
        slowest = Math.max(slowest, Date.now() - started);
        // Pacing, not synchronisation: one round every ROUND_EVERY_MS for the whole freeze.
        await sleep(Math.max(0, Math.min(ROUND_EVERY_MS - (Date.now() - started), FREEZE_MS - (Date.now() - frozenAt))));
      }
      assert.ok(degradedAfter !== null, `/health never said degraded during the ${FREEZE_MS} ms freeze`);
      assert.ok(programRounds > 0);

      c.redis.thaw();
      const back = Date.now();
      const [nodeToFixture, fixtureToNode, programToNode, nodeToProgram] = await Promise.all([
        resumeTime((n) => command(n1, 'emit-to', { event: 'probe-nf', args: [n] }), f1, 'probe-nf', back),
        resumeTime((n) => command(f1, 'emit-to', { event: 'probe-fn', args: [n] }), n1, 'probe-fn', back),
        resumeTime((n) => c.program.api.send({ topic: 'probe-pn', data: n }), n1, 'probe-pn', back),
        resumeTime((n) => command(n1, 'emit-to', { event: 'probe-np', args: [n] }), p1, 'probe-np', back),
      ]);
      await eventually(async () => (await healthRedis(c.program)) === 'connected', { label: '/health connected' });
      const connectedAfter = Date.now() - back;

      // Broadcasts published during the freeze may reach Node's client late (Redis reads them
      // once it runs) or never (their connection was given up); never twice.
      const late = (event) => n1.log.all(event).map(([n]) => n);
      for (const event of ['frozen-f', 'frozen-p']) {
        assert.equal(new Set(late(event)).size, late(event).length, `${event} delivered twice`);
      }
      t.diagnostic(`local rounds while frozen: fixture ${rounds}, program ${programRounds}, slowest ` +
        `${slowest} ms; /health degraded ${degradedAfter} ms into the freeze, connected ` +
        `${connectedAfter} ms after SIGCONT`);
      t.diagnostic(`resumed after SIGCONT: node->fixture ${nodeToFixture} ms, fixture->node ` +
        `${fixtureToNode} ms, program->node ${programToNode} ms, node->program ${nodeToProgram} ms`);
      t.diagnostic(`published while frozen, reached Node's client later: fixture ` +
        `${late('frozen-f').length}/${rounds}, program ${late('frozen-p').length}/${programRounds}`);
      for (const [label, ms] of [['node->fixture', nodeToFixture], ['fixture->node', fixtureToNode],
        ['program->node', programToNode], ['node->program', nodeToProgram]]) {
        assert.ok(ms <= RESUME_LIMIT_MS, `${label} resumed after ${ms} ms`);
      }
      assert.ok(c.fixture.process.exitCode === null && c.program.process.exitCode === null);
    });
  });
}
