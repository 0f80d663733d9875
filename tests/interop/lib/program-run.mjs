// The program run to completion, for tests of its command line: what it prints (--print-config)
// and what it refuses at start.
//
//   const r = await runProgram(['--print-config'], { IGNIS_PORT: '4000' });  // {code, stdout, stderr}
//   parsePrinted(r.stdout).port === '4000'
//   const file = tempFile(t, 'ignis.toml', 'port = 4000\n');  // removed after test `t`
//   const log = await stopAndReadLog(server);  // a spawned program, stopped; all its stderr
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Runs $IGNIS_PROGRAM to completion: {code, stdout, stderr}. Only IGNIS_* from `env` are passed. */
export function runProgram(args, env = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IGNIS_')) clean[k] = v;
  return new Promise((resolve) => {
    execFile(process.env.IGNIS_PROGRAM, args, { env: { ...clean, ...env }, timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** Parses --print-config output (`key = value` lines) into an object of raw value texts. */
export function parsePrinted(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9-]+) = (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** A file `name` with `content` in a fresh directory, removed after test `t`; returns its path. */
export function tempFile(t, name, content) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ignis-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Stops a spawned program (spawnProgram()) and returns everything it wrote on stderr. */
export async function stopAndReadLog(server) {
  const ended = once(server.process.stderr, 'end');
  await server.stop();
  await ended;
  return server.stderr();
}
