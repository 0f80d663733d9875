// Which of a Redis server's client connections belong to one local process, so that a test can
// cut exactly that process's connections (CLIENT KILL ID) and tell whether it reconnected.
//
//   const conns = await redisClientsOf(admin, child.pid, redis.port);
//   // -> [{ id: '12', name: 'ignis-adapter-pub', addr: '127.0.0.1:41234', ... }, ...]
//
// Linux only: the process's sockets are found through /proc/<pid>/fd and /proc/<pid>/net/tcp*,
// whose lines name each socket's inode with its local and remote address. CLIENT LIST's `addr`
// is the client's side of the connection, i.e. the process's local address.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** Inodes of the sockets process `pid` holds open. */
async function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  return inodes;
}

/** Local ports of the TCP connections of `pid` whose remote port is `remotePort`. */
async function localPortsTo(pid, remotePort) {
  const inodes = await socketInodes(pid);
  const ports = new Set();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      const port = (addr) => parseInt(addr.split(':').pop(), 16);
      if (port(f[2]) === remotePort) ports.add(port(f[1]));
    }
  }
  return ports;
}

/** CLIENT LIST as objects (one per connection, every `key=value` field). */
export async function clientList(admin) {
  const text = await admin.sendCommand(['CLIENT', 'LIST']);
  return text.split('\n').filter(Boolean).map((line) => {
    const entry = {};
    for (const field of line.trim().split(' ')) {
      const eq = field.indexOf('=');
      entry[field.slice(0, eq)] = field.slice(eq + 1);
    }
    return entry;
  });
}

/** The Redis client connections (CLIENT LIST entries) of local process `pid`. */
export async function redisClientsOf(admin, pid, redisPort) {
  const ports = await localPortsTo(pid, redisPort);
  return (await clientList(admin)).filter((c) => ports.has(Number(c.addr.split(':').pop())));
}
