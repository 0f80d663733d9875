#!/usr/bin/env node
// Counts the tests of one ctest run from its JUnit file (ctest --output-junit FILE) for
// scripts/test: prints one line per test that did not fully run, then `COUNTS <passed> <failed>
// <skipped>` as its last line.
//
//   passed   ran and passed, and skipped nothing inside (see below)
//   failed   failed, timed out, or could not run (no executable, a failed fixture, ...)
//   skipped  skipped as a whole: GTEST_SKIP() (gtest_discover_tests' SKIP_REGULAR_EXPRESSION),
//            a SKIP_RETURN_CODE, a disabled test; or a `node --test` suite that passed but whose
//            TAP summary (`# skipped N`, `# todo N`) says that some of its tests did not run
//
// A node suite is one ctest test however many tests it runs, so it counts once: as skipped when
// any of its tests was skipped (it did not run entirely), else as passed or failed. Its summary is
// at the end of its output, which ctest keeps when told so (scripts/test passes
// --test-output-size-passed and --test-output-truncation head).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: ctest-count.mjs JUNIT_FILE');
  process.exit(2);
}

const unescape = (s) => s
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
  .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/&amp;/g, '&');
const attribute = (attrs, name) => {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs);
  return m ? unescape(m[1]) : '';
};
// The last `# <key> N` line of a TAP summary, or null.
const tapCount = (out, key) => {
  const all = [...out.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
  return all.length ? Number(all[all.length - 1][1]) : null;
};
// What a skipped gtest said: the line after "...: Skipped".
const gtestReason = (out) => {
  const m = /: Skipped\n([^\n]*)/.exec(out);
  return m ? m[1].trim() : '';
};

let xml = '';
try {
  xml = readFileSync(file, 'utf8');
} catch (e) {
  console.log(`no ctest results (${e.message})`);
  console.log('COUNTS 0 1 0');
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
let seen = 0;
for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
  seen++;
  const attrs = m[1];
  const body = m[2] ?? '';
  const name = attribute(attrs, 'name');
  const status = attribute(attrs, 'status');
  const outMatch = /<system-out>([\s\S]*?)<\/system-out>/.exec(body);
  const out = outMatch ? unescape(outMatch[1]) : '';
  const skipMatch = /<skipped\b([^>]*)\/?>/.exec(body);
  const skipMessage = skipMatch ? attribute(skipMatch[1], 'message') : '';
  if (status === 'run') {
    const notRun = (tapCount(out, 'skipped') ?? 0) + (tapCount(out, 'todo') ?? 0);
    if (notRun > 0) {
      skipped++;
      console.log(`skipped: ${name} (${notRun} of its ${tapCount(out, 'tests') ?? '?'} node tests did not run)`);
    } else {
      passed++;
    }
  } else if (status === 'disabled') {
    skipped++;
    console.log(`skipped: ${name} (disabled)`);
  } else if (status === 'notrun' && /^SKIP_(REGULAR_EXPRESSION_MATCHED|RETURN_CODE)/.test(skipMessage)) {
    skipped++;
    const reason = gtestReason(out);
    console.log(`skipped: ${name}${reason ? ` (${reason})` : ''}`);
  } else {
    failed++;
    if (status === 'notrun') console.log(`not run: ${name} (${skipMessage || 'no reason given'})`);
  }
}
if (seen === 0) {
  console.log(`no test in ${file}`);
  failed++;
}
console.log(`COUNTS ${passed} ${failed} ${skipped}`);
