// Ranges of durations and limits (docs/configuration.md, "Ranges"): values out of range are
// refused at start, naming the option, whether given as a flag, an IGNIS_* variable or a key of
// the configuration file (--ping-interval 0 would send application pings without pause).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrinted, runProgram, tempFile } from '../lib/program-run.mjs';

const PROGRAM = process.env.IGNIS_PROGRAM;

describe('ranges of durations and limits', { skip: !PROGRAM && 'needs IGNIS_PROGRAM' }, () => {
  const cases = [
    // flag, refused values, accepted bounds
    ['ping-interval', ['0', '99', '86400001'], ['100', '86400000']],
    ['authenticate-timeout', ['0', '99', '3600001'], ['100', '3600000']],
    ['auth-timeout', ['0', '600001'], ['1', '600000']],
    ['shutdown-timeout', ['3600001', '-1'], ['0', '3600000']],
    ['redis-requests-timeout', ['0', '99', '600001'], ['100', '600000']],
    ['jwt-max-age', ['315360001', '-5'], ['0', '315360000']],
    ['max-rooms-per-socket', ['100001', '-1'], ['0', '100000']],
  ];
  for (const [flag, refused, accepted] of cases) {
    it(`--${flag}: ${refused.join(', ')} refused at start, naming it; ${accepted.join(' and ')} accepted`, async (t) => {
      for (const value of refused) {
        const r = await runProgram(['--auth', 'none', `--${flag}`, value]);
        assert.equal(r.code, 2, `--${flag} ${value} was accepted`);
        assert.match(r.stderr, new RegExp(`--${flag}`));
      }
      // From the environment and the configuration file as well.
      const env = await runProgram(['--auth', 'none'], { [`IGNIS_${flag.toUpperCase().replace(/-/g, '_')}`]: refused[0] });
      assert.equal(env.code, 2);
      const file = tempFile(t, 'ignis.toml', `auth = "none"\n${flag} = ${refused[0]}\n`);
      const fromFile = await runProgram(['--config', file]);
      assert.equal(fromFile.code, 2);
      assert.match(fromFile.stderr, new RegExp(`key '${flag}'`));
      for (const value of accepted) {
        const r = await runProgram(['--auth', 'none', `--${flag}`, value, '--print-config']);
        assert.equal(r.code, 0, `--${flag} ${value}: ${r.stderr}`);
        assert.equal(parsePrinted(r.stdout)[flag], value);
      }
    });
  }
});
