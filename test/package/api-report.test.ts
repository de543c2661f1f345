import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiReport, firstDifference, normalize, REGENERATE, renderReport, REPORT_PATH } from '../support/api-report.js';

/**
 * The public surface is what api-report/lightws.api.md says it is: the
 * declarations built from src/ and reachable from the package's entry points
 * must read exactly as committed. An intended change is made by running
 * `npm run api:report` and committing the diff, which review then sees.
 */

// dist/test/package → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dist = fileURLToPath(new URL('../../', import.meta.url));

/** The failure message of a report that differs from the committed one; undefined when they agree. */
function mismatch(committed: string, built: string): string | undefined {
  const difference = firstDifference(committed, built);
  return difference === undefined
    ? undefined
    : `the public API differs from ${REPORT_PATH} (- committed, + built):\n${difference}\n` +
        `If the change is intended, run \`${REGENERATE}\` and commit the diff of ${REPORT_PATH}.`;
}

test(`the built public declarations match ${REPORT_PATH}`, () => {
  const committed = readFileSync(join(repo, REPORT_PATH), 'utf8');
  const built = apiReport(dist);
  for (const entry of ['## dist/src/index.d.ts', '## dist/src/redis/index.d.ts', '## dist/src/api/connection.d.ts']) {
    assert.ok(built.includes(`\n${entry}\n`), `the report covers ${entry.slice(3)}`);
  }
  const message = mismatch(committed, built);
  assert.ok(message === undefined, message);
});

test('a changed declaration in the build is caught, and the message says how to accept it', (t) => {
  // The check itself must be able to fail: copy the build, change one signature, compare.
  const copy = mkdtempSync(join(tmpdir(), 'lightws-api-report-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(join(dist, 'src'), join(copy, 'src'), {
    recursive: true,
    filter: (source) => !source.endsWith('.js') && !source.endsWith('.map'),
  });
  const connection = join(copy, 'src/api/connection.d.ts');
  const original = readFileSync(connection, 'utf8');
  const before = apiReport(copy);
  assert.equal(mismatch(before, apiReport(copy)), undefined, 'the same build gives the same report');

  writeFileSync(connection, original.replace(/\bsend\(/, 'sendRenamed('));
  assert.notEqual(readFileSync(connection, 'utf8'), original, 'the fixture changed a declaration');
  const message = mismatch(before, apiReport(copy));
  assert.ok(message !== undefined, 'a renamed method is a mismatch');
  assert.match(message, /^- .*\bsend\(/m);
  assert.match(message, /^\+ .*\bsendRenamed\(/m);
  assert.match(message, /run `npm run api:report` and commit the diff/);

  // A new file reachable from the entry points is surface too.
  writeFileSync(connection, `${original}\nimport type { Extra } from './extra.js';\nexport type Leak = Extra;\n`);
  writeFileSync(join(copy, 'src/api/extra.d.ts'), 'export interface Extra { x: number }\n');
  assert.match(apiReport(copy), /^## dist\/src\/api\/extra\.d\.ts$/m);
});

test('the report leaves out what is not surface, and keeps its order', () => {
  assert.equal(
    normalize('/** Doc. */\r\nexport declare const a = 1;\r\n//# sourceMappingURL=a.d.ts.map\r\n\n'),
    '/** Doc. */\nexport declare const a = 1;',
  );
  const report = renderReport(
    new Map([
      ['a.d.ts', 'export {};\n'],
      ['b/c.d.ts', 'export {};\n'],
    ]),
    ['a.d.ts'],
  );
  assert.ok(report.indexOf('## dist/src/a.d.ts') < report.indexOf('## dist/src/b/c.d.ts'));
  assert.match(report, /## dist\/src\/b\/c\.d\.ts\n\n```ts\nexport \{\};\n```\n$/);
  assert.equal(firstDifference('a\nb\nc', 'a\nb\nc'), undefined);
  assert.equal(firstDifference('a\nb\nc', 'a\nB\nc'), 'first difference at line 2:\n  a\n- b\n+ B');
  assert.equal(firstDifference('a\nc', 'a\nb\nc'), 'first difference at line 2:\n  a\n+ b', 'an inserted line');
  assert.equal(firstDifference('a\nb', 'a'), 'first difference at line 2:\n  a\n- b', 'a removed last line');
  assert.match(
    firstDifference('x', Array.from({ length: 20 }, (_, i) => `${i}`).join('\n'), 3, 8)!,
    /^\+ 7\n\+ … 12 more$/m,
  );
});
