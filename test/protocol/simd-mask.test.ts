import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMask, maskBytes } from '../../src/protocol/mask.js';
import { allocateSlab, simdMask } from '../../src/protocol/simd-mask.js';
import { prng } from '../support/prng.js';

test('the read slab lives in WebAssembly memory of its own, sized as asked', () => {
  const a = allocateSlab(64 * 1024 + 14);
  const b = allocateSlab(1024);
  assert.equal(a.length, 64 * 1024 + 14);
  assert.equal(b.length, 1024);
  assert.notEqual(a.buffer, b.buffer);
  assert.equal(a.buffer.byteLength, 2 * 65536, 'whole 64 KiB pages');
  assert.equal(simdMask(a, 0, 64, 0x01020304), 64, 'SIMD reaches it');
  assert.equal(simdMask(Buffer.alloc(1024), 0, 1024, 1), 0, 'not another buffer: nothing done');
});

test('applyMask in the slab (WebAssembly SIMD and the rest) equals the byte loop, at any start, length and key offset', () => {
  const random = prng(0x5104);
  const slab = allocateSlab(64 * 1024 + 14);
  for (let round = 0; round < 400; round++) {
    for (let i = 0; i < slab.length; i++) slab[i] = (random() * 256) | 0;
    const start = (random() * 300) | 0;
    const end = Math.min(slab.length, start + ((random() ** 2 * slab.length) | 0));
    const key = (random() * 2 ** 32) >>> 0;
    const keyOffset = (random() * 4) | 0;
    const expected = Buffer.from(slab);
    maskBytes(expected, start, end, key, keyOffset);
    applyMask(slab, start, end, key, keyOffset);
    assert.ok(slab.equals(expected), `start ${start}, end ${end}, key ${key}, offset ${keyOffset}`);
    // And through a view that does not start at the slab's first byte, as a subarray would.
    const view = slab.subarray(13);
    const viewExpected = Buffer.from(view);
    maskBytes(viewExpected, 1, view.length - 7, key, keyOffset);
    applyMask(view, 1, view.length - 7, key, keyOffset);
    assert.ok(view.equals(viewExpected), `view, key ${key}, offset ${keyOffset}`);
  }
});
