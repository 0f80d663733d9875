// What the fault tests (restart, freeze, cut, node death) measure on a cluster: the program's
// view of its Redis link (/health, /metrics) and how long cross-server delivery takes to resume.

/** The program's /health "redis" field (the adapter link's state). */
export async function healthRedis(program) {
  const res = await fetch(`${program.url}/health`, { signal: AbortSignal.timeout(3000) });
  return (await res.json()).redis;
}

/** The program's Redis counters from /metrics: { publishes, errors }. */
export async function redisMetrics(program) {
  const res = await fetch(`${program.url}/metrics`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  const sample = (name) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} missing from /metrics`);
    return Number(m[1]);
  };
  return { publishes: sample('ignis_redis_publishes_total'), errors: sample('ignis_redis_errors_total') };
}

/** How long cross-server delivery may take to come back after a fault ends. */
export const RESUME_LIMIT_MS = 5000;

/**
 * Sends a numbered probe every 100 ms with `send(n)` until `receiver` got one, and returns how
 * long after `start` (the fault's end) that was. Probes lost while links reconnect are expected;
 * the first arrival counts. Only probes sent from now on carry `event`, so a message delayed by
 * the fault cannot be taken for a resumed one.
 */
export async function resumeTime(send, receiver, event, start) {
  let n = 0;
  const got = receiver.log.next(event, { timeout: RESUME_LIMIT_MS + 3000 });
  let done = false;
  got.finally(() => {
    done = true;
  }).catch(() => {});
  while (!done && Date.now() - start < RESUME_LIMIT_MS + 3000) {
    await send(++n).catch(() => {});
    await Promise.race([got.catch(() => {}), new Promise((r) => setTimeout(r, 100))]);
  }
  await got;
  return Date.now() - start;
}
