import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import { ConnectionRegistry } from '../../../src/reactor/connection/registry.js';
import { settled } from '../../support/fake-link.js';

/** The registry only reads and writes `index`. */
const entry = (name: string) => ({ name, index: -1 }) as unknown as ConnectionRecord & { name: string };

test('swap-remove keeps every index pointing at its own slot', () => {
  const r = new ConnectionRegistry();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry);
  for (const e of [a, b, c, d]) r.add(e!);
  r.remove(b!);
  assert.deepEqual(
    [...r].map((e) => (e as NonNullable<typeof a>).name),
    ['a', 'd', 'c'],
  );
  r.remove(b!); // twice: nothing happens
  r.remove(c!); // the last one
  assert.equal(r.size, 2);
  [...r].forEach((e, i) => assert.equal(e.index, i));
  assert.deepEqual([b!.index, c!.index], [-1, -1]);
});

test('a walk visits every connection even when connections leave during it', () => {
  const r = new ConnectionRegistry();
  const all = ['a', 'b', 'c', 'd', 'e'].map(entry);
  for (const e of all) r.add(e);
  const visited: string[] = [];
  r.forEach((conn) => {
    const name = (conn as (typeof all)[number]).name;
    visited.push(name);
    r.remove(conn); // a broadcast receiver whose write failed
    if (name === 'b') r.remove(all[4]!); // and one not visited yet, shed meanwhile
  });
  // Swap-remove during the walk would have moved 'e' behind it and skipped 'c' or 'd'.
  assert.deepEqual(visited, ['a', 'b', 'c', 'd']);
  assert.equal(r.size, 0);
  assert.deepEqual([...r], []);
});

test('holes left by a walk are closed when it ends, indexes stay right; additions wait for the next walk', () => {
  const r = new ConnectionRegistry();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry);
  for (const e of [a, b, c]) r.add(e!);
  const seen: string[] = [];
  for (const conn of r) {
    seen.push((conn as NonNullable<typeof a>).name);
    if (conn === a) {
      r.remove(b!);
      r.add(d!);
    }
  }
  assert.deepEqual(seen, ['a', 'c']);
  assert.deepEqual(
    [...r].map((e) => (e as NonNullable<typeof a>).name),
    ['a', 'c', 'd'],
  );
  [...r].forEach((e, i) => assert.equal(e.index, i));
  assert.equal(r.size, 3);
  // A loop left with break ends its walk too: removals swap again.
  for (const conn of r) if (conn === a) break;
  r.remove(a!);
  assert.deepEqual(
    [...r].map((e) => (e as NonNullable<typeof a>).name),
    ['d', 'c'],
  );
});

test('whenEmpty resolves at once when empty, else when the last one goes', async () => {
  const r = new ConnectionRegistry();
  await r.whenEmpty();
  const [a, b] = [entry('a'), entry('b')];
  r.add(a);
  r.add(b);
  const woken: string[] = [];
  void r.whenEmpty().then(() => woken.push('first'));
  void r.whenEmpty().then(() => woken.push('second'));
  r.remove(a);
  await settled();
  assert.deepEqual(woken, []);
  r.remove(b);
  await settled();
  assert.deepEqual(woken, ['first', 'second']);
});
