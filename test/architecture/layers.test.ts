import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// dist/test/architecture → src/
const src = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Lower layers never import higher ones (docs/architecture.md). */
const RANK: Record<string, number> = { protocol: 0, pool: 1, reactor: 2, transport: 3, '': 4 };

function layerOf(path: string): string {
  const first = path.split('/')[0]!;
  return first in RANK && path.includes('/') ? first : '';
}

function sources(dir = ''): string[] {
  return readdirSync(src + dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(`${dir}${entry.name}/`) : entry.name.endsWith('.ts') ? [`${dir}${entry.name}`] : [],
  );
}

test('each layer imports only from the layers below it', () => {
  const violations: string[] = [];
  const files = sources();
  assert.ok(files.length > 20);
  for (const file of files) {
    const from = layerOf(file);
    for (const match of readFileSync(src + file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = new URL(match[1]!, `file:///${file}`).pathname.slice(1);
      const to = layerOf(target);
      if (RANK[to]! > RANK[from]!) violations.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('src/protocol does no I/O and starts no timers', () => {
  for (const file of sources('protocol/')) {
    const text = readFileSync(src + file, 'utf8');
    assert.doesNotMatch(text, /from 'node:(net|tls|fs|http|dgram|child_process)'/, file);
    assert.doesNotMatch(text, /\bset(Timeout|Interval|Immediate)\(/, file);
  }
});
