// Engine.IO v4 over raw HTTP long-polling (fetch / node:http), checked byte for
// byte against what Node's engine.io 6.6 answers. See wire-formats.md §1.2–1.4, §1.9.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { EioHttp, ERRORS, SEP, SID_RE, assertEioError } from '../lib/eio.mjs';
import { eventually, sleep } from '../lib/util.mjs';

const T = { timeout: 10_000 };

// Step-by-step tests run against a server whose heartbeat cannot interfere
// (no ping arrives within the few hundred ms a test needs); the handshake and
// missed-pong tests use the official suite's 300/200 ms.
const RELAXED = { pingInterval: 10_000, pingTimeout: 5_000 };

/** The session is gone: a GET is refused with 400 {"code":1,...} (bounded wait). */
async function assertSessionGone(h, sid, timeout = 3000) {
  await eventually(async () => {
    const res = await h.poll(sid, { timeout: 1000 });
    assertEioError(res, ERRORS.UNKNOWN_SID);
    return true;
  }, { timeout, label: `session ${sid} closed` });
}

/** The session is alive: a message POSTed is echoed back on the next GET. */
async function assertSessionAlive(h, sid, marker = 'alive') {
  const post = await h.post(sid, `4${marker}`);
  assert.equal(post.status, 200);
  assert.equal(post.text, 'ok');
  assert.deepEqual(await h.pollMessages(sid), [`4${marker}`]);
}

/**
 * Open a session, start a long-poll GET, then run `action(sid)` while that GET
 * is (very probably) pending on the server. Nothing on the wire tells a client
 * that the server has registered its GET, and another request can overtake it
 * (so the action should use a fresh connection too, like the GET, not an open
 * keep-alive one). When `wasPending(res)` says the GET was not pending yet, the
 * scenario is retried with a slightly longer head start (bounded; no event
 * exists to wait for instead). Returns { sid, pendingRes, headStartMs }.
 */
async function withPendingPoll(h, action, wasPending) {
  let last;
  for (const headStartMs of [0, 20, 100, 300]) {
    const { sid } = await h.handshake();
    const pending = h.startPoll(sid);
    await pending.flushed;
    if (headStartMs) await sleep(headStartMs);
    await action(sid);
    const pendingRes = await pending.response;
    last = { sid, pendingRes, headStartMs };
    if (wasPending(pendingRes)) break;
  }
  return last;
}

describe('polling handshake (official suite configuration)', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio' });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('GET ?EIO=4&transport=polling opens a session with exactly the five handshake keys', T, async () => {
    const res = await h.request('GET', { EIO: 4, transport: 'polling' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.text[0], '0', 'open packet type');
    const open = JSON.parse(res.text.slice(1));
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload']);
    assert.match(open.sid, SID_RE);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1_000_000);
    // Node serialises with JSON.stringify: no whitespace.
    assert.equal(res.text, `0${JSON.stringify(open)}`);
  });

  it('every handshake gets a new session id', T, async () => {
    const sids = new Set();
    for (let i = 0; i < 5; i++) sids.add((await h.handshake()).sid);
    assert.equal(sids.size, 5);
  });

  it('heartbeat: without a pong the session is gone after pingInterval + pingTimeout', T, async () => {
    const t0 = Date.now(); // before the handshake: the server's timers cannot start earlier
    const { sid } = await h.handshake();
    // Keep polling (never answering the ping) until the server forgets the session.
    // While the session lives a GET returns the ping `2` (or `1` when the server
    // closes it during the GET); afterwards 400 "Session ID unknown".
    let gone;
    while (Date.now() - t0 < 4000) {
      const res = await h.poll(sid, { timeout: 3000 });
      if (res.status === 400) {
        gone = res;
        break;
      }
      assert.equal(res.status, 200);
      assert.ok(['2', '1'].includes(res.text), `unexpected payload ${JSON.stringify(res.text)}`);
    }
    assert.ok(gone, 'session still alive 4 s after the handshake without any pong');
    assertEioError(gone, ERRORS.UNKNOWN_SID);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 300 + 200 - 20, `session closed too early (${elapsed} ms)`);
  });

  it('a v4 client sending a ping `2` (wrong heartbeat direction) gets its session closed', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.post(sid, '2');
    // Node answers the POST normally, then closes the session ("invalid heartbeat direction").
    assert.equal(res.status, 200);
    await assertSessionGone(h, sid, 2000);
  });
});

