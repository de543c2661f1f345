import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../src/reactor/connection.js';
import { ConnectionRegistry } from '../../src/reactor/registry.js';
import { settled } from '../support/fake-link.js';

/** The registry only reads and writes `index`. */
const entry = (name: string) => ({ name, index: -1 }) as unknown as Connection & { name: string };

test('swap-remove keeps every index pointing at its own slot', () => {
  const r = new ConnectionRegistry();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry);
  for (const e of [a, b, c, d]) r.add(e!);
  r.remove(b!);
  assert.deepEqual(r.all.map((e) => (e as typeof a).name), ['a', 'd', 'c']);
  r.remove(b!); // twice: nothing happens
  r.remove(c!); // the last one
  assert.equal(r.size, 2);
  r.all.forEach((e, i) => assert.equal(e.index, i));
  assert.deepEqual([b!.index, c!.index], [-1, -1]);
});

test('a snapshot is a copy that removals do not change', () => {
  const r = new ConnectionRegistry();
  const [a, b] = [entry('a'), entry('b')];
  r.add(a);
  r.add(b);
  const copy = r.snapshot();
  r.remove(a);
  assert.deepEqual(copy, [a, b]);
  assert.deepEqual(r.all, [b]);
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
