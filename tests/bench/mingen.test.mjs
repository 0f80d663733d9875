// A short run of every ignis-mingen scenario against `ignis-socketio --profile bench`: each must get
// all its connections ready, deliver messages, and end with a RESULT line that parses, with
// non-zero rates and no failures. No performance is asserted (timings on a shared machine are noise).
//   IGNIS_PROGRAM=/path/ignis-socketio IGNIS_MINGEN=/path/ignis-mingen node --test tests/bench/mingen.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from '../interop/lib/server.mjs';
import { runForResult } from './run-result.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const MINGEN = process.env.IGNIS_MINGEN;

/** Runs ignis-mingen; resolves with its exit code and the parsed RESULT line. */
async function mingen(args) {
  const { code, result, stderr } = await runForResult(MINGEN, args);
  assert.equal(result.generator, 'mingen');
  assert.equal(result.failed, 0, stderr);
  assert.equal(result.closed, 0, stderr);
  return { code, result };
}

describe('ignis-mingen against ignis-socketio --profile bench', { skip: !PROGRAM || !MINGEN }, () => {
  let server;
  let common;
  before(async () => {
    server = await spawnChild(PROGRAM, ['--profile', 'bench', '--host', '127.0.0.1', '--port', '0', '--threads', '1'],
      { kind: 'program' });
    common = ['--url', `http://127.0.0.1:${server.port}/socket.io/`, '--server-pid', String(server.process.pid),
      '--warmup', '0.2', '-d', '0.5'];
  });
  after(async () => {
    await server?.stop();
  });

  it('connect: every connection opens and authenticates; the server is sampled', async () => {
    const { code, result } = await mingen(['connect', ...common, '-n', '50', '--authenticate', '--hold', '0.2']);
    assert.equal(code, 0);
    assert.equal(result.scenario, 'connect');
    assert.equal(result.ready, 50);
    assert.ok(result.server_rss > 0, 'resident memory read from /proc');
    assert.ok(result.connect_rate > 0 && result.connect_p99_ms > 0);
  });

  it('echo: answers come back to every connection, with latencies', async () => {
    const { code, result } = await mingen(['echo', ...common, '-n', '5', '-w', '4', '-p', '200']);
    assert.equal(code, 0);
    assert.equal(result.ready, 5);
    assert.ok(result.received > 0 && result.messages_per_s > 0);
    assert.ok(result.server_cpu_s > 0 && result.messages_per_server_cpu_s > 0, 'server CPU read from /proc');
    assert.ok(result.latency_p50_us > 0 && result.latency_p99_us >= result.latency_p50_us);
  });

  it('echo with acknowledgements, from two source addresses', async () => {
    const { code, result } = await mingen(['echo', ...common, '-n', '6', '-w', '2', '--ack', '--source', '127.0.0.2,127.0.0.3']);
    assert.equal(code, 0);
    assert.equal(result.ack, true);
    assert.ok(result.received > 0 && result.messages_per_s > 0);
  });

  it('fanout: every receiver gets every broadcast', async () => {
    const { code, result } = await mingen(['fanout', ...common, '-n', '20', '-w', '4']);
    assert.equal(code, 0);
    assert.equal(result.ready, 21, 'receivers and the sender');
    assert.ok(result.received > 0 && result.messages_per_server_cpu_s > 0);
    assert.equal(result.stalls, 0, 'no broadcast missed a receiver');
  });

  it('fanout with the frames of a loop turn coalesced', async () => {
    const { code, result } = await mingen(['fanout', ...common, '-n', '10', '-w', '8', '--coalesce']);
    assert.equal(code, 0);
    assert.equal(result.coalesce, true);
    assert.ok(result.received > 0);
    assert.equal(result.stalls, 0);
  });
});
