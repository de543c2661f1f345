import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { isValidUtf8, isValidUtf8Js, utf8Step, UTF8_REJECT } from '../../src/protocol/utf8.js';
import { prng } from '../support/prng.js';

const hex = (bytes: readonly number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Valid sequences, after the Autobahn TestSuite's case group 6 (UTF-8 handling). */
const VALID: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['empty', []],
  ['U+0000', [0x00]],
  ['U+007F', [0x7f]],
  ['U+0080', [0xc2, 0x80]],
  ['U+07FF', [0xdf, 0xbf]],
  ['U+0800', [0xe0, 0xa0, 0x80]],
  ['U+D7FF (last before the surrogates)', [0xed, 0x9f, 0xbf]],
  ['U+E000 (first after the surrogates)', [0xee, 0x80, 0x80]],
  ['U+FFFD', [0xef, 0xbf, 0xbd]],
  ['U+FFFE (noncharacter)', [0xef, 0xbf, 0xbe]],
  ['U+FFFF (noncharacter)', [0xef, 0xbf, 0xbf]],
  ['U+10000', [0xf0, 0x90, 0x80, 0x80]],
  ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
  ['U+FDD0 (noncharacter)', [0xef, 0xb7, 0x90]],
  ['U+1FFFF (noncharacter)', [0xf0, 0x9f, 0xbf, 0xbf]],
  ['"κόσμε" (6.1.1)', [...Buffer.from('κόσμε')]],
  ['"Hello-µ@ßöäüàá-UTF-8!!" (6.2.x)', [...Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')]],
  ['mixed scripts and emoji', [...Buffer.from('WebSocket — 你好, мир, γειά, שלום, 😀👍🏽, 𝄞 done')]],
  ['ASCII longer than a word', [...Buffer.from('The quick brown fox jumps over the lazy dog 0123456789')]],
];

/** Invalid sequences: each must fail the connection with 1007 (RFC 6455 §8.1). */
const INVALID: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['U+D800 (first high surrogate)', [0xed, 0xa0, 0x80]],
  ['U+DBFF', [0xed, 0xaf, 0xbf]],
  ['U+DC00', [0xed, 0xb0, 0x80]],
  ['U+DFFF (last low surrogate)', [0xed, 0xbf, 0xbf]],
  ['a surrogate pair encoded as two 3-byte sequences (CESU-8)', [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]],
  ['U+110000', [0xf4, 0x90, 0x80, 0x80]],
  ['F5 lead (above U+10FFFF)', [0xf5, 0x80, 0x80, 0x80]],
  ['F7 BF BF BF (U+1FFFFF)', [0xf7, 0xbf, 0xbf, 0xbf]],
  ['overlong "/" in 2 bytes', [0xc0, 0xaf]],
  ['overlong "/" in 3 bytes', [0xe0, 0x80, 0xaf]],
  ['overlong "/" in 4 bytes', [0xf0, 0x80, 0x80, 0xaf]],
  ['overlong U+0000 in 2 bytes', [0xc0, 0x80]],
  ['overlong U+007F in 2 bytes (C1 BF)', [0xc1, 0xbf]],
  ['overlong U+07FF in 3 bytes', [0xe0, 0x9f, 0xbf]],
  ['overlong U+FFFF in 4 bytes', [0xf0, 0x8f, 0xbf, 0xbf]],
  ['5-byte form of "/"', [0xf8, 0x80, 0x80, 0x80, 0xaf]],
  ['6-byte form of "/"', [0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf]],
  ['5-byte form of U+3FFFFFF', [0xfb, 0xbf, 0xbf, 0xbf, 0xbf]],
  ['6-byte form of U+7FFFFFFF', [0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf]],
  ['FE', [0xfe]],
  ['FF', [0xff]],
  ['lone continuation 80', [0x80]],
  ['lone continuation BF', [0xbf]],
  ['two continuations', [0x80, 0xbf]],
  ['continuation after ASCII', [0x41, 0x80, 0x42]],
  ['continuation after a complete 2-byte sequence', [0xc2, 0x80, 0x80]],
  ['2-byte lead then ASCII', [0xc2, 0x41]],
  ['3-byte lead, one continuation, then ASCII', [0xe1, 0x80, 0x41]],
  ['4-byte lead then 3-byte lead', [0xf0, 0x90, 0xe1, 0x80, 0x80]],
  ['truncated 2-byte at end', [0x41, 0xc2]],
  ['truncated 3-byte at end (1 of 3)', [0xe1]],
  ['truncated 3-byte at end (2 of 3)', [0x41, 0xe1, 0x80]],
  ['truncated 4-byte at end (3 of 4)', [0xf0, 0x90, 0x80]],
  ['truncated U+10FFFF at end', [0xf4, 0x8f, 0xbf]],
  [
    '"κόσμε" followed by "edited" (6.3.1: ED A0 80)',
    [...Buffer.from('κόσμε'), 0xed, 0xa0, 0x80, ...Buffer.from('edited')],
  ],
  ['invalid byte far into a long ASCII run', [...Buffer.alloc(200, 0x61), 0xff, ...Buffer.alloc(50, 0x62)]],
  ['surrogate far into a long run', [...Buffer.from('x'.repeat(300)), 0xed, 0xb0, 0x80]],
  ['truncated at the end of a long run', [...Buffer.from('y'.repeat(300)), 0xf0, 0x9f, 0x98]],
];

/** Every validator in this module, as a verdict on a whole byte array. */
function verdicts(bytes: Uint8Array): { whole: boolean; js: boolean; step: boolean } {
  return {
    whole: isValidUtf8(bytes, 0, bytes.length),
    js: isValidUtf8Js(bytes, 0, bytes.length),
    step: utf8Step(0, bytes, 0, bytes.length) === 0,
  };
}

/** Feeds `bytes` to utf8Step in pieces cut at `cuts` (ascending), inside a larger buffer. */
function stepInPieces(bytes: Uint8Array, cuts: readonly number[]): number {
  // An offset inside a bigger buffer checks that start/end are honoured, not just 0..length.
  const host = new Uint8Array(bytes.length + 7).fill(0xff);
  host.set(bytes, 3);
  let state = 0;
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    state = utf8Step(state, host, 3 + from, 3 + to);
    from = to;
  }
  return state;
}

