// A private Redis Cluster for a test: six redis-server processes on free loopback ports, made
// three masters and three replicas by `redis-cli --cluster create … --cluster-replicas 1`, with a
// small cluster-node-timeout so that a failover takes seconds. No persistence; each node keeps
// its cluster config (nodes.conf) in its own temporary directory, so that a node, or the whole
// cluster, started again on the same ports comes back as the same cluster.
//
//   const rc = await startRedisCluster();
//   rc.seeds                        -> 'redis://127.0.0.1:p1,redis://127.0.0.1:p2,redis://127.0.0.1:p3'
//   await rc.shards()               -> [{ slots: [[lo, hi], …], master: {id, port, health}, replicas: [...] }]
//   await rc.masterOf(slot)         -> {id, port, health}
//   await rc.kill(port)             // SIGKILL, as abrupt as a crash
//   await rc.startNode(port)        // the same node again (it comes back as a replica once replaced)
//   await rc.stopAll(); await rc.startAll()
//   await rc.reshard(fromId, toId, count)  // redis-cli --cluster reshard
//   await rc.stop()
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort, withTimeout } from './util.mjs';

const run = promisify(execFile);
const REDIS_SERVER = process.env.IGNIS_REDIS_SERVER || 'redis-server';
const REDIS_CLI = process.env.IGNIS_REDIS_CLI || 'redis-cli';


/** One command over a fresh connection (RESP2), parsed; rejects on an error reply. */
export function redisCommand(port, args, { timeout = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (fn, v) => {
      sock.destroy();
      fn(v);
    };
    sock.setTimeout(timeout, () => done(reject, new Error(`no answer from ${port} to ${args.join(' ')}`)));
    sock.on('error', (e) => done(reject, e));
    sock.on('connect', () => {
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseReply(buf, 0);
      if (!parsed) return;
      if (parsed.value instanceof Error) done(reject, parsed.value);
      else done(resolve, parsed.value);
    });
  });
}

// A RESP2 reply at `at`: {value, end}, or null when more bytes are needed.
function parseReply(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at])) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const out = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const e = parseReply(buf, pos);
        if (!e) return null;
        out.push(e.value);
        pos = e.end;
      }
      return { value: out, end: pos };
    }
    default: throw new Error(`not RESP: ${line}`);
  }
}

const asMap = (flat) => {
  const m = {};
  for (let i = 0; i + 1 < flat.length; i += 2) m[flat[i]] = flat[i + 1];
  return m;
};

/** CLUSTER SHARDS of the node on `port`, as [{slots: [[lo, hi]…], master, replicas}]. */
export async function clusterShards(port) {
  const shards = await redisCommand(port, ['CLUSTER', 'SHARDS']);
  return shards.map((s) => {
    const m = asMap(s);
    const slots = [];
    for (let i = 0; i + 1 < m.slots.length; i += 2) slots.push([m.slots[i], m.slots[i + 1]]);
    const nodes = m.nodes.map((n) => {
      const f = asMap(n);
      return { id: f.id, port: f.port, role: f.role, health: f.health };
    });
    return { slots, master: nodes.find((n) => n.role === 'master'), replicas: nodes.filter((n) => n.role === 'replica') };
  });
}

