// Opens N idle Engine.IO (or Socket.IO) WebSocket connections and keeps them alive (answering
// pings) until killed; prints "ready N" once all are open. Spreads connections over several
// 127.0.0.x source addresses so more than ~28k ports are available.
//
//   node tests/stress/idle_connections.mjs --url ws://127.0.0.1:3000/engine.io/ --count 10000
//        [--socketio] [--auth '{"token":"x"}'] [--authenticate] [--concurrency 500]
import { createRequire } from 'node:module';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
  }, []),
);
const url = args.url ?? 'ws://127.0.0.1:3000/engine.io/';
const count = Number(args.count ?? 1000);
const concurrency = Number(args.concurrency ?? 500);
const socketio = Boolean(args.socketio);
const auth = args.auth ?? '';
const authenticate = Boolean(args.authenticate);

let open = 0;
let failed = 0;
let authenticated = 0;
const sockets = [];

function connectOne(i) {
  return new Promise((resolve) => {
    const localAddress = `127.0.0.${1 + (i % 8)}`;
    const ws = new WebSocket(`${url}?EIO=4&transport=websocket`, { localAddress, perMessageDeflate: false });
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      ok ? open++ : failed++;
      resolve();
    };
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') return ws.send('3');
      if (text.startsWith('0')) {
        if (!socketio) return finish(true);
        return ws.send(`40${auth}`);
      }
      if (text.startsWith('40')) {
        if (!authenticate) return finish(true);
        return ws.send('42["authenticate"]');
      }
      if (text.startsWith('42["authenticated"')) {
        authenticated++;
        return finish(true);
      }
    });
    ws.on('error', () => finish(false));
    ws.on('close', () => finish(false));
    sockets.push(ws);
  });
}

let next = 0;
async function worker() {
  while (next < count) await connectOne(next++);
}
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
console.log(`ready ${open} failed ${failed}${authenticate ? ` authenticated ${authenticated}` : ''}`);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
