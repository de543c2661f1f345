import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/pool/buffer-pool.js';

// The pool's buffers over its largest class (src/pool/large-buffers.ts), as the pool lends them.
const KiB = 1024;
const MiB = 1 << 20;

test('oversize allocations are exact; a few are kept warm and lent again, up to twice the size asked', () => {
  const pool = new BufferPool({ debug: true });
  const big = pool.borrow(MiB + 1);
  assert.equal(big.length, MiB + 1);
  pool.release(big);
  assert.equal(pool.stats().retainedBuffers, 1);
  assert.equal(pool.stats().retainedBytes, MiB + 1);
  assert.equal(pool.borrow(2 * MiB + 2).length, 2 * MiB + 2, 'more than it holds: a fresh one');
  const again = pool.borrow(MiB + 1);
  assert.equal(again, big, 'the warm one, no fresh allocation');
  assert.equal(pool.stats().lentBytes, 3 * MiB + 3);
  assert.equal(pool.stats().retainedBytes, 0);
  pool.release(again);
  const small = pool.borrow(MiB / 2 + 1);
  assert.notEqual(small, big, 'a class size never takes a large one');
  const s = pool.stats();
  assert.equal(s.oversize, 3);
  assert.equal(s.misses, 3);
});

test('large buffers kept: at most four, within maxRetainedBytes and the memory budget', () => {
  const many = new BufferPool({ debug: true });
  const six = Array.from({ length: 6 }, () => many.borrow(2 * MiB));
  for (const buf of six) many.release(buf);
  assert.equal(many.stats().retainedBuffers, 4);
  assert.equal(many.stats().retainedBytes, 8 * MiB);

  const retained = new BufferPool({ maxRetainedBytes: 5 * MiB, debug: true });
  const pair = [retained.borrow(2 * MiB), retained.borrow(4 * MiB)];
  for (const buf of pair) retained.release(buf);
  assert.equal(retained.stats().retainedBytes, 2 * MiB, 'the 4 MiB one would pass maxRetainedBytes');

  const budget = new BufferPool({ maxLentBytes: 10 * MiB, debug: true });
  const held = budget.borrow(5 * MiB);
  const other = budget.borrow(4 * MiB);
  budget.release(other);
  assert.equal(budget.stats().retainedBytes, 4 * MiB, 'lent and kept: 9 MiB of 10');
  const third = budget.tryBorrow(MiB + 1);
  assert.notEqual(third, null);
  assert.equal(third!.length, MiB + 1, 'the kept 4 MiB is more than twice the size asked');
  budget.release(third!);
  assert.equal(budget.stats().retainedBytes, 4 * MiB, 'kept, the 1 MiB + 1 would pass the budget');
  budget.release(held);
});

test('large buffers kept go back after a tick unused, at a budget refusal, and on trim', () => {
  const pool = new BufferPool({ maxLentBytes: 8 * MiB, debug: true });
  pool.release(pool.borrow(2 * MiB));
  pool.tick();
  assert.equal(pool.stats().retainedBytes, 2 * MiB, 'kept this second: not unused yet');
  pool.tick();
  assert.equal(pool.stats().retainedBytes, 0, 'a second unused: given back');
  assert.equal(pool.stats().retainedBuffers, 0);

  const held = pool.borrow(KiB);
  pool.release(pool.borrow(2 * MiB));
  pool.tick();
  pool.release(pool.borrow(2 * MiB)); // the kept one, used again
  pool.tick();
  assert.equal(pool.stats().retainedBytes, 2 * MiB, 'used since the last tick');
  assert.equal(pool.tryBorrow(8 * MiB), null, 'a refusal');
  assert.equal(pool.stats().retainedBytes, 0, 'memory is short: the large ones go');
  assert.equal(pool.stats().retainedBuffers, 0);
  pool.release(held);
  assert.equal(pool.stats().retainedBuffers, 1);

  pool.release(pool.borrow(3 * MiB));
  pool.trim();
  assert.equal(pool.stats().retainedBytes, 0);
  assert.equal(pool.stats().retainedBuffers, 0);
  pool.borrow(3 * MiB);
  assert.equal(pool.stats().misses, 5, 'the large borrows that found none kept: 2, 2, 3, 3 MiB (and the 1 KiB)');
});
