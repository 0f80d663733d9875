// The program's configuration: a TOML file (--config / IGNIS_CONFIG) with the flags' keys,
// precedence flags > IGNIS_* > file > defaults, --print-config with secrets masked, and refusal
// at start of unknown keys and bad values, naming the key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnProgram } from '../lib/server.mjs';
import { authedClient, closeAllClients, connectClient, disconnected, next, MSG_INVALID } from '../lib/ignis-client.mjs';
import { parsePrinted, runProgram, tempFile } from '../lib/program-run.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

const tempConfig = (t, content) => tempFile(t, 'ignis.toml', content);

describe('configuration file and precedence', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('defaults apply when nothing is given', async () => {
    const r = await runProgram(['--print-config']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = parsePrinted(r.stdout);
    assert.equal(cfg.port, '3000');
    assert.equal(cfg.host, '"127.0.0.1"');
    assert.equal(cfg['authenticate-timeout'], '10000');
    assert.equal(cfg['log-format'], '"text"');
  });

  it('file < IGNIS_* < flag, key by key', async (t) => {
    const file = tempConfig(t, [
      'port = 4101',
      'ping-interval = 1111',
      'authenticate-timeout = 2222',
      'default-rooms = ["alpha", "beta"]',
      'auth = "tokens"',
      'tokens = "file-token"',
    ].join('\n'));
    const r = await runProgram(['--config', file, '--print-config', '--ping-interval', '3333'], {
      IGNIS_PORT: '4102',
      IGNIS_PING_INTERVAL: '4444',
    });
    assert.equal(r.code, 0, r.stderr);
    const cfg = parsePrinted(r.stdout);
    assert.equal(cfg['ping-interval'], '3333', 'flag beats environment and file');
    assert.equal(cfg.port, '4102', 'environment beats file');
    assert.equal(cfg['authenticate-timeout'], '2222', 'file beats default');
    assert.equal(cfg['default-rooms'], '"alpha,beta"', 'a TOML array is a list');
    assert.equal(cfg.auth, '"tokens"');
  });

  it('IGNIS_CONFIG names the file too', async (t) => {
    const file = tempConfig(t, 'threads = 3\n');
    const r = await runProgram(['--print-config'], { IGNIS_CONFIG: file });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parsePrinted(r.stdout).threads, '3');
  });

  it('--print-config masks secrets, whatever their source', async (t) => {
    const file = tempConfig(t, 'jwt-secret = "file-secret-value"\napi-key = "file-api-key"\n');
    const r = await runProgram(['--config', file, '--print-config', '--tokens', 'flag-token-value',
      '--auth-url', 'http://user:pw-value@127.0.0.1:9/auth']);
    assert.equal(r.code, 0, r.stderr);
    for (const secret of ['file-secret-value', 'file-api-key', 'flag-token-value', 'pw-value']) {
      assert.ok(!r.stdout.includes(secret), `${secret} printed:\n${r.stdout}`);
    }
    const cfg = parsePrinted(r.stdout);
    assert.equal(cfg['jwt-secret'], '"***"');
    assert.equal(cfg.tokens, '"***"');
    assert.equal(cfg['auth-url'], '"http://user:***@127.0.0.1:9/auth"');
  });

  it('an unknown key is refused at start, naming the key', async (t) => {
    const file = tempConfig(t, 'auth = "none"\nprot = 3000\n');
    const r = await runProgram(['--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown key 'prot'/);
  });

  it('a bad value is refused at start, naming the key', async (t) => {
    for (const [content, key] of [
      ['auth = "none"\nport = "not-a-port"\n', 'port'],
      ['auth = "none"\nport = 70000\n', 'port'],
      ['auth = "magic"\n', 'auth'],
      ['auth = "none"\nlog-format = "xml"\n', 'log-format'],
      ['auth = "none"\nhost = { a = 1 }\n', 'host'],
    ]) {
      const file = tempConfig(t, content);
      const r = await runProgram(['--config', file]);
      assert.equal(r.code, 2, `${content}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`key '${key}'`), content);
    }
  });

  it('Redis seeds are refused at start when they cannot be used, saying why', async () => {
    for (const [args, message] of [
      [['--redis', 'redis://a:7000,http://b:7000'], /redis:\/\/ or rediss:\/\/ URLs/],
      [['--redis', 'redis://a:7000', '--redis', 'rediss://b:7000'], /all of one scheme/],
      [['--redis', 'redis://a:7000,redis://b:7000', '--redis-cluster', 'no'], /--redis-cluster no takes one --redis URL, not 2/],
      [['--redis', 'redis://a:7000', '--redis-cluster', 'maybe'], /--redis-cluster/],
    ]) {
      const r = await runProgram(['--auth', 'none', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('a TOML syntax error is refused with its line', async (t) => {
    const file = tempConfig(t, 'auth = "none"\nport = = 3\n');
    const r = await runProgram(['--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /line 2/);
  });

  it('a missing file is refused', async () => {
    const r = await runProgram(['--config', '/nonexistent/ignis.toml', '--auth', 'none']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\/nonexistent\/ignis\.toml/);
  });

  it('the file configures a running server (auth, tokens, rooms)', async (t) => {
    const file = tempConfig(t, [
      'auth = "tokens"',
      'tokens = ["from-file"]',
      'rooms-allow = ["chat-*"]',
      'authenticate-timeout = 5000',
    ].join('\n'));
    const server = await spawnProgram(['--config', file]);
    t.after(async () => {
      closeAllClients();
      await server.stop();
    });
    const good = await authedClient(server, { token: 'from-file' });
    const [answer] = await new Promise((resolve) => good.emit('join', { rooms: ['chat-1', 'other'] }, (...a) => resolve(a)));
    assert.deepEqual(answer, { rooms: ['chat-1'], refused: ['other'] });
    const bad = await connectClient(server, { token: 'other' });
    bad.emit('authenticate');
    const [payload] = await next(bad, 'unauthenticated');
    assert.equal(payload.message, MSG_INVALID);
    assert.equal(await disconnected(bad), 'io server disconnect');
  });
});
