// The program's side of the Admin UI that Node's instrument() does not have: the UI's page served
// under --admin-ui-path (content types, HEAD, no other method, no path outside the UI's files), the
// start-up checks, --hash-password and the hash file, a $2y$ hash, CORS for the hosted UI, the
// development mode's event budget (--admin-events-per-second), and malformed commands that leave
// the UI connected and the server up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_HASH, ADMIN_PASSWORD, ADMIN_USER, TARGETS, USER_TOKEN, adminSocket, loginAdmin, nextMatching } from '../lib/admin.mjs';
import { authenticate, client, connected } from '../lib/ignis-client.mjs';
import { requirePeer } from '../lib/peers.mjs';
import { spawnProgram, usingProgram } from '../lib/server.mjs';
import { closeAllClients } from '../lib/sio-client.mjs';
import { waitFor } from '../lib/util.mjs';

const bcrypt = requirePeer('bcryptjs');
const PROGRAM = process.env.IGNIS_PROGRAM;
const program = TARGETS.find((t) => t.name === 'program');
const ADMIN_FLAGS = ['--auth', 'tokens', '--tokens', USER_TOKEN, '--admin-username', ADMIN_USER];

/** One raw request (the path is sent as given: no normalisation). */
function request(server, method, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: target, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the program to its exit; resolves with {code, stdout, stderr}. */
function runProgram(args, input) {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IGNIS_')));
    const child = spawn(PROGRAM, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    // A program that refuses its flags exits without reading its input: writing to it then fails
    // with EPIPE, which says nothing about the program (its exit code and stderr do).
    child.stdin.on('error', (err) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    if (input === undefined) child.stdin.end();
    else child.stdin.end(input);
  });
}

describe('the program\'s Admin UI', { skip: !usingProgram && 'needs IGNIS_PROGRAM' }, () => {
  it('serves the official UI\'s files under --admin-ui-path, and nothing else', async () => {
    const server = await program.start({ mode: 'prod' });
    try {
      const redirect = await request(server, 'GET', '/admin?x=1');
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, '/admin/');
      const index = await request(server, 'GET', '/admin/');
      assert.equal(index.status, 200);
      assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(index.body, /<title>Socket\.IO Admin UI<\/title>/);
      assert.equal(index.headers['x-frame-options'], 'DENY');
      assert.equal(index.headers['x-content-type-options'], 'nosniff');
      assert.equal(index.headers['cache-control'], 'no-cache');
      // Every script and style sheet the page loads from the program.
      const assets = [...index.body.matchAll(/(?:src|href)="((?:js|css)\/[^"]+)"/g)].map((m) => m[1]);
      assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join(' '));
      for (const asset of new Set(assets)) {
        const got = await request(server, 'GET', `/admin/${asset}`);
        assert.equal(got.status, 200, asset);
        assert.equal(got.headers['content-type'], asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
        assert.match(got.headers['cache-control'], /immutable/);
        const head = await request(server, 'HEAD', `/admin/${asset}`);
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-length'], String(Buffer.byteLength(got.body)));
        assert.equal(head.body, '');
      }
      assert.equal((await request(server, 'GET', '/admin/favicon.png')).headers['content-type'], 'image/png');
      const post = await request(server, 'POST', '/admin/');
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
      for (const outside of ['/admin/../../etc/passwd', '/admin/%2e%2e/%2e%2e/etc/passwd', '/admin/js/../../README.md',
        '/admin//etc/passwd', '/admin/js/app.0d7d7845.js.map', '/admin/nope.html', '/admin/js/']) {
        assert.equal((await request(server, 'GET', outside)).status, 404, outside);
      }
      assert.equal((await request(server, 'GET', '/administrator')).status, 404, 'a longer path is not the UI\'s');
    } finally {
      await server.stop();
    }
  });

  it('serves the page under another --admin-ui-path, and none without --admin-ui', async () => {
    const moved = await program.start({ mode: 'prod', flags: ['--admin-ui-path', '/ops/ui/'] });
    try {
      assert.equal((await request(moved, 'GET', '/ops/ui/')).status, 200);
      assert.equal((await request(moved, 'GET', '/admin/')).status, 404);
    } finally {
      await moved.stop();
    }
    const off = await spawnProgram(['--auth', 'none']);
    try {
      assert.equal((await request(off, 'GET', '/admin/')).status, 404);
    } finally {
      await off.stop();
    }
  });

  it('refuses to start without its files, a bcrypt hash or a username, or on a path already taken', async () => {
    const cases = [
      [['--admin-ui', 'dev', '--admin-password-hash', ADMIN_HASH, '--admin-ui-dir', '/nonexistent/ui'], /--admin-ui-dir: \/nonexistent\/ui is not a directory/],
      [['--admin-ui', 'dev', '--admin-password-hash', 'changeit'], /not a bcrypt hash/],
      [['--admin-ui', 'prod', '--admin-password-hash', ADMIN_HASH, '--admin-ui-path', '/socket.io/admin'], /overlaps \/socket\.io/],
      [['--admin-ui', 'prod', '--admin-password-hash', ADMIN_HASH, '--admin-namespace', '/'], /main namespace/],
      [['--admin-ui', 'prod', '--admin-password-hash', ADMIN_HASH, '--admin-password-hash-file', '/x'], /not both/],
      [['--admin-ui', 'maybe', '--admin-password-hash', ADMIN_HASH], /admin-ui/],
    ];
    for (const [flags, message] of cases) {
      const got = await runProgram([...ADMIN_FLAGS, '--port', '0', ...flags]);
      assert.equal(got.code, 2, `${flags.join(' ')}: ${got.stderr}`);
      assert.match(got.stderr, message);
    }
    const noUser = await runProgram(['--auth', 'none', '--admin-ui', 'dev', '--admin-password-hash', ADMIN_HASH]);
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--admin-ui needs --admin-username/);
  });

  it('--hash-password makes a hash bcryptjs accepts, which logs in from a hash file; a $2y$ hash works too', async () => {
    const made = await runProgram(['--hash-password'], 'my long password\n');
    assert.equal(made.code, 0, made.stderr);
    const hash = made.stdout.trim();
    assert.match(hash, /^\$2b\$12\$[./A-Za-z0-9]{53}$/);
    assert.ok(bcrypt.compareSync('my long password', hash));  // cost 12 in JavaScript: ~2 s
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ignis-admin-'));
    const file = path.join(dir, 'hash');
    writeFileSync(file, `${hash}\n`, { mode: 0o600 });
    const server = await spawnProgram([...ADMIN_FLAGS, '--admin-ui', 'prod', '--admin-password-hash-file', file]);
    try {
      const ui = await loginAdmin(server, { auth: { username: ADMIN_USER, password: 'my long password' } });
      assert.ok(ui.connected);
      const refused = adminSocket(server, { auth: { username: ADMIN_USER, password: ADMIN_PASSWORD } });
      assert.equal((await waitFor(refused, 'connect_error'))[0].message, 'invalid credentials');
    } finally {
      closeAllClients();
      await server.stop();
      rmSync(dir, { recursive: true });
    }
    // PHP's spelling of bcryptjs' hash.
    const y = ADMIN_HASH.replace(/^\$2a\$/, '$2y$');
    const withY = await spawnProgram([...ADMIN_FLAGS, '--admin-ui', 'prod', '--admin-password-hash', y]);
    try {
      assert.ok((await loginAdmin(withY)).connected);
    } finally {
      closeAllClients();
      await withY.stop();
    }
  });

  it('answers the hosted UI\'s cross-origin requests with credentials (--cors-origin https://admin.socket.io)', async () => {
    const server = await program.start({ mode: 'prod', flags: ['--cors-origin', 'https://admin.socket.io'] });
    try {
      const got = await request(server, 'GET', '/socket.io/?EIO=4&transport=polling', { Origin: 'https://admin.socket.io' });
      assert.equal(got.status, 200);
      assert.equal(got.headers['access-control-allow-origin'], 'https://admin.socket.io');
      assert.equal(got.headers['access-control-allow-credentials'], 'true');
    } finally {
      await server.stop();
    }
  });

  it('--admin-events-per-second bounds the event messages of a second; the rest are counted in /metrics', async () => {
    // One event loop: what the UI is told comes in the order it happened.
    const server = await program.start({ mode: 'dev', flags: ['--threads', '1', '--admin-events-per-second', '3', '--broadcast-to-unauthenticated'] });
    try {
      const ui = await loginAdmin(server);
      // Not authenticated (broadcasts reach them all the same): no event has been received or sent
      // yet, so the second starts with the broadcast.
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await connected(client(server, { token: USER_TOKEN })));
      ui.emit('emit', '/', null, 'news', 7);
      for (const u of users) assert.deepEqual(await u.log.next('news'), [7]);
      // A room joined does not count against the budget, and is told after what came before it.
      ui.emit('join', '/', 'marker', users[0].id);
      await nextMatching(ui, 'room_joined', (nsp, room, id) => room === 'marker' && id === users[0].id);
      const sent = ui.log.entries.filter((e) => e.event === 'event_sent' && e.args[2]?.[0] === 'news');
      assert.equal(sent.length, 3, 'the first three deliveries');
      assert.ok(sent.every((e) => users.some((u) => u.id === e.args[1])));
      const metrics = await request(server, 'GET', '/metrics');
      assert.match(metrics.body, /^ignis_admin_events_not_sent_total 2$/m);
    } finally {
      closeAllClients();
      await server.stop();
    }
  });

  it('malformed commands change nothing: the UI stays connected, the users too, a good command still works', async () => {
    const server = await program.start({ mode: 'dev' });
    try {
      const ui = await loginAdmin(server);
      const u = client(server, { token: USER_TOKEN });
      await connected(u);
      await authenticate(u);
      const junk = [
        ['emit'], ['emit', '/', null, 'connect'], ['emit', {}, null, 'x'], ['emit', '/', { a: 1 }, 'x'],
        ['emit', '/', null, 42], ['join', 1, 'r'], ['join', '/', ''], ['join', '/', ['r', 3]], ['join', '/nowhere', 'r'],
        ['leave', '/', null], ['_disconnect', '/', 'true'], ['_disconnect', '/', false, { a: 1 }], ['_disconnect'],
        ['join', '/', 'x'.repeat(2000)],
      ];
      for (const args of junk) ui.emit(...args);
      ui.emit('emit', '/', u.id, 'still-works', 1);
      assert.deepEqual(await u.log.next('still-works'), [1]);
      assert.ok(ui.connected && u.connected);
      const [stats] = await nextMatching(ui, 'server_stats', () => true, { timeout: 2500 });
      assert.ok(!stats.namespaces.some((n) => n.name === '/nowhere'), 'a command never creates a namespace');
      assert.ok(!ui.log.entries.some((e) => e.event === 'room_joined' && e.args[2] === u.id && e.args[1] !== u.id && !e.args[1].startsWith('io-')));
    } finally {
      closeAllClients();
      await server.stop();
    }
  });
});
