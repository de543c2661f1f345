import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Every benchmark script (dist/bench/*.js) answers `--help` with its usage and exit 0, and an
 * unknown option with one line and exit 2 (issue #20, case 10), before it starts anything: each
 * run is given a few seconds, far less than any benchmark takes.
 */

const run = promisify(execFile);
// dist/test/bench → dist/bench
const BENCH = fileURLToPath(new URL('../../bench/', import.meta.url));
const SCRIPTS = readdirSync(BENCH)
  .filter((file) => file.endsWith('.js'))
  .sort();

async function script(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BENCH + file, ...args], { timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number | string; killed?: boolean; stdout: string; stderr: string };
    assert.ok(!failed.killed, `${file} ${args.join(' ')} ran past 15 s: it started a benchmark`);
    return { code: Number(failed.code), stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('the benchmark scripts are found', () => {
  assert.ok(SCRIPTS.length >= 15, SCRIPTS.join(', '));
  assert.ok(SCRIPTS.includes('echo.js') && SCRIPTS.includes('profile.js'));
});

for (const file of SCRIPTS) {
  test(`${file}: --help prints the usage and exits 0; an unknown option, one line and exit 2`, async () => {
    const help = await script(file, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stderr, '');
    assert.match(
      help.stdout,
      new RegExp(`\\nUsage: node dist/bench/${file.replace('.', '\\.')}[ \\w|]* \\[options\\]\\n`),
    );
    assert.match(help.stdout, /\n {2}-h, --help\n$/);
    assert.ok(help.stdout.indexOf('Usage:') > 40, 'the script says what it measures before the usage line');
    const bogus = await script(file, ['--bogus-option', '1']);
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.equal(bogus.stdout, '');
    assert.equal(bogus.stderr, `${file.slice(0, -3)}: Unknown option '--bogus-option' (--help for the usage)\n`);
  });
}
