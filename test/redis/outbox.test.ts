import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox } from '../../src/redis/outbox.js';

const item = (n: number, channel = `c${n}`) => ({ channel, message: Buffer.alloc(n) });

test('the outbox keeps what fits in the room given, oldest first, and empties on drain', () => {
  const box = new Outbox();
  assert.deepEqual(box.offer(item(4), 10), []);
  assert.deepEqual(box.offer(item(6), 10), []);
  assert.deepEqual([box.length, box.bytes], [2, 10]);
  assert.deepEqual(
    box.drain().map((p) => p.channel),
    ['c4', 'c6'],
  );
  assert.deepEqual([box.length, box.bytes], [0, 0]);
});

test('past the room the oldest are dropped first; an item larger than the room alone is dropped itself', () => {
  const box = new Outbox();
  for (const n of [3, 4, 5]) assert.deepEqual(box.offer(item(n), 12), []);
  assert.deepEqual(
    box.offer(item(6), 12).map((p) => p.channel),
    ['c3', 'c4'],
    'the two oldest make room',
  );
  assert.deepEqual([box.length, box.bytes], [2, 11]);
  assert.deepEqual(
    box.offer(item(13), 12).map((p) => p.channel),
    ['c13'],
  );
  assert.deepEqual(
    box.drain().map((p) => p.channel),
    ['c5', 'c6'],
  );
});

test('many drops stay in order and the channels are listed once each', () => {
  const box = new Outbox();
  let dropped = 0;
  for (let i = 0; i < 5000; i++) dropped += box.offer(item(10, `t${i % 3}`), 100).length;
  assert.equal(dropped, 4990);
  assert.deepEqual([box.length, box.bytes], [10, 100]);
  assert.deepEqual([...box.channels()].sort(), ['t0', 't1', 't2']);
  assert.equal(box.drain().length, 10);
});
