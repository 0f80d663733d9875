// The Socket.IO FIXTURE PROTOCOL on the official Node `socket.io` server: the Node reference of
// `ignis-fixture --mode socketio` (the C++ fixture implements the same). server.mjs starts it
// when IGNIS_FIXTURE is not set; tests/interop/redis/cluster.mjs adds it to its Node server.
//
//   Server options: path /socket.io/, pingInterval 300, pingTimeout 200,
//   connectTimeout 1000, maxHttpBufferSize 1e6, cors origin "*", no
//   connection state recovery.
//   Namespaces: "/", "/custom", "/admin" (middleware: auth.token === "good",
//   else error "unauthorized" with data {reason: "bad token"}), and dynamic
//   namespaces matching /^\/dyn-\d+$/. Anything else: "Invalid namespace".
//   On connection: emit("auth", handshake.auth); in dynamic namespaces then
//   emit("dyn-hello", <namespace name>). Events (the ack is the last argument;
//   when the client sent no ack the handler still runs and just skips it):
//     message (...args)               -> emit("message-back", ...args)
//     message-with-ack (...args, ack) -> ack(...args)
//     join (room, ack)                -> socket.join(room); ack("joined")
//     leave (room, ack)               -> socket.leave(room); ack("left")
//     rooms (ack)                     -> ack([...socket.rooms])
//     conn-info (ack)                 -> ack({ id: socket.id, nsp: <namespace name>,
//                                             eioId: <Engine.IO sid>,
//                                             transport: "polling" | "websocket" })
//     emit-to ({rooms?, except?, event, args, volatile?, fromSocket?}, ack)
//         -> (fromSocket ? socket.broadcast : nsp)[.to(rooms)][.except(except)]
//            [.volatile].emit(event, ...args); ack("sent")
//     emit-to-with-ack ({rooms?, timeout, event, args}, ack)
//         -> nsp[.to(rooms)].timeout(timeout).emit(event, ...args,
//              (err, responses) => ack({ err: err ? err.message : null, responses }))
//     server-ack ({event, args, timeout}, ack)
//         -> socket.timeout(timeout).emit(event, ...args,
//              (err, ...res) => ack({ err: err ? err.message : null, res }))
//     fetch-sockets ({rooms?}, ack)
//         -> ack((await nsp[.in(rooms)].fetchSockets()).map(s => ({ id, rooms: [...s.rooms] })))
//     sockets-join ({rooms?, room}, ack)  -> nsp[.in(rooms)].socketsJoin(room); ack("ok")
//     sockets-leave ({rooms?, room}, ack) -> nsp[.in(rooms)].socketsLeave(room); ack("ok")
//     disconnect-sockets ({rooms?, close}, ack) -> ack("ok"); nsp[.in(rooms)].disconnectSockets(close)
//     disconnect-me (close)           -> socket.disconnect(close)
//     close-transport                 -> socket.conn.close() (no DISCONNECT: the client reconnects)
//     server-disconnect-reasons (ack) -> ack(<reasons of the last 50 server-side
//                                        "disconnect" events of this namespace, oldest first>)
//   On "/" only: socket.onAny((event, ...args) => event.startsWith("any:") &&
//                                  socket.emit("any-back", event, ...args))
//   ("nsp" is the socket's own namespace: for a dynamic one the child, e.g. /dyn-42.)

export const SOCKETIO_PATH = '/socket.io/';

export const SIO_SERVER_OPTIONS = Object.freeze({
  path: SOCKETIO_PATH,
  pingInterval: 300,
  pingTimeout: 200,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: Object.freeze({ origin: '*' }),
});

export const DYNAMIC_NAMESPACE_RE = /^\/dyn-\d+$/;
const REASONS_KEPT = 50;

