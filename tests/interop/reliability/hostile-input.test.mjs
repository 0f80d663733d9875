// Bad input against the live server (ignis-fixture --mode socketio, 2 shards): the fuzz corpora
// (fuzz/corpus/*) replayed over long-polling and over WebSocket, and hand-made hostile HTTP
// requests and WebSocket frames. A WebSocket client and a polling client connected beforehand
// exchange echoes and broadcasts every 50 ms throughout; at the end they must have received every
// one of them, in order, without a disconnect. Every bad peer must get an error status or be
// closed (with the close code RFC 6455 asks for where one is defined), and the server must
// still stop cleanly (exit code 0 on SIGTERM).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from '../lib/server.mjs';
import { closeAllClients } from '../lib/sio-client.mjs';
import { withTimeout } from '../lib/util.mjs';
import { startWatch } from './lib/watch.mjs';
import { corpus, frame, frameHead, hostileWebSocket, PROTOCOL_CLOSE_CODES, rawHttp } from './lib/hostile.mjs';

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 3000;
const MAX_PAYLOAD = 100_000;
// A raw peer never answers pings, so the server closes every one of them by this time at the latest.
const PEER_END_MS = PING_INTERVAL + PING_TIMEOUT + 5000;
const PATH = '/socket.io/';

const fixture = process.env.IGNIS_FIXTURE;

