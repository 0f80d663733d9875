// The demo chat (docs/operations.md, "Demo chat"): off unless --demo-chat, so that an
// authenticated client cannot broadcast to everyone through io-default; the page is still served.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useProgram } from '../lib/server.mjs';
import { assertNothing, authedClient, next } from '../lib/ignis-client.mjs';
import { runProgram } from '../lib/program-run.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;
const TOKENS = ['--auth', 'tokens', '--tokens', 'good'];

describe('demo chat', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('is off by default: a client cannot broadcast through io-default', async (t) => {
    const server = await useProgram(t, TOKENS);
    const [a, b] = [await authedClient(server, { token: 'good' }), await authedClient(server, { token: 'good' })];
    const answered = a.timeout(1000).emitWithAck('chat', { room: 'io-default', text: 'to everyone' }).then(() => true, () => false);
    await assertNothing(server, [a, b], 'chat');
    assert.equal(await answered, false, 'no chat handler answers');
    // The page itself is still served.
    assert.equal((await fetch(`${server.url}/`)).status, 200);
  });

  it('--demo-chat (or IGNIS_DEMO_CHAT) turns it on; --no-demo with it is refused', async (t) => {
    for (const [flags, env] of [[['--demo-chat'], {}], [[], { IGNIS_DEMO_CHAT: 'true' }]]) {
      const server = await useProgram(t, [...TOKENS, ...flags], { env });
      const [a, b] = [await authedClient(server, { token: 'good' }), await authedClient(server, { token: 'good' })];
      assert.deepEqual(await a.timeout(3000).emitWithAck('chat', { room: 'io-default', text: 'hello' }), { ok: true });
      const [msg] = await next(b, 'chat');
      assert.equal(msg.text, 'hello');
      assert.equal(msg.from, a.id);
    }
    const r = await runProgram([...TOKENS, '--demo-chat', '--no-demo']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--demo-chat needs the demo/);
  });
});
