import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXTENSION_MASK, MAX_ROUTES, ROUTE_SHIFT, State } from '../../../src/reactor/connection/connection-state.js';

/**
 * `conn.flags` is one integer shared by files that do not see each other's
 * bits: the states (connection-state.ts), the route index (route-table.ts,
 * shift and size from connection-state.ts) and the negotiated extension's
 * bits (EXTENSION_MASK, used by deflate-extension.ts for its window). Two allocations on the same bit would
 * corrupt each other silently, so every allocation is listed here, from the
 * constants the files export (a constant that moves takes the test's import
 * with it), and checked against the others.
 */
const ALLOCATIONS: readonly (readonly [name: string, mask: number])[] = [
  ...Object.entries(State).map(([name, bit]) => [`State.${name}`, bit] as const),
  ['extension bits (connection-state.ts EXTENSION_MASK)', EXTENSION_MASK],
  ['route index (ROUTE_SHIFT, MAX_ROUTES)', (MAX_ROUTES - 1) << ROUTE_SHIFT],
];

/** The files that allocate bits of `conn.flags`: each says so, pointing here. */
const ALLOCATING_FILES = ['reactor/connection/connection-state.ts'];

/** The files that put shifted values into `flags`, and the allocation each uses. */
const SHIFTING_FILES: Readonly<Record<string, string>> = {
  'reactor/extensions/deflate-extension.ts': 'extension bits',
  'reactor/http/route-table.ts': 'route index',
};

/**
 * The highest bit `flags` may use: 29. V8 keeps a small integer (Smi) in 31
 * bits under pointer compression, sign included, so bits 0–29 keep flags a
 * positive Smi (no heap number per connection); bit 30 or 31 would not.
 */
const HIGHEST_BIT = 29;

/** What is wrong with a set of allocations: overlaps, masks past HIGHEST_BIT, empty masks, states that are not one bit. */
function conflicts(allocations: readonly (readonly [string, number])[]): string[] {
  const out: string[] = [];
  allocations.forEach(([name, mask], i) => {
    if (!Number.isInteger(mask) || mask <= 0) out.push(`${name} is no mask: ${mask}`);
    else if (mask >= 2 ** (HIGHEST_BIT + 1))
      out.push(`${name} uses a bit above ${HIGHEST_BIT}: 0x${(mask >>> 0).toString(16)}`);
    if (name.startsWith('State.') && (mask & (mask - 1)) !== 0) out.push(`${name} is not a single bit`);
    for (const [other, otherMask] of allocations.slice(i + 1)) {
      const shared = mask & otherMask;
      if (shared !== 0) out.push(`${name} and ${other} share 0x${(shared >>> 0).toString(16)}`);
    }
  });
  return out;
}

// dist/test/reactor/connection → src/
const src = fileURLToPath(new URL('../../../../src/', import.meta.url));

function sources(dir = ''): string[] {
  return readdirSync(src + dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(`${dir}${entry.name}/`) : entry.name.endsWith('.ts') ? [`${dir}${entry.name}`] : [],
  );
}

/** Does `text` put a left-shifted value into something called flags (`flags |= x << n`, `flags = ... << ...`)? */
function shiftsIntoFlags(text: string): boolean {
  return /\bflags\s*(?:\|=|=(?!=))[^;]*<</.test(text);
}

test('the bits of conn.flags allocated in different files do not overlap, and stay within a positive Smi', () => {
  assert.ok(ALLOCATIONS.length >= 17, `${ALLOCATIONS.length} allocations`);
  assert.deepEqual(conflicts(ALLOCATIONS), []);
  const all = ALLOCATIONS.reduce((union, [, mask]) => union | mask, 0);
  assert.ok(all > 0 && all < 2 ** (HIGHEST_BIT + 1), `every bit in use: 0x${all.toString(16)}`);
  // The route index has room for MAX_ROUTES routes, and its field ends at the highest bit.
  assert.equal(31 - Math.clz32((MAX_ROUTES - 1) << ROUTE_SHIFT), HIGHEST_BIT);
});

test('every file that shifts bits into flags is known here, and each allocating file points to this test', () => {
  const shifting = sources().filter((file) => shiftsIntoFlags(readFileSync(src + file, 'utf8')));
  assert.deepEqual(
    shifting.sort(),
    Object.keys(SHIFTING_FILES).sort(),
    'a new allocation: export its mask and add it to ALLOCATIONS',
  );
  for (const use of Object.values(SHIFTING_FILES))
    assert.ok(
      ALLOCATIONS.some(([name]) => name.startsWith(use)),
      `${use} is checked`,
    );
  for (const file of ALLOCATING_FILES)
    assert.match(
      readFileSync(src + file, 'utf8'),
      /test\/reactor\/connection\/flag-bits\.test\.ts/,
      `${file} points here`,
    );
});

test('the checks fail on an overlap, a bit too high, a state of two bits, and an unlisted shift', () => {
  // The checks must be able to fail.
  assert.deepEqual(
    conflicts([
      ['State.Http', 1 << 15],
      ['window', 7 << 14],
    ]),
    ['State.Http and window share 0x8000'],
  );
  assert.deepEqual(conflicts([['routes', 1023 << 21]]), ['routes uses a bit above 29: 0x7fe00000']);
  assert.deepEqual(conflicts([['State.Both', 3]]), ['State.Both is not a single bit']);
  assert.deepEqual(conflicts([['sign', 1 << 31]]), ['sign is no mask: -2147483648']);
  assert.equal(shiftsIntoFlags('conn.flags |= index << ROUTE_SHIFT;'), true);
  assert.equal(shiftsIntoFlags('conn.flags = (flags & ~State.Open) | (bits << 12);'), true);
  assert.equal(shiftsIntoFlags('const bits = (flags & MASK) >>> SHIFT;'), false);
  assert.equal(shiftsIntoFlags('if (flags === 1 << 3) return;'), false);
});
