import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SRC as src, sourceFiles as sources } from '../support/source-files.js';

/** Lower layers never import higher ones (docs/architecture.md). */
const RANK: Record<string, number> = {
  protocol: 0,
  tls: 1,
  pool: 2,
  compression: 3,
  api: 4,
  reactor: 5,
  transport: 6,
  '': 7,
};

function layerOf(path: string): string {
  const first = path.split('/')[0]!;
  return first in RANK && path.includes('/') ? first : '';
}

/**
 * The files `file` imports, as paths under src/ ending in .ts: static
 * imports and re-exports (`import type` and `export type` included, which a
 * cycle of types is too), and dynamic `import()`.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(src + file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.[^']+)'/gm)) {
    targets.push(new URL(match[1]!, `file:///${file}`).pathname.slice(1).replace(/\.js$/, '.ts'));
  }
  return targets;
}

test('each layer imports only from the layers below it', () => {
  const violations: string[] = [];
  const files = sources();
  assert.ok(files.length > 20);
  for (const file of files) {
    const from = layerOf(file);
    for (const target of importsOf(file)) {
      const to = layerOf(target);
      if (RANK[to]! > RANK[from]!) violations.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

/** Strongly connected sets of more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import cycle anywhere in src/, type-only imports included', () => {
  const graph = new Map(sources().map((file) => [file, importsOf(file)] as const));
  assert.ok([...graph.values()].some((targets) => targets.length > 0));
  assert.deepEqual(cycles(graph), []);
});

test('the cycle check finds a cycle of types, and a longer loop', () => {
  // The check itself must be able to fail.
  assert.deepEqual(
    cycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', ['a.ts']],
        ['c.ts', ['a.ts']],
      ]),
    ),
    [['a.ts', 'b.ts']],
  );
  assert.deepEqual(
    cycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', ['c.ts']],
        ['c.ts', ['a.ts']],
      ]),
    ),
    [['a.ts', 'b.ts', 'c.ts']],
  );
  assert.deepEqual(cycles(new Map([['a.ts', ['a.ts']]])), [['a.ts']]);
  assert.deepEqual(
    cycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', []],
      ]),
    ),
    [],
  );
});

test('src/protocol does no I/O and starts no timers', () => {
  for (const file of sources('protocol/')) {
    const text = readFileSync(src + file, 'utf8');
    assert.doesNotMatch(text, /from 'node:(net|tls|fs|http|dgram|child_process)'/, file);
    assert.doesNotMatch(text, /\bset(Timeout|Interval|Immediate)\(/, file);
  }
});
