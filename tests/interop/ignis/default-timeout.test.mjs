// Checklist item 3 with the defaults: without --authenticate-timeout a client
// that never authenticates is disconnected after 10000 ms, with no event first.
// (Its own file so that it can run next to the others.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useProgram } from '../lib/server.mjs';
import { connectClient, disconnected, names } from '../lib/ignis-client.mjs';

describe('default authenticateTimeout', () => {
  it('3: the default authenticateTimeout is 10000 ms', { timeout: 20_000 }, async (t) => {
    const server = await useProgram(t, ['--auth', 'tokens', '--tokens', 'good']);
    const s = await connectClient(server, { token: 'good' });
    const reason = await disconnected(s, 13_000);
    const elapsed = s.disconnects[0].at - s.connectedAt;
    assert.equal(reason, 'io server disconnect');
    assert.ok(elapsed >= 9500 && elapsed < 11_500, `disconnected after ${elapsed} ms`);
    assert.deepEqual(names(s), []);
  });
});
