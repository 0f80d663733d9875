#!/usr/bin/env node
// The Node reference server (socket.io 4.8 from tests/node) for the C++ client's tests.
//
//   node node_server.mjs [--port N] [--mode sio|silent] [--ping-interval MS] [--ping-timeout MS]
//                        [--transports polling,websocket] [--tls-key FILE --tls-cert FILE] [--csr]
//
// Prints "PORT <n>" once listening on 127.0.0.1. Mode "silent" accepts TCP connections and never
// answers (a hung server). --csr turns on connection state recovery. SIGTERM/SIGINT stop it.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const { Server } = require('socket.io');

const opts = { port: 0, mode: 'sio', pingInterval: 25000, pingTimeout: 20000, transports: null };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const v = () => args[++i];
  switch (args[i]) {
    case '--port': opts.port = Number(v()); break;
    case '--mode': opts.mode = v(); break;
    case '--ping-interval': opts.pingInterval = Number(v()); break;
    case '--ping-timeout': opts.pingTimeout = Number(v()); break;
    case '--transports': opts.transports = v().split(','); break;
    case '--csr': opts.csr = true; break;
    case '--tls-key': opts.tlsKey = v(); break;
    case '--tls-cert': opts.tlsCert = v(); break;
    default: throw new Error(`unknown flag ${args[i]}`);
  }
}

const announce = (server) => {
  process.stdout.write(`PORT ${server.address().port}\n`);
};

if (opts.mode === 'silent') {
  const held = [];
  const server = net.createServer((sock) => {
    held.push(sock);  // never read, never answered
    sock.on('error', () => {});
  });
  server.listen(opts.port, '127.0.0.1', () => announce(server));
  const stop = () => {
    held.forEach((s) => s.destroy());
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const httpServer = opts.tlsKey
    ? https.createServer({ key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) })
    : http.createServer();
  const ioOpts = { pingInterval: opts.pingInterval, pingTimeout: opts.pingTimeout };
  if (opts.transports) ioOpts.transports = opts.transports;
  if (opts.csr) ioOpts.connectionStateRecovery = { maxDisconnectionDuration: 60000 };
  const io = new Server(httpServer, ioOpts);
  const records = [];
  const disconnects = [];  // {nsp, id, reason} as the server saw them

  const common = (socket) => {
    socket.on('echo', (...a) => {
      const cb = typeof a[a.length - 1] === 'function' ? a.pop() : null;
      socket.emit('echo', ...a);
      if (cb) cb(...a);
    });
    socket.on('ack', (...a) => {
      const cb = a.pop();
      if (typeof cb === 'function') cb(...a);
    });
    socket.on('no-ack', () => {});
    socket.on('info', (cb) => cb({
      id: socket.id,
      nsp: socket.nsp.name,
      engineId: socket.conn.id,
      transport: socket.conn.transport.name,
      headers: socket.handshake.headers,
      query: socket.handshake.query,
      auth: socket.handshake.auth,
    }));
    // The server asks the client for an acknowledgement and reports what it got.
    socket.on('server-ack', async ({ event, args: eargs, timeout }, cb) => {
      try {
        const answer = await socket.timeout(timeout ?? 2000).emitWithAck(event, ...(eargs ?? []));
        cb({ answer });
      } catch (e) {
        cb({ error: e.message });
      }
    });
    socket.on('make-binary', (cb) => {
      const data = { a: [1, { b: Buffer.from([1, 2, 3]) }], c: Buffer.from('hello'), d: 'text' };
      socket.emit('binary', data, Buffer.alloc(0));
      if (cb) cb(Buffer.from([9, 8, 7]), { deep: [[Buffer.from([0xff])]] });
    });
    socket.on('big', (size, cb) => {
      socket.emit('big', 'x'.repeat(size));
      if (cb) cb();
    });
    socket.on('burst', ({ count, event }) => {
      for (let i = 0; i < count; i++) socket.emit(event ?? 'burst', i);
    });
    socket.on('record', (...a) => {
      if (typeof a[a.length - 1] === 'function') a.pop()('recorded');
      records.push(a);
    });
    socket.on('get-records', (cb) => cb(records));
    socket.on('reset-records', (cb) => {
      records.length = 0;
      cb();
    });
    socket.on('disconnect', (reason) => disconnects.push({ nsp: socket.nsp.name, id: socket.id, reason }));
    socket.on('get-disconnects', (cb) => cb(disconnects));
    socket.on('engine-count', (cb) => cb(io.engine.clientsCount));
    socket.on('disconnect-me', () => socket.disconnect());
    socket.on('close-me', () => socket.conn.close());
    socket.on('to-room', ({ room, event, data }) => io.to(room).emit(event, data));
  };

  io.on('connection', (socket) => {
    common(socket);
    // The Ignis server helper's authentication flow (ignis-behaviour.md), in miniature.
    let state = 'unauthorized';
    socket.on('authenticate', () => {
      if (state !== 'unauthorized') return;
      state = 'authenticating';
      const time = () => new Date().toISOString();
      if (socket.handshake.auth?.token === 'good-token') {
        state = 'authenticated';
        socket.emit('ping', { time: time() });
        socket.join(['io-default', 'io-notification']);
        socket.emit('authenticated', { id: socket.id, time: time() });
      } else {
        socket.emit('unauthenticated', {
          message: 'Invalid token to authenticate! Please login again!', time: time(),
        });
        socket.disconnect();
      }
    });
    socket.on('join', (payload, cb) => {
      if (state !== 'authenticated' || !Array.isArray(payload?.rooms)) return;
      socket.join(payload.rooms);
      if (typeof cb === 'function') cb({ rooms: payload.rooms });
    });
    socket.on('leave', (payload, cb) => {
      if (state !== 'authenticated' || !Array.isArray(payload?.rooms)) return;
      const left = payload.rooms.filter((r) => socket.rooms.has(r));
      left.forEach((r) => socket.leave(r));
      if (typeof cb === 'function') cb({ rooms: left });
    });
  });

  io.of('/admin').on('connection', common);

  const guarded = io.of('/guarded');
  guarded.use((socket, next) => {
    if (socket.handshake.auth?.token === 'secret') return next();
    const err = new Error('not authorized');
    err.data = { code: 42, reason: 'bad token' };
    next(err);
  });
  guarded.on('connection', common);

  httpServer.listen(opts.port, '127.0.0.1', () => announce(httpServer));
  const stop = () => {
    io.close();
    httpServer.closeAllConnections?.();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
