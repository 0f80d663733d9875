// Runs a load generator (ignis-bench or ignis-mingen) to its end; both print a `RESULT {json}`
// line last.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Resolves with the exit code, the parsed RESULT line and what the generator wrote to stderr. */
export async function runForResult(binary, args) {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [code] = await once(child, 'exit');
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  assert.match(last, /^RESULT \{/, `last line of stdout is the RESULT line; stderr: ${stderr}`);
  return { code, result: JSON.parse(last.slice('RESULT '.length)), stderr };
}
