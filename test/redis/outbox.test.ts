import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox } from '../../src/redis/outbox.js';

test('the outbox keeps what fits in the room given, oldest first, and empties on drain', () => {
  const box = new Outbox();
  const item = (n: number) => ({ channel: `c${n}`, message: Buffer.alloc(n) });
  assert.equal(box.offer(item(4), 10), true);
  assert.equal(box.offer(item(6), 6), true);
  assert.equal(box.offer(item(1), 0), false, 'no room left');
  assert.deepEqual([box.length, box.bytes], [2, 10]);
  assert.deepEqual(
    box.drain().map((p) => p.channel),
    ['c4', 'c6'],
  );
  assert.deepEqual([box.length, box.bytes], [0, 0]);
});
