// Freezing a child process (SIGSTOP) for a test, and knowing that it is frozen. kill() returns
// once the signal is queued; a thread of the target that is running on another core goes on
// until the kernel stops it, which takes milliseconds on a loaded machine. freeze() resolves
// once /proc shows every thread stopped (state T), so that nothing the test does afterwards can
// still be answered by the frozen process. Linux only.
import { readdir, readFile } from 'node:fs/promises';
import { eventually } from './util.mjs';

async function everyThreadStopped(pid) {
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;  // the thread has exited
    // "tid (comm) S ...": the state follows the command name, which may contain spaces.
    if (stat[stat.lastIndexOf(')') + 2] !== 'T') return false;
  }
  return true;
}

/** SIGSTOP to `child` (a ChildProcess); resolves once all its threads are stopped. */
export async function freeze(child) {
  child.kill('SIGSTOP');
  await eventually(() => everyThreadStopped(child.pid), { timeout: 5000, interval: 1, label: `pid ${child.pid} stopped` });
}

/** SIGCONT to `child`. */
export function thaw(child) {
  child.kill('SIGCONT');
}
