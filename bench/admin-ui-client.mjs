// One Admin UI attached to a server for bench/compare --admin: a socket.io-client on the admin
// namespace (WebSocket, no login: the bench profile's --admin-ui has none) that takes every event
// the UI would get and counts them. Prints "attached" once the server sent its config, and the
// count when SIGTERM stops it.
//   node bench/admin-ui-client.mjs http://127.0.0.1:PORT
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/node/package.json', import.meta.url));
const { io } = require('socket.io-client');

const url = process.argv[2];
let events = 0;
const socket = io(`${url}/admin`, { transports: ['websocket'], reconnection: false });
socket.onAny((event) => {
  events += 1;
  if (event === 'config') console.log('attached');
});
socket.on('disconnect', (reason) => console.log(`disconnected: ${reason} after ${events} events`));
socket.on('connect_error', (e) => {
  console.error(`admin-ui-client: ${e.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  console.log(`events ${events}`);
  socket.close();
  process.exit(0);
});
