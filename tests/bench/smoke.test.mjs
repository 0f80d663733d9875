// A short run of every ignis-bench scenario against `ignis-socketio --profile bench`: each must
// get all its connections ready, deliver messages, and end with a RESULT line that parses. No
// performance is asserted (the machine running the tests is shared and timings are noise).
//   IGNIS_PROGRAM=/path/ignis-socketio IGNIS_BENCH=/path/ignis-bench node --test tests/bench/
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from '../interop/lib/server.mjs';
import { runForResult } from './run-result.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const BENCH = process.env.IGNIS_BENCH;

/** Runs ignis-bench; resolves with its exit code and the parsed RESULT line. */
const bench = (args) => runForResult(BENCH, args);

describe('ignis-bench against ignis-socketio --profile bench', { skip: !PROGRAM || !BENCH }, () => {
  let server;
  let url;
  let common;
  before(async () => {
    server = await spawnChild(PROGRAM, ['--profile', 'bench', '--host', '127.0.0.1', '--port', '0', '--threads', '1'],
      { kind: 'program' });
    url = `http://127.0.0.1:${server.port}/socket.io/`;
    common = ['--url', url, '--server-pid', String(server.process.pid), '--warmup', '0.2', '--duration', '0.5'];
  });
  after(async () => {
    await server?.stop();  // the server exits cleanly (code 0 after SIGTERM)
  });

  it('connect: every connection opens and authenticates; the server is sampled', async () => {
    const { code, result } = await bench(['connect', ...common, '-n', '50', '--authenticate', '--hold', '0.2']);
    assert.equal(code, 0);
    assert.equal(result.scenario, 'connect');
    assert.equal(result.ready, 50);
    assert.equal(result.failed, 0);
    assert.ok(result.server_rss > 0, 'resident memory read from /proc');
    assert.ok(result.connect_server_cpu_s > 0, 'server CPU read from /proc');
  });

  it('connect over polling: the long-polling handshake and authenticate', async () => {
    const { code, result } = await bench(['connect', ...common, '-n', '10', '--authenticate', '--transport', 'polling', '--hold', '0.2']);
    assert.equal(code, 0);
    assert.equal(result.transport, 'polling');
    assert.equal(result.ready, 10);
  });

  it('echo: answers come back to every connection', async () => {
    const { code, result } = await bench(['echo', ...common, '-n', '5', '-w', '4', '-p', '200']);
    assert.equal(code, 0);
    assert.ok(result.received > 0, 'echo answers received');
    assert.ok(result.latency_p50_us > 0 && result.latency_p99_us >= result.latency_p50_us);
    assert.ok(result.generator_cpu_s > 0 && result.server_cpu_s > 0);
  });

  it('echo with acknowledgements', async () => {
    const { code, result } = await bench(['echo', ...common, '-n', '5', '-w', '2', '--ack']);
    assert.equal(code, 0);
    assert.equal(result.ack, true);
    assert.ok(result.received > 0, 'acknowledgements received');
  });

  it('echo at a fixed rate: the rate asked is the rate delivered, with the loopback round trip', async () => {
    const { code, result } = await bench(['echo', ...common, '-n', '10', '--rate', '2000', '--rtt-samples', '500']);
    assert.equal(code, 0);
    assert.equal(result.rate, 2000);
    assert.equal(result.ready, 10);
    // Open loop: the timetable, not the answers, sets the pace; a loose bound (a shared machine).
    assert.ok(result.messages_per_s > 2000 * 0.8 && result.messages_per_s < 2000 * 1.2,
      `messages per second ${result.messages_per_s}`);
    assert.ok(result.latency_p50_us > 0 && result.latency_p99_us >= result.latency_p50_us);
    assert.ok(result.latency_p999_us >= result.latency_p99_us);
    assert.ok(result.loopback_rtt_p50_us > 0 && result.loopback_rtt_p99_us >= result.loopback_rtt_p50_us);
    assert.ok(result.send_lag_p99_us >= 0);
  });

  it('fanout: closed loop with a window, every receiver gets every broadcast', async () => {
    const { code, result } = await bench(['fanout', ...common, '-n', '20', '-w', '4']);
    assert.equal(code, 0);
    assert.equal(result.ready, 21, 'receivers and the sender');
    assert.ok(result.received > 0);
    assert.equal(result.stalls, 0, 'no broadcast missed a receiver');
  });

  it('fanout at a fixed rate', async () => {
    const { code, result } = await bench(['fanout', ...common, '-n', '10', '--rate', '100']);
    assert.equal(code, 0);
    assert.ok(result.received > 0);
  });

  it('cluster: receivers spread over the URLs (here twice the same server), two load processes', async () => {
    const { code, result } = await bench(['cluster', ...common, '--url', url, '-n', '20', '-w', '2', '--processes', '2']);
    assert.equal(code, 0);
    assert.equal(result.targets, 2);
    assert.ok(result.received > 0);
    assert.equal(result.stalls, 0);
  });
});
