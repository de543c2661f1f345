import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflateWindow } from '../../src/compression/inflate-window.js';
import { prng } from '../support/prng.js';

test('the window holds the last `size` bytes pushed, oldest first, whatever the sizes of the pushes (against a plain concatenation)', () => {
  for (const seed of [1, 2, 3]) {
    const random = prng(seed);
    const size = 1 << 9;
    const window = new InflateWindow(size);
    let all = Buffer.alloc(0);
    assert.equal(window.bytes().length, 0, 'empty before the first message');
    for (let i = 0; i < 400; i++) {
      // Mostly short messages, some longer than the window, some empty; each pushed from inside a larger buffer.
      const roll = random();
      const n = roll < 0.05 ? 0 : roll < 0.9 ? Math.floor(random() * 200) : size + Math.floor(random() * 2 * size);
      const message = Buffer.from(Array.from({ length: n + 10 }, () => Math.floor(random() * 256)));
      window.push(message, 5, 5 + n);
      all = Buffer.concat([all, message.subarray(5, 5 + n)]);
      const expected = all.subarray(Math.max(0, all.length - size));
      assert.equal(window.length, expected.length);
      assert.deepEqual(Buffer.from(window.bytes()), expected, `seed ${seed}, push ${i}`);
    }
  }
});

test('bytes() is a copy; clear() empties the window, which then fills again from its start', () => {
  const window = new InflateWindow(16);
  window.push(Buffer.from('0123456789abcdefXYZ'), 0, 19);
  const copy = window.bytes();
  assert.equal(Buffer.from(copy).toString(), '3456789abcdefXYZ');
  window.push(Buffer.from('!!'), 0, 2);
  assert.equal(Buffer.from(copy).toString(), '3456789abcdefXYZ', 'unchanged by a later push');
  window.clear();
  assert.equal(window.length, 0);
  assert.equal(window.bytes().length, 0);
  window.push(Buffer.from('again'), 0, 5);
  assert.equal(Buffer.from(window.bytes()).toString(), 'again');
});