export async function startRedisCluster({ nodeTimeout = 1000, size = 6 } = {}) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'ignis-redis-cluster-'));
  const nodes = [];
  for (let i = 0; i < size; i++) {
    nodes.push({ port: await freePort(), busPort: await freePort(), dir: path.join(base, `n${i}`), child: null, exited: null });
  }
  const launch = async (n) => {
    await run('mkdir', ['-p', n.dir]);
    n.child = spawn(REDIS_SERVER, [
      '--bind', '127.0.0.1', '--port', String(n.port), '--cluster-port', String(n.busPort),
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeout), '--save', '', '--appendonly', 'no',
      '--protected-mode', 'no', '--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1',
      '--dir', n.dir, '--logfile', 'redis.log',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.child.stderr.resume();
    // A node still running when this process exits (a test killed by its timeout) is killed.
    const child = n.child;
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    n.exited = new Promise((resolve) => child.once('exit', (...a) => {
      process.removeListener('exit', killOnExit);
      resolve(...a);
    }));
    await eventually(async () => (await redisCommand(n.port, ['PING'], { timeout: 500 })) === 'PONG',
      { timeout: 10_000, interval: 20, label: `redis-server on ${n.port}` });
  };
  const stopNode = async (n, signal = 'SIGTERM') => {
    if (!n.child || n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.child.kill(signal);
    await withTimeout(n.exited, 10_000, `redis-server ${n.port} exit`);
  };
  const byPort = (port) => {
    const n = nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node on port ${port}`);
    return n;
  };
  const alive = () => nodes.filter((n) => n.child && n.child.exitCode === null && n.child.signalCode === null);

  const rc = {
    nodes,
    ports: nodes.map((n) => n.port),
    /** Seed URLs: the first three nodes (masters after create). */
    seeds: nodes.slice(0, 3).map((n) => `redis://127.0.0.1:${n.port}`).join(','),
    pidOf: (port) => byPort(port).child.pid,
    async shards(port) {
      return clusterShards(port ?? alive()[0].port);
    },
    /** The master serving `slot`, as the node on `port` (any live node by default) sees it. */
    async masterOf(slot, port) {
      for (const s of await rc.shards(port)) {
        if (s.slots.some(([lo, hi]) => lo <= slot && slot <= hi)) return s.master;
      }
      return null;
    },
    /** The masters serving slots, each with its `slots` ([[lo, hi], …]). */
    async masters(port) {
      return (await rc.shards(port)).filter((s) => s.slots.length > 0).map((s) => ({ ...s.master, slots: s.slots }));
    },
    /** Slots given back to a node that had lost them from its own map (see waitHealthy). */
    repairs: [],
    /**
     * Every live node says cluster_state:ok and agrees on one map with three healthy masters.
     * Redis can leave a just-promoted replica without a slot that every other node says it owns
     * (seen after a reshard and a failover on a loaded machine): nobody then tells it otherwise,
     * and the cluster never agrees again. After 5 s such a node is told to take those slots
     * (CLUSTER ADDSLOTSRANGE on it), as an operator would; what was repaired is in `repairs`.
     */
    async waitHealthy({ timeout = 20_000 } = {}) {
      let seen = '';
      const started = Date.now();
      let repaired = false;
      const repairLostSlots = async () => {
        const views = new Map();
        for (const n of alive()) views.set(n.port, (await rc.shards(n.port)).filter((x) => x.slots.length > 0));
        for (const n of alive()) {
          const others = [...views].filter(([port]) => port !== n.port).map(([, v]) => v);
          const claimed = others.map((v) => JSON.stringify(v.find((x) => x.master.port === n.port)?.slots ?? []));
          if (claimed.length === 0 || claimed.some((c) => c !== claimed[0])) continue;
          const own = views.get(n.port);
          const covered = (slot) => own.some((x) => x.slots.some(([lo, hi]) => lo <= slot && slot <= hi));
          for (const [lo, hi] of JSON.parse(claimed[0])) {
            for (let slot = lo; slot <= hi; slot++) {
              if (covered(slot)) continue;
              let end = slot;
              while (end + 1 <= hi && !covered(end + 1)) end++;
              await redisCommand(n.port, ['CLUSTER', 'ADDSLOTSRANGE', String(slot), String(end)]);
              rc.repairs.push({ port: n.port, slots: [slot, end] });
              slot = end;
            }
          }
        }
      };
      try {
        await eventually(async () => {
          if (!repaired && Date.now() - started > 5000) {
            repaired = true;
            await repairLostSlots().catch((e) => rc.repairs.push({ error: String(e) }));
          }
          let first;
          seen = '';
          for (const n of alive()) {
            const info = await redisCommand(n.port, ['CLUSTER', 'INFO']);
            const view = JSON.stringify((await rc.shards(n.port)).filter((s) => s.slots.length > 0)
              .map((s) => [s.slots, s.master.port, s.master.health]).sort());
            seen += ` ${n.port}: ${info.split('\r\n')[0]} ${view};`;
            if (!info.includes('cluster_state:ok')) return false;
            if (first === undefined) first = view;
            else if (view !== first) return false;
          }
          return JSON.parse(first).length === size / 2 && JSON.parse(first).every(([, , h]) => h === 'online');
        }, { timeout, interval: 100, label: 'Redis Cluster healthy and agreed' });
      } catch (e) {
        e.message += ` (last seen:${seen})`;
        throw e;
      }
    },
    async kill(port) {
      await stopNode(byPort(port), 'SIGKILL');
    },
    async startNode(port) {
      await launch(byPort(port));
    },
    async stopAll() {
      await Promise.all(nodes.map((n) => stopNode(n)));
    },
    async startAll() {
      await Promise.all(nodes.map((n) => launch(n)));
    },
    /** redis-cli --cluster reshard: moves the `count` lowest slots of `fromId` to `toId`. */
    async reshard(fromId, toId, count) {
      const { stdout } = await run(REDIS_CLI, ['--cluster', 'reshard', `127.0.0.1:${alive()[0].port}`,
        '--cluster-from', fromId, '--cluster-to', toId, '--cluster-slots', String(count), '--cluster-yes'],
      { timeout: 120_000, maxBuffer: 64 << 20 });
      return stdout;
    },
    async stop() {
      await Promise.all(nodes.map((n) => stopNode(n, 'SIGKILL')));
      await rm(base, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(nodes.map(launch));
    await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
    // create assigns the first three nodes as masters; wait until every node knows every other
    // and the replicas are attached.
    await rc.waitHealthy();
    await eventually(async () => {
      for (const n of nodes) {
        const lines = (await redisCommand(n.port, ['CLUSTER', 'NODES'])).trim().split('\n');
        if (lines.length !== size || lines.some((l) => l.includes('handshake') || l.includes('noaddr'))) return false;
      }
      const shards = await rc.shards();
      // A replica that has not finished its first sync ("loading") could not take over yet.
      return shards.every((s) => s.replicas.length === 1 && s.replicas[0].health === 'online');
    }, { timeout: 20_000, interval: 100, label: 'every node met the others, replicas in sync' });
  } catch (e) {
    await rc.stop();
    throw e;
  }
  return rc;
}
