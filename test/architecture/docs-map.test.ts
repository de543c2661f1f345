import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO, sourceFiles } from '../support/source-files.js';

/**
 * docs/architecture.md is the map of src/: it names every .ts file there by
 * its path relative to src/ (`reactor/write/writer.ts`), and names no file
 * that is not there. A file added, moved or removed without the map saying
 * so fails here.
 */
const DOC = 'docs/architecture.md';

/** Paths in the doc that are not under src/: the tests', the benchmarks'. */
const OUTSIDE_SRC = new Set(['test', 'bench', 'native-free', 'dist', 'node_modules']);

/**
 * The .ts paths `doc` names, relative to src/: every `name.ts` or
 * `dir/…/name.ts` (a leading `src/` dropped), but paths under the other
 * top-level folders and declaration files (`index.d.ts`).
 */
function namedSources(doc: string): Set<string> {
  const named = new Set<string>();
  for (const match of doc.matchAll(/(?<![\w./-])([\w.-]+(?:\/[\w.-]+)*\.ts)(?![\w-])/g)) {
    let path = match[1]!;
    if (path.endsWith('.d.ts')) continue;
    if (path.startsWith('src/')) path = path.slice(4);
    if (path.includes('/') && OUTSIDE_SRC.has(path.split('/')[0]!)) continue;
    named.add(path);
  }
  return named;
}

/** What the map leaves out (`missing`) and what it names that does not exist (`stale`). */
function checkMap(doc: string, files: readonly string[]): { missing: string[]; stale: string[] } {
  const named = namedSources(doc);
  const present = new Set(files);
  return {
    missing: files.filter((file) => !named.has(file)).sort(),
    stale: [...named].filter((path) => !present.has(path)).sort(),
  };
}

test('docs/architecture.md names every .ts file under src/, and only those', () => {
  const files = sourceFiles();
  assert.ok(files.length > 50, 'src/ should hold the whole library');
  // missing: files the doc does not name by their path relative to src/; stale: .ts paths it names that are not under src/.
  assert.deepEqual(
    checkMap(readFileSync(REPO + DOC, 'utf8'), files),
    { missing: [], stale: [] },
    `${DOC} and src/ disagree`,
  );
});

test('the map check fails on a missing and on a stale name', () => {
  // The check itself must be able to fail.
  const files = ['index.ts', 'reactor/write/writer.ts', 'redis/index.ts'];
  const doc = [
    '`src/index.ts` public API',
    '`reactor/write/writer.ts` the writer; `reactor/writer.ts` moved away',
    'see test/architecture/layers.test.ts, bench/idle.ts and index.d.ts',
  ].join('\n');
  // redis/index.ts is not named, though `index.ts` and `src/index.ts` are its suffixes.
  assert.deepEqual(checkMap(doc, files), { missing: ['redis/index.ts'], stale: ['reactor/writer.ts'] });
  assert.deepEqual(checkMap(`${doc}\nredis/index.ts`.replace('; `reactor/writer.ts` moved away', ''), files), {
    missing: [],
    stale: [],
  });
  // A bare file name is a path relative to src/ too: one at the top of src/, or stale.
  assert.deepEqual(checkMap('writer.ts and reactor/write/writer.ts', ['reactor/write/writer.ts']), {
    missing: [],
    stale: ['writer.ts'],
  });
});
