import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { examples, markdownFiles, promised, repo, runExamples, type Example } from '../support/doc-examples.js';

/**
 * Every ```js and ```ts block of docs/**\/*.md and CONTRIBUTING.md is a
 * program: compiled (ts, strict), run to its end, and it must print what its
 * `// prints:` comments promise, as the README's are (readme.test.ts).
 */

const files = [...markdownFiles('docs'), 'CONTRIBUTING.md'];
const all: Example[] = files.flatMap((file) => examples(readFileSync(join(repo, file), 'utf8'), file));

test('the docs have their examples, each promising some output; the API reference and every guide have some', () => {
  assert.ok(all.length >= 10, `${all.length} examples`);
  for (const example of all)
    assert.ok(promised(example.code).length > 0, `the example at ${example.where} promises no output`);
  for (const file of files.filter((f) => f === 'docs/api.md' || f.startsWith('docs/guides/')))
    assert.ok(
      all.some((example) => example.where.startsWith(`${file}:`)),
      `${file} has no example the tests run`,
    );
});

test('every js and ts example in docs/ and CONTRIBUTING.md compiles, runs to its end and prints what it promises', async (t) => {
  await runExamples(t, all, 'docs');
});