/** Install the fixture protocol (see the header) on a socket.io `Server`. */
export function attachFixtureProtocol(io) {
  const reasons = new Map(); // namespace name -> [reason, ...] (last REASONS_KEPT)
  const recordReason = (name, reason) => {
    let list = reasons.get(name);
    if (!list) reasons.set(name, (list = []));
    list.push(String(reason));
    if (list.length > REASONS_KEPT) list.splice(0, list.length - REASONS_KEPT);
  };

  const onConnection = (socket, { dynamic, root }) => {
    const nsp = socket.nsp;
    socket.on('disconnect', (reason) => recordReason(nsp.name, reason));

    socket.emit('auth', socket.handshake.auth);
    if (dynamic) socket.emit('dyn-hello', nsp.name);

    // Every handler tolerates a missing ack (the last argument is then not a function).
    const on = (event, handler) => {
      socket.on(event, (...args) => {
        const ack = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
        handler(ack, ...args);
      });
    };
    const target = (base, rooms) => (Array.isArray(rooms) ? base.in(rooms) : base);

    socket.on('message', (...args) => {
      if (typeof args[args.length - 1] === 'function') args.pop();
      socket.emit('message-back', ...args);
    });
    on('message-with-ack', (ack, ...args) => ack(...args));
    on('join', (ack, room) => {
      socket.join(room);
      ack('joined');
    });
    on('leave', (ack, room) => {
      socket.leave(room);
      ack('left');
    });
    on('rooms', (ack) => ack([...socket.rooms]));
    on('conn-info', (ack) => ack({
      id: socket.id,
      nsp: nsp.name,
      eioId: socket.conn.id,
      transport: socket.conn.transport.name,
    }));
    on('emit-to', (ack, opts = {}) => {
      let op = opts.fromSocket ? socket.broadcast : nsp;
      if (Array.isArray(opts.rooms)) op = op.to(opts.rooms);
      if (Array.isArray(opts.except)) op = op.except(opts.except);
      if (opts.volatile) op = op.volatile;
      op.emit(opts.event, ...(opts.args ?? []));
      ack('sent');
    });
    on('emit-to-with-ack', (ack, opts = {}) => {
      let op = nsp;
      if (Array.isArray(opts.rooms)) op = op.to(opts.rooms);
      op.timeout(opts.timeout).emit(opts.event, ...(opts.args ?? []), (err, responses) => {
        ack({ err: err ? err.message : null, responses });
      });
    });
    on('server-ack', (ack, opts = {}) => {
      socket.timeout(opts.timeout).emit(opts.event, ...(opts.args ?? []), (err, ...res) => {
        ack({ err: err ? err.message : null, res });
      });
    });
    on('fetch-sockets', async (ack, opts = {}) => {
      const sockets = await target(nsp, opts.rooms).fetchSockets();
      ack(sockets.map((s) => ({ id: s.id, rooms: [...s.rooms] })));
    });
    on('sockets-join', (ack, opts = {}) => {
      target(nsp, opts.rooms).socketsJoin(opts.room);
      ack('ok');
    });
    on('sockets-leave', (ack, opts = {}) => {
      target(nsp, opts.rooms).socketsLeave(opts.room);
      ack('ok');
    });
    on('disconnect-sockets', (ack, opts = {}) => {
      ack('ok');
      target(nsp, opts.rooms).disconnectSockets(Boolean(opts.close));
    });
    socket.on('close-transport', () => socket.conn.close());
    socket.on('disconnect-me', (close) => {
      socket.disconnect(close === true);
    });
    on('server-disconnect-reasons', (ack) => ack([...(reasons.get(nsp.name) ?? [])]));

    if (root) {
      socket.onAny((event, ...args) => {
        if (typeof event === 'string' && event.startsWith('any:')) {
          if (typeof args[args.length - 1] === 'function') args.pop();
          socket.emit('any-back', event, ...args);
        }
      });
    }
  };

  io.of('/').on('connection', (socket) => onConnection(socket, { dynamic: false, root: true }));
  io.of('/custom').on('connection', (socket) => onConnection(socket, { dynamic: false, root: false }));
  const admin = io.of('/admin');
  admin.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === 'good') return next();
    const err = new Error('unauthorized');
    err.data = { reason: 'bad token' };
    return next(err);
  });
  admin.on('connection', (socket) => onConnection(socket, { dynamic: false, root: false }));
  io.of(DYNAMIC_NAMESPACE_RE).on('connection', (socket) => onConnection(socket, { dynamic: true, root: false }));
}
