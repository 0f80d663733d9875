#!/usr/bin/env node
// A stand-in for the C++ fixture with the same command line, backed by the Node
// reference (official engine.io). It exercises the IGNIS_FIXTURE code path of
// server.mjs (spawn, flags, "listening on" line, SIGTERM) without the C++ build:
//
//   IGNIS_FIXTURE=tests/interop/lib/node-fixture.mjs node --test tests/interop/engineio/
//
//   node-fixture.mjs --mode engineio --port 0 [--ping-interval MS] [--ping-timeout MS]
//     [--max-payload BYTES] [--upgrade-timeout MS] [--transports polling,websocket]
//     [--cors-origin ORIGIN[,ORIGIN...]] [--cors-credentials]
import { DEFAULT_ENGINEIO_OPTIONS, startNodeReference } from './server.mjs';

const opts = { ...DEFAULT_ENGINEIO_OPTIONS };
const args = process.argv.slice(2);
const value = (i) => {
  if (i + 1 >= args.length) throw new Error(`missing value for ${args[i]}`);
  return args[i + 1];
};
for (let i = 0; i < args.length; i++) {
  switch (args[i]) {
    case '--mode':
      if (value(i) !== 'engineio') throw new Error(`unsupported mode ${value(i)}`);
      i++;
      break;
    case '--port':
      if (value(i) !== '0') throw new Error('only --port 0 is supported');
      i++;
      break;
    case '--ping-interval': opts.pingInterval = Number(value(i++)); break;
    case '--ping-timeout': opts.pingTimeout = Number(value(i++)); break;
    case '--max-payload': opts.maxPayload = Number(value(i++)); break;
    case '--upgrade-timeout': opts.upgradeTimeout = Number(value(i++)); break;
    case '--transports': opts.transports = value(i++).split(','); break;
    case '--cors-origin': {
      const list = value(i++).split(',');
      opts.corsOrigin = list.length === 1 && list[0] === '*' ? '*' : list;
      break;
    }
    case '--cors-credentials': opts.corsCredentials = true; break;
    default:
      throw new Error(`unknown flag ${args[i]}`);
  }
}

const server = await startNodeReference(opts);
console.log(`listening on http://127.0.0.1:${server.port}`);
const shutdown = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