describe('UTF-8 validation (RFC 3629; RFC 6455 §8.1, §5.5.1)', () => {
  for (const [name, bytes] of VALID) {
    it(`§8.1 accepts ${name} [${hex(bytes.slice(0, 8))}${bytes.length > 8 ? ' …' : ''}]`, () => {
      const buf = Uint8Array.from(bytes);
      assert.equal(isUtf8(buf), true, 'oracle');
      assert.deepEqual(verdicts(buf), { whole: true, js: true, step: true });
    });
  }

  for (const [name, bytes] of INVALID) {
    it(`§8.1 rejects ${name} [${hex(bytes.slice(-8))}]`, () => {
      const buf = Uint8Array.from(bytes);
      assert.equal(isUtf8(buf), false, 'oracle');
      assert.deepEqual(verdicts(buf), { whole: false, js: false, step: false });
    });
  }

  it('§8.1: every valid and invalid case split at every byte into 2 pieces gives the same verdict', () => {
    for (const [name, bytes] of [...VALID, ...INVALID]) {
      const buf = Uint8Array.from(bytes);
      const expected = isUtf8(buf);
      for (let cut = 0; cut <= buf.length; cut++) {
        const state = stepInPieces(buf, [cut]);
        assert.equal(state === 0, expected, `${name}, split at ${cut}`);
        if (!expected) assert.notEqual(state, 0);
      }
    }
  });

  it('§8.1: valid and invalid cases split into 3 pieces at every pair of points give the same verdict', () => {
    for (const [name, bytes] of [...VALID, ...INVALID]) {
      const buf = Uint8Array.from(bytes);
      const expected = isUtf8(buf);
      // Long cases only at a sample of points: all pairs of 300 bytes is needlessly many.
      const stride = buf.length > 40 ? 7 : 1;
      for (let a = 0; a <= buf.length; a += stride) {
        for (let b = a; b <= buf.length; b += stride) {
          assert.equal(stepInPieces(buf, [a, b]) === 0, expected, `${name}, split at ${a} and ${b}`);
        }
      }
    }
  });

  it('§8.1: a long message whose pieces take the native path agrees at every split near a character', () => {
    // 400+ bytes so both sides of most splits are over the native-validator threshold.
    const text = Buffer.from('a'.repeat(200) + '€😀ß' + 'b'.repeat(200) + '😀');
    const broken = Buffer.concat([text.subarray(0, 203), Buffer.from([0xed, 0xa0, 0x80]), text.subarray(203)]);
    for (const [buf, expected] of [
      [text, true],
      [broken, false],
    ] as const) {
      for (let cut = 190; cut <= 220; cut++) {
        assert.equal(stepInPieces(buf, [cut]) === 0, expected, `split at ${cut}`);
      }
      for (let cut = buf.length - 6; cut <= buf.length; cut++) {
        assert.equal(stepInPieces(buf, [cut]) === 0, expected, `split at ${cut}`);
      }
    }
  });

  it('§8.1: the 8-byte ASCII lanes find a non-ASCII byte at every position and alignment, ignoring bytes outside the range', () => {
    // One buffer reused for every case, as the read slab is: the lane path (cached view) runs.
    // Everything outside the range is 0xFF, which would fail the test if the lanes' partial
    // masks let it in.
    const slab = new Uint8Array(4096).fill(0xff);
    for (let start = 0; start < 8; start++) {
      for (let length = 16; length <= 90; length++) {
        const end = start + length;
        slab.fill(0x61, start, end);
        assert.equal(isValidUtf8Js(slab, start, end), true, `ASCII at ${start}, length ${length}`);
        assert.equal(isValidUtf8Js(slab, start, end), true, 'again, now through the cached lanes');
        for (let p = start; p < end; p++) {
          for (const bad of [0x80, 0xff]) {
            slab[p] = bad;
            if (
              isValidUtf8Js(slab, start, end) ||
              isValidUtf8(slab, start, end) ||
              utf8Step(0, slab, start, end) === 0
            ) {
              assert.fail(`0x${bad.toString(16)} at ${p - start} missed (start ${start}, length ${length})`);
            }
          }
          slab[p] = 0x61;
        }
        slab.fill(0xff, start, end);
      }
    }
  });

  it('§8.1: medium messages that switch from the JS decoder to isUtf8 mid-way keep the right verdict', () => {
    const slab = new Uint8Array(8192);
    for (const length of [64, 65, 100, 200, 383, 384, 385, 600]) {
      for (const prefix of [0, 7, 30, length - 60, length - 40, length - 10]) {
        if (prefix < 0) continue;
        // ASCII up to `prefix`, then 2-byte characters (and maybe one ASCII byte) to fill `length`.
        const text = Buffer.concat([Buffer.alloc(prefix, 0x41), Buffer.from('é'.repeat(length))]).subarray(0, length);
        const complete = (text[length - 1]! & 0xc0) !== 0xc0 && isUtf8(text);
        slab.set(text, 5);
        assert.equal(isValidUtf8(slab, 5, 5 + length), complete, `length ${length}, prefix ${prefix}`);
        // A surrogate late in the rest must still be caught, whichever validator gets it.
        if (length - prefix > 12) {
          slab.set([0xed, 0xa0, 0x80], 5 + length - 4);
          assert.equal(isValidUtf8(slab, 5, 5 + length), false, `surrogate: length ${length}, prefix ${prefix}`);
        }
      }
    }
  });

  it('§8.1: UTF8_REJECT is sticky and a truncated character stays pending', () => {
    assert.equal(utf8Step(UTF8_REJECT, Buffer.from('fine'), 0, 4), UTF8_REJECT);
    assert.equal(utf8Step(0, Buffer.from([0xc0]), 0, 1), UTF8_REJECT);
    const pending = utf8Step(0, Buffer.from([0xf0, 0x9f]), 0, 2);
    assert.ok(pending > 0 && Number.isInteger(pending) && pending < 2 ** 30, 'a positive small integer');
    assert.equal(utf8Step(pending, Buffer.from([0x98, 0x80]), 0, 2), 0);
    assert.equal(utf8Step(pending, Buffer.from([0x98]), 0, 1) > 0, true);
    assert.equal(utf8Step(pending, Buffer.from([0x41]), 0, 1), UTF8_REJECT);
    // An empty piece changes nothing.
    assert.equal(utf8Step(pending, Buffer.alloc(0), 0, 0), pending);
  });

  it('§5.5.1: validates a sub-range of a buffer without looking outside it', () => {
    const buf = Buffer.from([0xff, ...Buffer.from('reason: ok ✓'), 0xff]);
    assert.equal(isValidUtf8(buf, 1, buf.length - 1), true);
    assert.equal(isValidUtf8(buf, 0, buf.length - 1), false);
    assert.equal(isValidUtf8(buf, 1, buf.length), false);
    const long = Buffer.from([0xff, ...Buffer.from('é'.repeat(200)), 0xff]);
    assert.equal(isValidUtf8(long, 1, long.length - 1), true);
    assert.equal(isValidUtf8(long, 2, long.length - 1), false, 'starts on a continuation byte');
    assert.equal(isValidUtf8(long, 1, long.length), false);
  });

  it('random byte arrays (seeded) agree with node:buffer isUtf8 for every API', () => {
    const random = prng(0x5eed);
    const leads = [
      0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
    ];
    let valid = 0;
    for (let n = 0; n < 6000; n++) {
      const length = n < 3000 ? Math.floor(random() * 12) : Math.floor(random() * 400);
      const buf = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        // Mostly well-formed text, with a few random bytes and edge-case leads mixed in, so that
        // both verdicts are common.
        const r = random();
        if (r < 0.45) {
          buf[i] = 0x20 + Math.floor(random() * 0x5f);
        } else if (r < 0.85) {
          const cp = [0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff][Math.floor(random() * 8)]!;
          const encoded = Buffer.from(String.fromCodePoint(cp));
          if (i + encoded.length <= length) {
            buf.set(encoded, i);
            i += encoded.length - 1;
          }
        } else if (r < 0.93) {
          buf[i] = leads[Math.floor(random() * leads.length)]!;
        } else {
          buf[i] = Math.floor(random() * 256);
        }
      }
      const expected = isUtf8(buf);
      if (expected) valid++;
      assert.deepEqual(verdicts(buf), { whole: expected, js: expected, step: expected }, hex([...buf]));
      const cut = Math.floor(random() * (length + 1));
      assert.equal(stepInPieces(buf, [cut]) === 0, expected, `${hex([...buf])} split at ${cut}`);
    }
    // The generator must exercise both outcomes, or the test proves little.
    assert.ok(valid > 1000 && valid < 5000, `valid: ${valid}`);
  });
});
