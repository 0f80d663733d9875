// Secrets (docs/operations.md, "Secrets" and "JWT"): --tokens-file, --jwt-secret-file and
// --api-key-file (and their IGNIS_*_FILE variables and config keys); refusal at start of an
// unreadable or doubly given secret, of a bad --jwt-public-key and of a key with a secret;
// --print-config masking every secret and the password of every URL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnProgram } from '../lib/server.mjs';
import { MSG_INVALID, authedClient, closeAllClients, connectClient, disconnected, next } from '../lib/ignis-client.mjs';
import { parsePrinted, runProgram, tempFile } from '../lib/program-run.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

/** A spawned program for test `t`, stopped afterwards. */
async function spawned(t, flags, opts) {
  const server = await spawnProgram(flags, opts);
  t.after(async () => {
    closeAllClients();
    await server.stop();
  });
  return server;
}

describe('secrets', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('--tokens-file, --jwt-secret-file, --api-key-file (flags, IGNIS_*_FILE, config keys)', async (t) => {
    const tokens = tempFile(t, 'tokens', 'alpha\nbeta, gamma\n');
    const apiKey = tempFile(t, 'api-key', 'key-from-file\n');
    const config = tempFile(t, 'ignis.toml', `api-key-file = "${apiKey}"\n`);
    for (const [flags, env] of [
      [['--tokens-file', tokens, '--api-key-file', apiKey], {}],
      [[], { IGNIS_TOKENS_FILE: tokens, IGNIS_API_KEY_FILE: apiKey }],
      [['--config', config, '--tokens-file', tokens], {}],
    ]) {
      const server = await spawned(t, ['--auth', 'tokens', ...flags], { env: { IGNIS_AUTH: 'tokens', ...env } });
      await authedClient(server, { token: 'beta' });
      await authedClient(server, { token: 'gamma' });
      const bad = await connectClient(server, { token: 'key-from-file' });
      bad.emit('authenticate');
      assert.equal((await next(bad, 'unauthenticated'))[0].message, MSG_INVALID);
      assert.equal(await disconnected(bad), 'io server disconnect');
      const api = (key) => fetch(`${server.url}/api/clients`, { headers: key ? { 'X-API-Key': key } : {} });
      assert.equal((await api('key-from-file')).status, 200);
      assert.equal((await api('key-from-filex')).status, 401);
      assert.equal((await api(null)).status, 401);
    }

    const secret = tempFile(t, 'jwt-secret', 'file-secret\r\n');
    const server = await spawned(t, ['--auth', 'jwt', '--jwt-secret-file', secret]);
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const claims = Buffer.from('{"sub":"u"}').toString('base64url');
    const sig = crypto.createHmac('sha256', 'file-secret').update(`${header}.${claims}`).digest('base64url');
    await authedClient(server, { token: `${header}.${claims}.${sig}` });
  });

  it('an unreadable or empty secret file, or a secret given twice, is refused at start, naming it', async (t) => {
    const tokens = tempFile(t, 'tokens', 'alpha\n');
    const empty = tempFile(t, 'empty', '\n');
    for (const [args, message] of [
      [['--auth', 'tokens', '--tokens-file', '/nonexistent/tokens'], /--tokens-file: cannot read \/nonexistent\/tokens/],
      [['--auth', 'jwt', '--jwt-secret-file', '/nonexistent/secret'], /--jwt-secret-file: cannot read \/nonexistent\/secret/],
      [['--auth', 'none', '--api-key-file', '/nonexistent/key'], /--api-key-file: cannot read \/nonexistent\/key/],
      [['--auth', 'none', '--api-key-file', empty], new RegExp(`--api-key-file: ${empty} is empty`)],
      [['--auth', 'tokens', '--tokens', 'a', '--tokens-file', tokens], /give --tokens or --tokens-file, not both/],
      [['--auth', 'jwt', '--jwt-secret', 's', '--jwt-secret-file', tokens], /give --jwt-secret or --jwt-secret-file, not both/],
      [['--auth', 'none', '--api-key', 'k', '--api-key-file', tokens], /give --api-key or --api-key-file, not both/],
    ]) {
      const r = await runProgram(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('--print-config masks the password of every URL (--redis included) and every secret, and shows file names', async (t) => {
    const config = tempFile(t, 'ignis.toml', 'redis = "redis://:toml-pass@127.0.0.1:6379/2"\n');
    const seeds = tempFile(t, 'seeds.toml',
      'redis = ["redis://:toml-pass@10.0.0.1:7000", "redis://:toml-pass@10.0.0.2:7000"]\n');
    const runs = [
      [['--redis', 'redis://user:flag-pass@127.0.0.1:6379/0'], {}, 'redis://user:***@127.0.0.1:6379/0'],
      [['--redis', 'redis://lone-pass@127.0.0.1:6379'], {}, 'redis://***@127.0.0.1:6379'],
      [[], { IGNIS_REDIS: 'rediss://u:env%40pass@127.0.0.1:6380' }, 'rediss://u:***@127.0.0.1:6380'],
      [['--config', config], {}, 'redis://:***@127.0.0.1:6379/2'],
      // Redis Cluster seeds: repeated, comma-separated or a TOML list; each URL masked.
      [['--redis', 'redis://u:seed-pass@10.0.0.1:7000', '--redis', 'redis://:seed-pass@10.0.0.2:7000'], {},
        'redis://u:***@10.0.0.1:7000,redis://:***@10.0.0.2:7000'],
      [[], { IGNIS_REDIS: 'redis://u:seed-pass@10.0.0.1:7000,redis://u:seed-pass@10.0.0.2:7000' }, 'redis://u:***@10.0.0.1:7000,redis://u:***@10.0.0.2:7000'],
      [['--config', seeds], {}, 'redis://:***@10.0.0.1:7000,redis://:***@10.0.0.2:7000'],
    ];
    for (const [args, env, shown] of runs) {
      const r = await runProgram(['--print-config', '--auth', 'none', '--api-key', 'api-secret',
        '--auth-url', 'http://hook:hook-pass@127.0.0.1:9/x', '--tokens-file', '/run/secrets/tokens', ...args], env);
      assert.equal(r.code, 0, r.stderr);
      for (const secret of ['flag-pass', 'lone-pass', 'env%40pass', 'toml-pass', 'seed-pass', 'api-secret', 'hook-pass']) {
        assert.ok(!r.stdout.includes(secret), `${secret} printed:\n${r.stdout}`);
      }
      const cfg = parsePrinted(r.stdout);
      assert.equal(cfg.redis, `"${shown}"`);
      assert.equal(cfg['auth-url'], '"http://hook:***@127.0.0.1:9/x"');
      assert.equal(cfg['api-key'], '"***"');
      assert.equal(cfg['tokens-file'], '"/run/secrets/tokens"', 'a file name is not a secret');
    }
  });
});

describe('JWT keys and rules at start', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  it('a missing, unreadable or wrong --jwt-public-key is refused, naming the file; so is a secret with a key', async (t) => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = tempFile(t, 'public.pem', publicKey.export({ type: 'spki', format: 'pem' }));
    const priv = tempFile(t, 'private.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const text = tempFile(t, 'notes.txt', 'not a key\n');
    const ec = tempFile(t, 'ec.pem', crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    for (const [args, message] of [
      [['--jwt-public-key', '/nonexistent/key.pem'], /--jwt-public-key: cannot read \/nonexistent\/key\.pem/],
      [['--jwt-public-key', text], new RegExp(`--jwt-public-key: ${text} holds no RSA public key`)],
      [['--jwt-public-key', priv], new RegExp(`--jwt-public-key: ${priv} holds no RSA public key`)],
      [['--jwt-public-key', ec], new RegExp(`--jwt-public-key: ${ec} holds no RSA public key`)],
      [['--jwt-public-key', pub, '--jwt-secret', 'shh'], /--jwt-secret and --jwt-public-key exclude each other/],
      [['--jwt-public-key', pub, '--jwt-secret-file', text], /--jwt-secret and --jwt-public-key exclude each other/],
    ]) {
      const r = await runProgram(['--auth', 'jwt', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    // The good key starts.
    await spawned(t, ['--auth', 'jwt', '--jwt-public-key', pub]);
  });
});