/** Deterministic pseudo-random bytes. */
function junk(n, seed = 7) {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('hostile input against the live server', { skip: !fixture && 'IGNIS_FIXTURE is not set' }, () => {
  let server;
  let watch;

  before(async () => {
    server = await spawnChild(fixture, ['--mode', 'socketio', '--port', '0', '--threads', '2',
      '--ping-interval', String(PING_INTERVAL), '--ping-timeout', String(PING_TIMEOUT),
      '--max-payload', String(MAX_PAYLOAD)], { kind: 'fixture' });
    watch = await startWatch(server.url);
  });

  after(async () => {
    closeAllClients();
    if (server) await server.stop();
  });

  /** A fresh polling session id. */
  async function pollingSid() {
    const res = await fetch(`${server.url}${PATH}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body[0], '0', body);
    return JSON.parse(body.slice(1)).sid;
  }

  async function post(sid, body) {
    const res = await fetch(`${server.url}${PATH}?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    });
    await res.arrayBuffer();
    return res.status;
  }

  // The Socket.IO corpus format: Engine.IO messages separated by 0x1e, 'b' + bytes for binary.
  function socketioMessages(bytes) {
    const out = [];
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x1e) continue;
      const m = bytes.subarray(start, i);
      start = i + 1;
      out.push(m.length && m[0] === 0x62 ? { binary: true, data: m.subarray(1) } : { binary: false, data: m });
    }
    return out;
  }

  it('replays the Engine.IO payload corpus as POST bodies: 200 or 400, never a crash', async () => {
    for (const [name, bytes] of corpus('engineio_payload')) {
      const status = await post(await pollingSid(), bytes);
      assert.ok(status === 200 || status === 400, `${name}: status ${status}`);
    }
    await watch.caughtUp();
  });

  it('replays the Socket.IO packet corpus as POST bodies: 200 or 400, never a crash', async () => {
    for (const [name, bytes] of corpus('socketio_packet')) {
      const body = socketioMessages(bytes)
        .map((m) => (m.binary ? `b${m.data.toString('base64')}` : `4${m.data.toString('latin1')}`))
        .join('\x1e');
      const status = await post(await pollingSid(), Buffer.from(body, 'latin1'));
      assert.ok(status === 200 || status === 400, `${name}: status ${status}`);
    }
    await watch.caughtUp();
  });

  it('replays the three corpora over WebSocket: every peer is closed, with a protocol close code if any', async () => {
    const peers = [];
    for (const [name, bytes] of corpus('websocket_frame')) {
      // The fuzzer's first byte picks a role and a split point; the rest are the frames.
      peers.push([`websocket_frame/${name}`, await hostileWebSocket(server, bytes.subarray(1))]);
    }
    for (const [name, bytes] of corpus('engineio_payload')) {
      const frames = bytes.toString('latin1').split('\x1e').map((m) => frame(0x1, Buffer.from(m, 'latin1')));
      peers.push([`engineio_payload/${name}`, await hostileWebSocket(server, frames)]);
    }
    for (const [name, bytes] of corpus('socketio_packet')) {
      const frames = socketioMessages(bytes)
        .map((m) => (m.binary ? frame(0x2, m.data) : frame(0x1, Buffer.concat([Buffer.from('4'), m.data]))));
      peers.push([`socketio_packet/${name}`, await hostileWebSocket(server, frames)]);
    }
    for (const [name, peer] of peers) {
      const { closeCode } = await withTimeout(peer.ended, PEER_END_MS, `${name} to be closed`);
      assert.ok(closeCode === null || PROTOCOL_CLOSE_CODES.has(closeCode), `${name}: close code ${closeCode}`);
    }
    await watch.caughtUp();
  });

  it('hostile HTTP requests get an error status or a closed connection', async () => {
    const sid = await pollingSid();
    const q = `${PATH}?EIO=4&transport=polling&sid=${sid}`;
    const host = `Host: 127.0.0.1:${server.port}\r\n`;
    const bigBody = Buffer.alloc(MAX_PAYLOAD + 1, 0x61);
    const chunkedOver = [];
    for (let sent = 0; sent <= MAX_PAYLOAD; sent += 8192) chunkedOver.push(`2000\r\n${'a'.repeat(8192)}\r\n`);
    const cases = [
      ['not HTTP at all', 'HELLO WORLD\r\n\r\n'],
      ['4 KiB of binary junk', junk(4096)],
      ['a request line without a version', `GET ${PATH}?EIO=4&transport=polling\r\n\r\n`],
      ['a header line over 16 KiB', `GET ${PATH}?EIO=4&transport=polling HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      ['3000 small headers', `GET ${PATH}?EIO=4&transport=polling HTTP/1.1\r\n${host}${'X-h: v\r\n'.repeat(3000)}\r\n`],
      ['a header without a colon', `GET ${PATH}?EIO=4&transport=polling HTTP/1.1\r\n${host}NoColonHere\r\n\r\n`],
      ['a NUL byte in the target', `GET ${PATH}?EIO=4&transport=pol\0ling HTTP/1.1\r\n${host}\r\n`],
      ['an unknown HTTP version', `GET ${PATH}?EIO=4&transport=polling HTTP/7.3\r\n${host}\r\n`],
      ['Content-Length over the payload limit', [`POST ${q} HTTP/1.1\r\n${host}Content-Length: ${bigBody.length}\r\n\r\n`, bigBody]],
      ['a huge Content-Length', `POST ${q} HTTP/1.1\r\n${host}Content-Length: 99999999999999999999\r\n\r\n`],
      ['a negative Content-Length', `POST ${q} HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\nabc`],
      ['two different Content-Lengths', `POST ${q} HTTP/1.1\r\n${host}Content-Length: 3\r\nContent-Length: 4\r\n\r\n4abc`],
      ['Content-Length and chunked together', `POST ${q} HTTP/1.1\r\n${host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n4abc\r\n0\r\n\r\n`],
      ['an invalid chunk size', `POST ${q} HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nzz\r\n4abc\r\n0\r\n\r\n`],
      ['a chunk size that overflows', `POST ${q} HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n`],
      ['chunked body over the payload limit', [`POST ${q} HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`, ...chunkedOver, '0\r\n\r\n']],
      ['an unknown transfer coding', `POST ${q} HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\nabcd`],
      ['a POST to an unknown sid', `POST ${PATH}?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\n${host}Content-Length: 4\r\n\r\n4abc`],
      ['a sid of 10 KiB', `GET ${PATH}?EIO=4&transport=polling&sid=${'x'.repeat(10_000)} HTTP/1.1\r\n${host}\r\n`],
      ['EIO=3', `GET ${PATH}?EIO=3&transport=polling HTTP/1.1\r\n${host}\r\n`],
      ['an unknown transport', `GET ${PATH}?EIO=4&transport=carrier-pigeon HTTP/1.1\r\n${host}\r\n`],
      ['an invalid percent-encoding', `GET ${PATH}?EIO=4&transport=%ZZpolling HTTP/1.1\r\n${host}\r\n`],
      ['an unknown method', `BREW ${PATH}?EIO=4&transport=polling HTTP/1.1\r\n${host}\r\n`],
      ['an upgrade with Sec-WebSocket-Version 8', `GET ${PATH}?EIO=4&transport=websocket HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`],
      ['an upgrade without a key', `GET ${PATH}?EIO=4&transport=websocket HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`],
      ['an upgrade to another protocol', `GET ${PATH}?EIO=4&transport=websocket HTTP/1.1\r\n${host}Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n`],
      ['an upgrade for an unknown sid', `GET ${PATH}?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`],
    ];
    const outcomes = [];
    for (const [label, bytes] of cases) {
      const r = await rawHttp(server.port, bytes);
      outcomes.push(`${label}: ${r.status ?? 'closed'}`);
      assert.ok((r.status !== null && r.status >= 400) || (r.status === null && r.closed),
        `${label}: got ${r.status} ${JSON.stringify(r.head.slice(0, 200))}`);
    }
    assert.equal(outcomes.length, cases.length);

    // Invalid UTF-8 in a polling body: Node reads it with replacement characters, so the POST is
    // taken (200) and the packet it decodes to ("4" + U+FFFD..., not a packet a client may send)
    // ends the session: the next poll finds it closed.
    const victim = await pollingSid();
    const r = await rawHttp(server.port, [`POST ${PATH}?EIO=4&transport=polling&sid=${victim} HTTP/1.1\r\n${host}` +
      'Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 5\r\n\r\n', Buffer.from([0x34, 0xff, 0xfe, 0xc0, 0x80])]);
    assert.ok(r.status === 200 || r.status === 400, `invalid UTF-8 body: ${r.status}`);
    const poll = await fetch(`${server.url}${PATH}?EIO=4&transport=polling&sid=${victim}`);
    const text = await poll.text();
    assert.ok(poll.status === 400 || text.split('\x1e').includes('1'), `poll after invalid UTF-8: ${poll.status} ${text}`);
    await watch.caughtUp();
  });

  it('hostile WebSocket frames are closed with 1002, 1007 or 1009 as RFC 6455 asks', async () => {
    const overMax = Buffer.alloc(MAX_PAYLOAD + 1, 0x61);
    const cases = [
      ['an unmasked frame', frame(0x1, '4x', { mask: false }), 1002],
      ['a reserved data opcode', frame(0x3, 'x'), 1002],
      ['a reserved control opcode', frame(0xb, 'x'), 1002],
      ['RSV1 without an extension', frame(0x1, '4x', { rsv: 4 }), 1002],
      ['RSV3 set', frame(0x2, 'x', { rsv: 1 }), 1002],
      ['a continuation without a start', frame(0x0, 'x'), 1002],
      ['a new text frame inside a fragmented message', [frame(0x1, '4a', { fin: false }), frame(0x1, 'b')], 1002],
      ['a fragmented ping', frame(0x9, 'x', { fin: false }), 1002],
      ['a ping with 126 bytes', frame(0x9, Buffer.alloc(126)), 1002],
      ['a close with a 1-byte payload', frame(0x8, Buffer.from([3])), 1002],
      ['a close with code 999', frame(0x8, Buffer.from([0x03, 0xe7])), 1002],
      ['a close with code 1005 on the wire', frame(0x8, Buffer.from([0x03, 0xed])), 1002],
      ['invalid UTF-8 in a text frame', frame(0x1, Buffer.from([0x34, 0xc3, 0x28])), 1007],
      ['an overlong encoding', frame(0x1, Buffer.from([0x34, 0xc0, 0xaf])), 1007],
      ['a UTF-16 surrogate', frame(0x1, Buffer.from([0x34, 0xed, 0xa0, 0x80])), 1007],
      ['invalid UTF-8 across fragments', [frame(0x1, Buffer.from([0x34, 0xe2, 0x82]), { fin: false }), frame(0x0, Buffer.from([0x28]))], 1007],
      ['invalid UTF-8 in a close reason', frame(0x8, Buffer.from([0x03, 0xe8, 0xff])), 1007],
      ['a frame length of 2^62', frameHead(0x1, 2 ** 62), 1009],
      ['a frame length with the top bit set', Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), 1002],
      ['a message one byte over the limit', frame(0x2, overMax), 1009],
      ['fragments over the limit', [frame(0x2, overMax.subarray(0, 60_000), { fin: false }), frame(0x0, overMax.subarray(60_000))], 1009],
    ];
    const peers = [];
    for (const [label, bytes, code] of cases) peers.push([label, code, await hostileWebSocket(server, bytes)]);
    for (const [label, code, peer] of peers) {
      const { closeCode } = await withTimeout(peer.ended, PEER_END_MS, `${label} to be closed`);
      assert.equal(closeCode, code, label);
    }
    await watch.caughtUp();
  });

  it('protocol-level abuse over WebSocket ends the session, not the server', async () => {
    const cases = [
      ['an open packet from the client', [frame(0x1, '0')]],
      ['an unknown Engine.IO packet type', [frame(0x1, '9hello')]],
      ['an empty text message', [frame(0x1, '')]],
      ['a Socket.IO packet of an unknown type', [frame(0x1, '49')]],
      ['an event before the namespace connect', [frame(0x1, '42["x"]')]],
      ['an attachment count of 10^9', [frame(0x1, '40'), frame(0x1, '451000000000-["x",{"_placeholder":true,"num":0}]')]],
      ['a binary message nobody waits for', [frame(0x1, '40'), frame(0x2, junk(64))]],
      ['JSON nested 100000 deep', [frame(0x1, '40'), frame(0x1, `42["x",${'['.repeat(50_000)}${']'.repeat(50_000)}]`)]],
      ['20000 unsolicited pongs and noops', [Buffer.concat(Array.from({ length: 20_000 }, (_, i) => frame(0x1, i % 2 ? '3' : '6')))]],
      ['an upgrade packet with no probe', [frame(0x1, '5')]],
    ];
    const peers = [];
    for (const [label, bytes] of cases) peers.push([label, await hostileWebSocket(server, bytes)]);
    for (const [label, peer] of peers) {
      const { closeCode } = await withTimeout(peer.ended, PEER_END_MS, `${label} to be closed`);
      assert.ok(closeCode === null || PROTOCOL_CLOSE_CODES.has(closeCode), `${label}: close code ${closeCode}`);
    }
    await watch.caughtUp();
  });

  it('the healthy clients received every echo and broadcast, in order, without a disconnect', async () => {
    const { ticks } = await watch.finish();
    assert.ok(ticks >= 20, `the hostile phase lasted ${ticks} ticks`);
  });
});
