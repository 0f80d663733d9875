#!/usr/bin/env node
// A stand-in for the C++ fixture in Socket.IO mode, with the same command line,
// backed by the Node reference of sio-server.mjs (official socket.io + the
// fixture protocol). It exercises the IGNIS_FIXTURE code path of sio-server.mjs
// (spawn, "listening on" line, SIGTERM, restart on the same port) without the
// C++ build:
//
//   IGNIS_FIXTURE=tests/interop/lib/sio-node-fixture.mjs node --test tests/interop/socketio/
//
//   sio-node-fixture.mjs --mode socketio --port PORT [--threads N]
//     [--ping-interval MS] [--ping-timeout MS]
// (--threads is accepted and ignored.)
import { parseExtraArgs, startNodeReference } from './sio-server.mjs';

const args = process.argv.slice(2);
let port = 0;
const extra = [];
const value = (i) => {
  if (i + 1 >= args.length) throw new Error(`missing value for ${args[i]}`);
  return args[i + 1];
};
for (let i = 0; i < args.length; i++) {
  switch (args[i]) {
    case '--mode':
      if (value(i) !== 'socketio') throw new Error(`unsupported mode ${value(i)}`);
      i++;
      break;
    case '--port': port = Number(value(i++)); break;
    case '--threads': value(i++); break;
    case '--ping-interval':
    case '--ping-timeout':
      extra.push(args[i], value(i));
      i++;
      break;
    default:
      throw new Error(`unknown flag ${args[i]}`);
  }
}

const server = await startNodeReference({ port, ...parseExtraArgs(extra) });
console.log(`listening on http://127.0.0.1:${server.port}`);
let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