describe('polling heartbeat (pingInterval 300, tolerant pingTimeout)', () => {
  // pingTimeout 2000 instead of the suite's 200 so that a CPU-starved machine
  // cannot miss the pong deadline; the ping cadence is what is tested here.
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: { pingInterval: 300, pingTimeout: 2000 } });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('heartbeat: the server pings about every pingInterval and a POSTed pong keeps the session', T, async () => {
    const t0 = Date.now(); // before the handshake: the server's timers cannot start earlier
    const { sid } = await h.handshake();
    for (let round = 0; round < 3; round++) {
      const res = await h.poll(sid, { timeout: 3000 });
      assert.equal(res.status, 200);
      assert.equal(res.text, '2', `round ${round}: ping packet`);
      const pong = await h.post(sid, '3');
      assert.equal(pong.status, 200);
      assert.equal(pong.text, 'ok');
    }
    // The first ping comes pingInterval after the handshake and the interval is
    // re-armed on each pong: three rounds cannot be faster than ~3 × 300 ms.
    assert.ok(Date.now() - t0 >= 3 * 300 - 20, `3 ping rounds took only ${Date.now() - t0} ms`);
    await assertSessionAlive(h, sid);
  });
});

describe('polling requests rejected before any session (error codes and order of checks)', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: RELAXED });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  // [method, query, expected error]. Order of checks in Node: transport (0) → sid
  // known (1) → [no sid] method is GET (2) → websocket without upgrade (3) →
  // protocol version (5).
  const cases = [
    ['GET', {}, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4 }, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4, transport: 'abc' }, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4, transport: 'POLLING' }, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4, transport: 'webtransport' }, ERRORS.UNKNOWN_TRANSPORT],
    ['POST', { EIO: 4, transport: 'abc' }, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4, transport: 'abc', sid: 'AAAAAAAAAAAAAAAAAAAA' }, ERRORS.UNKNOWN_TRANSPORT],
    ['GET', { EIO: 4, transport: 'polling', sid: 'AAAAAAAAAAAAAAAAAAAA' }, ERRORS.UNKNOWN_SID],
    ['POST', { EIO: 4, transport: 'polling', sid: 'AAAAAAAAAAAAAAAAAAAA' }, ERRORS.UNKNOWN_SID],
    ['GET', { transport: 'polling', sid: 'AAAAAAAAAAAAAAAAAAAA' }, ERRORS.UNKNOWN_SID],
    ['GET', { EIO: 4, transport: 'websocket', sid: 'AAAAAAAAAAAAAAAAAAAA' }, ERRORS.UNKNOWN_SID],
    ['POST', { EIO: 4, transport: 'polling' }, ERRORS.BAD_HANDSHAKE_METHOD],
    ['PUT', { EIO: 4, transport: 'polling' }, ERRORS.BAD_HANDSHAKE_METHOD],
    ['DELETE', { EIO: 4, transport: 'polling' }, ERRORS.BAD_HANDSHAKE_METHOD],
    ['POST', { transport: 'polling' }, ERRORS.BAD_HANDSHAKE_METHOD],
    ['GET', { EIO: 4, transport: 'websocket' }, ERRORS.BAD_REQUEST],
    ['GET', { transport: 'polling' }, ERRORS.UNSUPPORTED_PROTOCOL_VERSION],
    ['GET', { EIO: 'abc', transport: 'polling' }, ERRORS.UNSUPPORTED_PROTOCOL_VERSION],
    ['GET', { EIO: '', transport: 'polling' }, ERRORS.UNSUPPORTED_PROTOCOL_VERSION],
    ['GET', { EIO: 3, transport: 'polling' }, ERRORS.UNSUPPORTED_PROTOCOL_VERSION],
    ['GET', { EIO: 5, transport: 'polling' }, ERRORS.UNSUPPORTED_PROTOCOL_VERSION],
  ];
  for (const [method, query, err] of cases) {
    it(`${method} ?${new URLSearchParams(query)} → 400 code ${err[0]}`, T, async () => {
      const body = method === 'GET' ? undefined : '4x';
      const res = await h.request(method, query, { body });
      assertEioError(res, err);
    });
  }

  it('a request under the Engine.IO path with extra path segments is still handled by Engine.IO', T, async () => {
    // Node matches every URL that *starts with* the path.
    const res = await fetch(`${server.url}${server.path}extra/segment?EIO=4&transport=abc`);
    assert.equal(res.status, 400);
    assert.equal(await res.text(), JSON.stringify({ code: 0, message: 'Transport unknown' }));
  });
});

