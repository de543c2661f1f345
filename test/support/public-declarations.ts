import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * The declaration files package.json's `exports` name as `types`, relative to
 * dist/src/ ('index.d.ts', 'redis/index.d.ts'): the entry points of the
 * public types. Read from the manifest so that a new subpath export is
 * covered without anyone remembering to list it.
 */
export function typesEntries(manifest: { exports: Record<string, unknown> }): string[] {
  const entries: string[] = [];
  for (const target of Object.values(manifest.exports)) {
    const types = typeof target === 'object' && target !== null ? (target as { types?: unknown }).types : undefined;
    if (typeof types !== 'string') continue;
    if (!types.startsWith('./dist/src/')) throw new Error(`exports names types outside dist/src/: ${types}`);
    entries.push(types.slice('./dist/src/'.length));
  }
  return entries;
}

/**
 * The .d.ts files the public types are made of: the entries, the files they
 * import (`from './x.js'`, and `import("./x.js")`, which tsc writes for a type
 * it cannot name otherwise), and theirs. Paths are posix and relative to
 * `root` (dist/src/), sorted, so that they read the same on every platform.
 */
export function publicDeclarations(root: string, entries: readonly string[] = ['index.d.ts']): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(posix.join(root, file), 'utf8').matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.[^'"]+)\.js['"]/g,
    )) {
      visit(posix.join(posix.dirname(file), `${match[1]!}.d.ts`));
    }
  };
  for (const entry of entries) visit(entry);
  // Plain code-unit order, not localeCompare: the same on every machine.
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
