import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  BackpressurePolicy,
  Connection,
  Server,
  StatsSnapshot,
  TransportChoice,
  TransportName,
} from '../../src/index.js';

// dist/test/api → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const SELF = 'test/api/named-types.test.ts';

/**
 * Unions the public API names once (src/api/options.ts), so a third
 * transport or policy is added in one place. Each entry: the union spelled
 * out, in either order, and the one file allowed to spell it.
 */
const NAMED: readonly { name: string; members: readonly [string, string]; home: string }[] = [
  { name: 'TransportName', members: ['handle', 'socket'], home: 'src/api/options.ts' },
  { name: 'BackpressurePolicy', members: ['close', 'drop'], home: 'src/api/options.ts' },
];

function tsFiles(dir: string): string[] {
  return readdirSync(repo + dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? tsFiles(`${dir}${entry.name}/`) : entry.name.endsWith('.ts') ? [`${dir}${entry.name}`] : [],
  );
}

/** Lines of `text` that spell the union `a | b` (or `b | a`) as a type; quotes of either kind. */
function spelled(text: string, [a, b]: readonly [string, string]): number[] {
  const q = `['"]`;
  const pattern = new RegExp(`${q}(?:${a}${q}\\s*\\|\\s*${q}${b}|${b}${q}\\s*\\|\\s*${q}${a})${q}`);
  return text.split('\n').flatMap((line, i) => (pattern.test(line) && !/^\s*(\*|\/\/)/.test(line) ? [i + 1] : []));
}

test('the transport and backpressure unions are spelled once, in src/api/options.ts, and named everywhere else', () => {
  const files = [...tsFiles('src/'), ...tsFiles('test/'), ...tsFiles('bench/')];
  assert.ok(files.length > 100, `${files.length} files`);
  const found: string[] = [];
  for (const { name, members, home } of NAMED) {
    for (const file of files) {
      const lines = spelled(readFileSync(repo + file, 'utf8'), members);
      if (file === SELF) continue; // its examples and type checks spell them on purpose
      if (file === home) assert.equal(lines.length, 1, `${home} defines ${name} once`);
      else for (const line of lines) found.push(`${file}:${line} spells ${name}`);
    }
  }
  assert.deepEqual(found, []);
});

test('the finder sees the union in either order and either quote, and not in comments', () => {
  // The check must be able to fail.
  assert.deepEqual(spelled("let t: 'handle' | 'socket';", ['handle', 'socket']), [1]);
  assert.deepEqual(spelled('x\nlet t: "socket"|"handle";', ['handle', 'socket']), [2]);
  assert.deepEqual(spelled("type K = 'auto' | 'handle' | 'socket' | 'ws';", ['handle', 'socket']), [1]);
  assert.deepEqual(spelled(" * transport ('handle' | 'socket') as JSON", ['handle', 'socket']), []);
  assert.deepEqual(spelled("backpressure: 'close', // or 'drop'", ['close', 'drop']), []);
});

test('the named types are what the public API uses', () => {
  type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
  const checks: [
    Equal<TransportName, 'handle' | 'socket'>,
    Equal<TransportChoice, 'auto' | TransportName>,
    Equal<Server['transport'], TransportName>,
    Equal<Connection['transport'], TransportName>,
    Equal<keyof StatsSnapshot['transports'], TransportName>,
    Equal<BackpressurePolicy, 'close' | 'drop'>,
  ] = [true, true, true, true, true, true];
  assert.ok(checks.every(Boolean)); // the real check is the compiler's
});