describe('polling session', () => {
  let server;
  let h;
  before(async () => {
    server = await startServer({ mode: 'engineio', options: RELAXED });
    h = new EioHttp(server);
  });
  after(() => server?.stop());

  it('handshake advertises the configured numbers', T, async () => {
    const { open } = await h.handshake();
    assert.equal(open.pingInterval, 10_000);
    assert.equal(open.pingTimeout, 5_000);
    assert.equal(open.maxPayload, 1_000_000);
  });

  it('POST 4hello → 200 `ok` (text/html, Content-Length 2), then GET returns 4hello', T, async () => {
    const { sid } = await h.handshake();
    const post = await h.post(sid, '4hello');
    assert.equal(post.status, 200);
    assert.equal(post.text, 'ok');
    assert.equal(post.headers.get('content-type'), 'text/html');
    assert.equal(post.headers.get('content-length'), '2');
    assert.equal(post.headers.get('cache-control'), 'no-store');
    const get = await h.poll(sid);
    assert.equal(get.status, 200);
    assert.equal(get.text, '4hello');
    assert.equal(get.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(get.headers.get('cache-control'), 'no-store');
  });

  it('a batch of text packets is echoed in one GET, in order, joined by \\x1e', T, async () => {
    const { sid } = await h.handshake();
    const payload = ['4test1', '4test2', '4test3'].join(SEP);
    assert.equal((await h.post(sid, payload)).status, 200);
    const get = await h.poll(sid);
    assert.equal(get.status, 200);
    assert.equal(get.text, payload);
  });

  it('text + binary (b<base64>) packets are echoed verbatim', T, async () => {
    const { sid } = await h.handshake();
    const payload = `4hello${SEP}bAQIDBA==`;
    assert.equal((await h.post(sid, payload)).status, 200);
    const get = await h.poll(sid);
    assert.equal(get.text, payload);
  });

  it('binary packets with every byte value survive the base64 round trip', T, async () => {
    const { sid } = await h.handshake();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const payload = `b${bytes.toString('base64')}${SEP}b${SEP}4`; // also an empty binary and an empty text message
    assert.equal((await h.post(sid, payload)).status, 200);
    const get = await h.poll(sid);
    assert.equal(get.text, payload);
  });

  it('UTF-8 text is echoed unchanged (multi-byte characters, surrogate pairs)', T, async () => {
    const { sid } = await h.handshake();
    const payload = '4héllo wörld ✓ 日本語 😀';
    assert.equal((await h.post(sid, payload)).status, 200);
    const get = await h.poll(sid);
    assert.equal(get.body.toString('utf8'), payload);
    assert.deepEqual(get.body, Buffer.from(payload, 'utf8'));
  });

  it('messages POSTed in several requests are all delivered in one GET, in order', T, async () => {
    const { sid } = await h.handshake();
    for (let i = 0; i < 5; i++) assert.equal((await h.post(sid, `4m${i}`)).status, 200);
    const get = await h.poll(sid);
    assert.equal(get.text, ['4m0', '4m1', '4m2', '4m3', '4m4'].join(SEP));
  });

  it('GET …transport=websocket&sid=<polling sid> as plain HTTP → 400 code 3, session kept', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.request('GET', { EIO: 4, transport: 'websocket', sid });
    assertEioError(res, ERRORS.BAD_REQUEST);
    await assertSessionAlive(h, sid);
  });

  it('EIO=3 with a v4 session id → 400 code 3 (protocol mismatch), session kept', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.request('GET', { EIO: 3, transport: 'polling', sid });
    assertEioError(res, ERRORS.BAD_REQUEST);
    await assertSessionAlive(h, sid);
  });

  it('other methods with a valid sid (PUT, DELETE) → 500 with an empty body, session kept', T, async () => {
    // Node: Polling.onRequest answers anything but GET/POST with writeHead(500).
    const { sid } = await h.handshake();
    for (const method of ['PUT', 'DELETE']) {
      const res = await h.request(method, { EIO: 4, transport: 'polling', sid }, { body: '4x' });
      assert.equal(res.status, 500, method);
      assert.equal(res.text, '', method);
    }
    await assertSessionAlive(h, sid);
  });

  it('an invalid packet (`abc`) closes the session', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.post(sid, 'abc');
    // Node still answers this POST 200 `ok`, and closes the session ("parse error").
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    await assertSessionGone(h, sid, 2000);
  });

  it('POST with Content-Type application/octet-stream → 400 (empty body) and the session is closed', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.post(sid, '4hello', { headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 400);
    assert.equal(res.text, '');
    await assertSessionGone(h, sid, 2000);
  });

  it('a POST body larger than maxPayload → 413, and the session is NOT closed', T, async () => {
    const { sid } = await h.handshake();
    const res = await h.post(sid, `4${'x'.repeat(1_000_000)}`); // 1 000 001 bytes
    assert.equal(res.status, 413);
    assert.equal(res.text, '');
    await assertSessionAlive(h, sid, 'after-413');
  });

  it('a POST body of exactly maxPayload bytes is accepted and echoed', T, async () => {
    const { sid } = await h.handshake();
    const msg = `4${'y'.repeat(999_999)}`; // 1 000 000 bytes
    const res = await h.post(sid, msg);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    const get = await h.poll(sid, { headers: { 'Accept-Encoding': 'identity' } });
    assert.equal(get.status, 200);
    assert.equal(get.text.length, msg.length);
    assert.equal(get.text, msg);
  });

  it('two concurrent GETs: one is answered 200 `1` (close), the other 400; the session is closed', T, async () => {
    const { sid } = await h.handshake();
    const first = h.startPoll(sid);
    await first.flushed;
    const second = h.startPoll(sid);
    const results = await Promise.all([first.response, second.response]);
    // Whichever the server saw first is the pending poll, answered with the close
    // packet; the overlapping one gets 400 with an empty body (engine.io 6.6;
    // older versions answered 500). Sorted by status, so arrival order does not matter.
    results.sort((a, b) => a.status - b.status);
    assert.equal(results[0].status, 200);
    assert.equal(results[0].text, '1');
    assert.equal(results[1].status, 400);
    assert.equal(results[1].text, '');
    const later = await h.poll(sid);
    assertEioError(later, ERRORS.UNKNOWN_SID);
  });

  it('client close: POST `1` while a GET is pending → the pending GET returns `6`, next GET → 400', T, async (t) => {
    const { sid, pendingRes, headStartMs } = await withPendingPoll(h, async (sid) => {
      const post = await h.postFresh(sid, '1');
      assert.equal(post.status, 200);
      assert.equal(post.text, 'ok');
    }, (res) => res.status === 200);
    assert.equal(pendingRes.status, 200);
    if (headStartMs) t.diagnostic(`the GET needed a ${headStartMs} ms head start`);
    assert.equal(pendingRes.text, '6');
    const later = await h.poll(sid);
    assertEioError(later, ERRORS.UNKNOWN_SID);
  });

  it('client close without a pending GET: next GET → 400 Session ID unknown', T, async () => {
    const { sid } = await h.handshake();
    const post = await h.post(sid, '1');
    assert.equal(post.status, 200);
    await assertSessionGone(h, sid, 2000);
  });

  it('server-initiated close: "close-me" → the next GET carries noop + close (`6\x1e1`), then 400', T, async () => {
    const { sid } = await h.handshake();
    assert.equal((await h.post(sid, '4close-me')).status, 200);
    // Node queues the close until the client polls (up to 30 s) and then answers
    // the GET with a noop followed by the close packet (wire-formats.md only says `1`).
    const get = await h.poll(sid);
    assert.equal(get.status, 200);
    assert.equal(get.text, `6${SEP}1`);
    await assertSessionGone(h, sid, 2000);
  });

  it('server-initiated close with a GET pending: the pending GET returns `1`', T, async (t) => {
    const { sid, pendingRes, headStartMs } = await withPendingPoll(h, async (sid) => {
      assert.equal((await h.postFresh(sid, '4close-me')).status, 200);
    }, (res) => res.text !== `6${SEP}1`); // `6\x1e1` = the GET arrived after the close
    assert.equal(pendingRes.status, 200);
    if (headStartMs) t.diagnostic(`the GET needed a ${headStartMs} ms head start`);
    assert.equal(pendingRes.text, '1');
    await assertSessionGone(h, sid, 2000);
  });
});
