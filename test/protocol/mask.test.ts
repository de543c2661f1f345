import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMask } from '../../src/protocol/mask.js';
import { readMaskKey } from '../support/frames.js';

/** The definition in RFC 6455 §5.3, byte by byte: the oracle for everything below. */
function referenceMask(
  buf: Uint8Array,
  start: number,
  end: number,
  keyBytes: readonly number[],
  keyOffset: number,
): void {
  for (let i = start; i < end; i++) buf[i]! ^= keyBytes[(keyOffset + i - start) & 3]!;
}

const KEY_BYTES = [0x37, 0xfa, 0x21, 0x3d] as const;
const KEY = readMaskKey(Uint8Array.from(KEY_BYTES), 0);

/** Deterministic, non-repeating-looking content so that a misplaced key byte shows. */
function pattern(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('applyMask (RFC 6455 §5.3)', () => {
  it('§5.3: readMaskKey reads the four key bytes big-endian, like readUInt32BE', () => {
    const buf = Buffer.from([0xff, 0x37, 0xfa, 0x21, 0x3d, 0x00]);
    assert.equal(readMaskKey(buf, 1), buf.readUInt32BE(1));
    assert.equal(readMaskKey(buf, 1), 0x37fa213d);
    assert.equal(readMaskKey(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0), 0xffffffff);
  });

  it('§5.3: matches the byte-by-byte definition for lengths 0–4100, alignments 0–7, key offsets 0–3', () => {
    const maxLength = 4100;
    const source = pattern(maxLength + 8);
    // One backing store for every case: alignment is the start's offset within it.
    const actual = Buffer.alloc(maxLength + 16);
    const expected = Buffer.alloc(maxLength + 16);
    for (let align = 0; align < 8; align++) {
      for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
        for (let length = 0; length <= maxLength; length++) {
          const end = align + length;
          source.copy(actual, 0, 0, end + 8);
          source.copy(expected, 0, 0, end + 8);
          applyMask(actual, align, end, KEY, keyOffset);
          referenceMask(expected, align, end, KEY_BYTES, keyOffset);
          // Comparing a few bytes past `end` too checks that nothing outside the range is touched.
          if (!actual.subarray(0, end + 8).equals(expected.subarray(0, end + 8))) {
            assert.fail(`mismatch: length ${length}, alignment ${align}, keyOffset ${keyOffset}`);
          }
        }
      }
    }
  });

  it('§5.3: a payload unmasked in two pieces, split at every point, equals one call', () => {
    const length = 300;
    const masked = pattern(length);
    const whole = Buffer.from(masked);
    applyMask(whole, 0, length, KEY, 0);
    const pieces = Buffer.alloc(length);
    for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
      const oneCall = Buffer.from(masked);
      applyMask(oneCall, 0, length, KEY, keyOffset);
      for (let split = 0; split <= length; split++) {
        masked.copy(pieces);
        applyMask(pieces, 0, split, KEY, keyOffset);
        applyMask(pieces, split, length, KEY, (keyOffset + split) & 3);
        if (!pieces.equals(oneCall)) assert.fail(`mismatch at split ${split}, keyOffset ${keyOffset}`);
      }
    }
    // Many pieces of uneven sizes, as from successive socket reads.
    masked.copy(pieces);
    let pos = 0;
    let keyOffset = 0;
    for (const size of [1, 7, 64, 3, 100, 2, 123]) {
      applyMask(pieces, pos, pos + size, KEY, keyOffset);
      keyOffset = (keyOffset + size) & 3;
      pos += size;
    }
    assert.equal(pos, length);
    assert.ok(pieces.equals(whole));
  });

  it('§5.3: masking twice restores the payload (XOR is its own inverse)', () => {
    for (const length of [0, 1, 5, 63, 64, 65, 1000, 70_000]) {
      const original = pattern(length);
      const buf = Buffer.from(original);
      applyMask(buf, 0, length, KEY, 1);
      if (length >= 8) assert.ok(!buf.equals(original));
      applyMask(buf, 0, length, KEY, 1);
      assert.ok(buf.equals(original), `length ${length}`);
    }
  });

  it('§5.3: works in place on a slice with an odd byteOffset of a larger ArrayBuffer', () => {
    const backing = new ArrayBuffer(70_001);
    const whole = new Uint8Array(backing);
    whole.set(pattern(backing.byteLength));
    const before = Buffer.from(whole);
    const slice = Buffer.from(backing, 13, 65_537);
    assert.equal(slice.byteOffset % 2, 1);
    applyMask(slice, 3, slice.length - 5, KEY, 2);
    const expected = Buffer.from(before);
    referenceMask(expected, 13 + 3, 13 + slice.length - 5, KEY_BYTES, 2);
    assert.ok(Buffer.from(backing).equals(expected));
  });

  it('§5.3: alternates between different ArrayBuffers (the cached lane view must follow)', () => {
    const a = pattern(4096);
    const b = Buffer.from(new Uint8Array(8192).fill(0x55).buffer, 8, 4096);
    const expectedA = Buffer.from(a);
    const expectedB = Buffer.from(b);
    for (let round = 0; round < 3; round++) {
      applyMask(a, 1, 4000, KEY, round & 3);
      referenceMask(expectedA, 1, 4000, KEY_BYTES, round & 3);
      applyMask(b, 0, 4096, KEY, 0);
      referenceMask(expectedB, 0, 4096, KEY_BYTES, 0);
    }
    assert.ok(a.equals(expectedA));
    assert.ok(b.equals(expectedB));
  });

  it('§5.3: a range ending in the last, partial 8-byte lane of an ArrayBuffer', () => {
    for (const size of [1001, 1003, 1006, 1007]) {
      const backing = new ArrayBuffer(size);
      const buf = new Uint8Array(backing);
      buf.set(pattern(size));
      for (const start of [0, 3, 8, 900]) {
        const expected = Buffer.from(buf);
        applyMask(buf, start, size, KEY, 1);
        referenceMask(expected, start, size, KEY_BYTES, 1);
        assert.ok(expected.equals(buf), `size ${size}, start ${start}`);
      }
    }
  });

  it('§5.3: works on a SharedArrayBuffer (partial lanes are done byte by byte there)', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4096));
    shared.set(pattern(4096));
    const expected = Buffer.from(shared);
    applyMask(shared, 5, 4093, KEY, 3);
    referenceMask(expected, 5, 4093, KEY_BYTES, 3);
    assert.ok(expected.equals(shared));
  });

  it('§5.3: follows a length-tracking view of a resizable ArrayBuffer as it grows', () => {
    // Resizable ArrayBuffers are not in the ES2022 lib typings, hence the cast.
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(length: number): void;
    };
    const backing = new Resizable(512, { maxByteLength: 8192 });
    const view = new Uint8Array(backing); // no length: tracks the buffer's length
    view.set(pattern(512));
    applyMask(view, 1, 500, KEY, 0);
    backing.resize(8192);
    view.set(pattern(8192));
    const expected = Buffer.from(view);
    applyMask(view, 7, 8190, KEY, 2);
    referenceMask(expected, 7, 8190, KEY_BYTES, 2);
    assert.ok(expected.equals(view));
  });

  it('§5.3: the example frame of §5.7 ("Hello", key 37 fa 21 3d)', () => {
    const frame = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    applyMask(frame, 6, 11, readMaskKey(frame, 2), 0);
    assert.equal(frame.subarray(6).toString(), 'Hello');
  });
});
