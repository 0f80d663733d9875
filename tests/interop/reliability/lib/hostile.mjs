// Raw peers for hostile-input tests: bytes written straight to a TCP connection (HTTP) or after
// a hand-made WebSocket upgrade, with what the server answered.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawWebSocketUpgrade } from '../../lib/eio.mjs';
import { rawTcp, withTimeout } from '../../lib/util.mjs';

/** Every file of fuzz/corpus/<name> as [file name, Buffer]. */
export function corpus(name) {
  const dir = new URL(`../../../../fuzz/corpus/${name}/`, import.meta.url);
  return readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir.pathname, f))]);
}

/**
 * Writes `bytes` (Buffer, string, or an array of them written one after the other) on a new
 * TCP connection and waits until the server has answered with a complete response head or
 * closed the connection. Returns { status (number or null), closed (bool), head (string) }.
 */
export async function rawHttp(port, bytes, { timeout = 5000 } = {}) {
  const tcp = rawTcp(port);
  await withTimeout(tcp.connected, timeout, 'TCP connect');
  let closed = false;
  tcp.closed.then(() => {
    closed = true;
  });
  for (const piece of Array.isArray(bytes) ? bytes : [bytes]) {
    if (closed) break;
    // A write the server refuses to read (it answered and closed) fails with EPIPE: ignored.
    await Promise.race([tcp.write(piece), tcp.closed]);
  }
  const headEnd = () => tcp.received().indexOf('\r\n\r\n');
  await withTimeout(new Promise((resolve) => {
    const check = () => {
      if (headEnd() >= 0 || closed) {
        tcp.socket.off('data', check);
        resolve();
      }
    };
    tcp.socket.on('data', check);
    tcp.closed.then(check);
    check();
  }), timeout, `an answer to ${JSON.stringify(String(Array.isArray(bytes) ? bytes[0] : bytes).slice(0, 60))}`);
  const text = tcp.received().toString('latin1');
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  tcp.destroy();
  return { status: m ? Number(m[1]) : null, closed, head: text.slice(0, Math.max(headEnd(), 0)) };
}

/** Close codes a server may rightly send to a peer that broke the protocol, or when it goes away. */
export const PROTOCOL_CLOSE_CODES = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011]);

/**
 * The server-to-client frames in `buf` (unmasked, as a server sends them) as { opcode, payload };
 * stops at an incomplete frame.
 */
export function serverFrames(buf) {
  const frames = [];
  let off = 0;
  while (off + 2 <= buf.length) {
    const opcode = buf[off] & 0x0f;
    let len = buf[off + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (off + 4 > buf.length) break;
      len = buf.readUInt16BE(off + 2);
      head = 4;
    } else if (len === 127) {
      if (off + 10 > buf.length) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      head = 10;
    }
    if (off + head + len > buf.length) break;
    frames.push({ opcode, payload: buf.subarray(off + head, off + head + len) });
    off += head + len;
  }
  return frames;
}

/**
 * A raw WebSocket peer on `server` (Engine.IO over WebSocket, no Socket.IO connect) that
 * writes `bytes` after the open frame (Engine.IO under `path`) and never answers pings. `ended` resolves, once the
 * server has closed the connection, with { closeCode (from its close frame, or null) }.
 */
export async function hostileWebSocket(server, bytes, path = '/socket.io/') {
  const up = await rawWebSocketUpgrade({ port: server.port, path }, { EIO: '4', transport: 'websocket' });
  const ended = up.tcp.closed.then(() => {
    const close = serverFrames(up.rest()).find((f) => f.opcode === 0x8);
    return { closeCode: close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : null };
  });
  for (const piece of Array.isArray(bytes) ? bytes : [bytes]) {
    await Promise.race([up.tcp.write(piece), up.tcp.closed]);
  }
  return { ended, destroy: () => up.tcp.destroy() };
}

/** A client-to-server frame header for `len` bytes (lengths above 65535 too), masked or not. */
export function frameHead(opcode, len, { fin = true, mask = true, rsv = 0 } = {}) {
  const first = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const maskBit = mask ? 0x80 : 0;
  let head;
  if (len < 126) head = Buffer.from([first, maskBit | len]);
  else if (len < 65536) head = Buffer.from([first, maskBit | 126, len >> 8, len & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return mask ? Buffer.concat([head, Buffer.from([0, 0, 0, 0])]) : head;  // zero key: payload as is
}

/** A masked client frame (zero key, so the payload bytes are sent as they are). */
export function frame(opcode, payload, opts = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  return Buffer.concat([frameHead(opcode, data.length, opts), data]);
}
