/**
 * UTF-8 validation (RFC 3629 §3–4) for text messages (RFC 6455 §8.1: invalid UTF-8 fails the
 * connection with 1007) and close reasons (§5.5.1).
 *
 * Well-formed UTF-8, per RFC 3629 §4 (also Unicode Table 3-7):
 *
 *   00..7F
 *   C2..DF  80..BF
 *   E0      A0..BF  80..BF          (E0 80..9F would be an overlong 3-byte form)
 *   E1..EC  80..BF  80..BF
 *   ED      80..9F  80..BF          (ED A0..BF would encode a surrogate, U+D800..DFFF)
 *   EE..EF  80..BF  80..BF
 *   F0      90..BF  80..BF  80..BF  (F0 80..8F would be an overlong 4-byte form)
 *   F1..F3  80..BF  80..BF  80..BF
 *   F4      80..8F  80..BF  80..BF  (F4 90+ would be above U+10FFFF)
 *
 * C0, C1 and F5..FF never appear. Only the byte after the lead byte has a narrowed range; every
 * later one is 80..BF.
 *
 * Speed, measured with bench/utf8.ts on Node 20:
 * - Node's `buffer.isUtf8` (simdutf, in C++) is far faster per byte than any JS loop (tens of
 *   GB/s), but a call costs ~60 ns, plus ~25 ns for the view it needs of a range. So it takes
 *   long messages, and the pure decoder below takes short ones, and everything on a runtime
 *   without `isUtf8`.
 * - In JS, a typed-array element read costs about a nanosecond on V8 11, so the decoder skips
 *   ASCII (most text, and all of JSON's syntax) 8 bytes per read through 64-bit lanes over the
 *   same memory, like mask.ts does (lanes.ts).
 */
import * as nodeBuffer from 'node:buffer';
import { LaneCache } from './lanes.js';

/** The sticky "invalid" state of {@link utf8Step}. */
export const UTF8_REJECT = -1;

/**
 * Where `isUtf8` (with the view it needs) starts to beat the pure decoder depends on the text:
 * from ~48 B on text with many non-ASCII characters (the decoder runs at ~0.5 GB/s there), but
 * only from ~400 B on ASCII (lanes reach 3–8 GB/s). So below NATIVE_THRESHOLD the pure decoder
 * does it all; below ASCII_NATIVE_THRESHOLD it runs through the ASCII, and at the first
 * non-ASCII character hands the rest to `isUtf8` if NATIVE_REST bytes or more remain; from
 * there on `isUtf8` does it all.
 */
const NATIVE_THRESHOLD = 64;
const ASCII_NATIVE_THRESHOLD = 384;
const NATIVE_REST = 48;

/** ASCII runs shorter than this are checked byte by byte: not worth the lane setup. */
const LANE_MIN = 16;

/**
 * Lanes for a Uint8Array other than the last one seen (slow getters, maybe a new view) only from
 * here, or when it is seen twice in a row (see LaneCache.worthLanes).
 */
const COLD_LANE_MIN = 256;

type Utf8Validator = (input: Uint8Array) => boolean;

/** `buffer.isUtf8` (Node ≥ 18.14), or undefined on a runtime that lacks it. */
const nativeIsUtf8: Utf8Validator | undefined = typeof nodeBuffer.isUtf8 === 'function' ? nodeBuffer.isUtf8 : undefined;

/** The high bit of each byte of a lane: a lane is all ASCII iff `lane & HIGH_BITS` is 0. */
const HIGH_BITS = 0x8080808080808080n;
/**
 * For the lanes at either end of a range: HIGH_FROM[r] has the high bits of lane bytes r..7,
 * HIGH_UPTO[k] those of bytes 0..k (lanes are little-endian: byte n is bits 8n..8n+7). Bytes
 * outside the range are read along with the lane but masked out of the test.
 */
const HIGH_FROM = new BigUint64Array(8);
const HIGH_UPTO = new BigUint64Array(8);
for (let n = 0; n < 8; n++) {
  HIGH_FROM[n] = BigInt.asUintN(64, HIGH_BITS << BigInt(8 * n));
  HIGH_UPTO[n] = HIGH_BITS >> BigInt(8 * (7 - n));
}

const cache = new LaneCache();

/** The index of the first byte ≥ 0x80 in `buf[i..end)`, or `end`. */
function skipAscii(buf: Uint8Array, i: number, end: number): number {
  const length = end - i;
  if (length >= LANE_MIN && cache.worthLanes(buf, length, COLD_LANE_MIN)) {
    if (buf !== cache.view) cache.pointAt(buf);
    const base = cache.base;
    // The lanes holding the first and the last byte; they differ, as LANE_MIN > 8.
    const first = (base + i) >>> 3;
    const last = (base + end - 1) >>> 3;
    // Only a length-tracking view of a resizable ArrayBuffer that grew can outrun the cached view.
    if (last >= cache.laneCount) cache.pointAt(buf);
    // Lane indexes use 32-bit shifts, so addresses past 4 GiB are left to the byte loop; so is
    // the last lane of an ArrayBuffer whose length is not a multiple of 8 (it is not in the view).
    if (base + end <= 0xffffffff && last < cache.laneCount) {
      const lanes = cache.lanes;
      let j = first;
      // asUintN(64) lets TurboFan keep these values in registers; without it each operation
      // would allocate a BigInt (~30× slower).
      if (BigInt.asUintN(64, lanes[j]! & HIGH_FROM[(base + i) & 7]!) === 0n) {
        for (j++; j + 4 <= last; j += 4) {
          if (BigInt.asUintN(64, (lanes[j]! | lanes[j + 1]! | lanes[j + 2]! | lanes[j + 3]!) & HIGH_BITS) !== 0n) break;
        }
        while (j < last && BigInt.asUintN(64, lanes[j]! & HIGH_BITS) === 0n) j++;
        if (j === last && BigInt.asUintN(64, lanes[last]! & HIGH_UPTO[(base + end - 1) & 7]!) === 0n) {
          cache.releaseHuge();
          return end;
        }
        // Lane j holds a non-ASCII byte in the range: the byte loop below finds which.
        i = j * 8 - base;
      }
      cache.releaseHuge();
    }
  }
  while (i < end && buf[i]! < 0x80) i++;
  return i;
}

/*
 * A state of the incremental validator is 0 at a character boundary, UTF8_REJECT once invalid,
 * and otherwise packs what the rest of the current sequence must be, so that it fits a plain
 * small-integer field of a connection object:
 *
 *   bits 0..7   lowest allowed value of the next byte
 *   bits 8..15  highest allowed value of the next byte
 *   bits 16..17 bytes still missing (1..3)
 */
const ANY_CONTINUATION = 0x80 | (0xbf << 8);

/** The state after lead byte `b` (≥ 0x80), or UTF8_REJECT if `b` cannot start a sequence. */
function stateAfterLead(b: number): number {
  if (b < 0xc2) return UTF8_REJECT; // 80..BF: stray continuation; C0, C1: overlong 2-byte forms
  if (b < 0xe0) return ANY_CONTINUATION | (1 << 16);
  if (b < 0xf0) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return lo | (hi << 8) | (2 << 16);
  }
  if (b < 0xf5) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return lo | (hi << 8) | (3 << 16);
  }
  return UTF8_REJECT; // F5..FF: above U+10FFFF, or not UTF-8 at all
}

/**
 * Byte-at-a-time state machine: used only for the few bytes around a fragment boundary, where
 * the fast decoder cannot see a whole sequence.
 */
function stepBytes(state: number, buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (state === 0) {
      if (b >= 0x80) {
        state = stateAfterLead(b);
        if (state === UTF8_REJECT) return UTF8_REJECT;
      }
    } else {
      if (b < (state & 0xff) || b > ((state >>> 8) & 0xff)) return UTF8_REJECT;
      const missing = (state >>> 16) - 1;
      state = missing === 0 ? 0 : ANY_CONTINUATION | (missing << 16);
    }
  }
  return state;
}

/**
 * The pure decoder: 0 if `buf[start..end)` is complete, valid UTF-8; UTF8_REJECT if invalid;
 * otherwise the state of the valid but unfinished sequence it ends with. If it meets a
 * non-ASCII byte at an index up to `nativeUpTo` (-1: never), it stops there and returns
 * `-2 - index`, for the caller to hand the rest to `isUtf8`. (Calling `isUtf8` from in here, or
 * comparing with a non-integer such as Infinity, made V8 compile the loop 10–15% slower.)
 */
function scan(buf: Uint8Array, start: number, end: number, nativeUpTo: number): number {
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      // ASCII. A short run (punctuation between words of another script) is checked byte by
      // byte; once a run reaches 8 bytes it is likely long, and lanes take over.
      const probe = Math.min(i + 8, end);
      i++;
      while (i < probe && buf[i]! < 0x80) i++;
      if (i === probe && end - i >= LANE_MIN) i = skipAscii(buf, i, end);
      continue;
    }
    if (i <= nativeUpTo) return -2 - i;
    if (b < 0xe0) {
      if (b < 0xc2) return UTF8_REJECT;
      if (i + 2 > end) return stepBytes(0, buf, i, end);
      if ((buf[i + 1]! & 0xc0) !== 0x80) return UTF8_REJECT;
      i += 2;
    } else if (b < 0xf0) {
      if (i + 3 > end) return stepBytes(0, buf, i, end);
      const b1 = buf[i + 1]!;
      const b2 = buf[i + 2]!;
      // Decoding and range-checking the scalar value rejects overlongs (< U+0800) and
      // surrogates (U+D800..DFFF) with one comparison each, instead of a table per lead byte.
      const cp = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      if (((b1 & 0xc0) | ((b2 & 0xc0) >>> 2)) !== 0xa0 || cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) {
        return UTF8_REJECT;
      }
      i += 3;
    } else {
      if (i + 4 > end) return stepBytes(0, buf, i, end);
      const b1 = buf[i + 1]!;
      const b2 = buf[i + 2]!;
      const b3 = buf[i + 3]!;
      // b < 0xf8 keeps F8..FF out: their `b & 0x07` would alias a valid lead byte.
      const cp = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      if (
        b >= 0xf8 ||
        ((b1 & 0xc0) | ((b2 & 0xc0) >>> 2) | ((b3 & 0xc0) >>> 4)) !== 0xa8 ||
        cp < 0x10000 ||
        cp > 0x10ffff
      ) {
        return UTF8_REJECT;
      }
      i += 4;
    }
  }
  return 0;
}

/** `buf[start..end)` as a Uint8Array of its own, for an API that takes a whole view. */
function view(buf: Uint8Array, start: number, end: number): Uint8Array {
  if (start === 0 && end === buf.length) return buf;
  // A plain Uint8Array is several times cheaper to make than Buffer#subarray, and the cache
  // spares the slow `buffer`/`byteOffset` getters when `buf` is the read slab again.
  if (buf !== cache.view) cache.pointAt(buf);
  const result = new Uint8Array(cache.buffer, cache.base + start, end - start);
  cache.releaseHuge();
  return result;
}

/**
 * The pure-JS validator, whatever the runtime: true iff `buf[start..end)` is well-formed UTF-8.
 * {@link isValidUtf8} is faster on Node for long inputs; this is exported for tests and benchmarks.
 */
export function isValidUtf8Js(buf: Uint8Array, start: number, end: number): boolean {
  return scan(buf, start, end, -1) === 0;
}

/** True iff `buf[start..end)` is well-formed UTF-8 (RFC 3629), e.g. a whole text message. */
export function isValidUtf8(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (nativeIsUtf8 === undefined || length < NATIVE_THRESHOLD) return scan(buf, start, end, -1) === 0;
  if (length < ASCII_NATIVE_THRESHOLD) {
    const result = scan(buf, start, end, end - NATIVE_REST);
    if (result >= UTF8_REJECT) return result === 0;
    start = -2 - result;
  }
  return nativeIsUtf8(view(buf, start, end));
}

/**
 * Incremental validation of a text message that arrives in pieces split at any byte (fragments,
 * or several reads of one frame). Start with state 0 and feed each piece in order; the message is
 * valid iff the final state is 0. A positive state means "inside a multi-byte character";
 * {@link UTF8_REJECT} means invalid and stays so. States are small integers: no allocation.
 */
export function utf8Step(state: number, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  if (state !== 0) {
    if (state === UTF8_REJECT) return UTF8_REJECT;
    // Finish the character that the previous piece left open, at most three bytes.
    while (state > 0 && i < end) {
      state = stepBytes(state, buf, i, i + 1);
      i++;
    }
    if (state !== 0) return state;
  }
  if (nativeIsUtf8 === undefined || end - i < NATIVE_THRESHOLD) return scan(buf, i, end, -1);

  // isUtf8 rejects a piece that ends inside a character, so hand it only the part up to the
  // start of an unfinished last sequence, and run the state machine on that sequence's bytes.
  let cut = end;
  for (let k = 1; k <= 3; k++) {
    const b = buf[end - k]!;
    if (b < 0x80) break;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (length > k) cut = end - k;
      break;
    }
  }
  if (!isValidUtf8(buf, i, cut)) return UTF8_REJECT;
  return cut === end ? 0 : stepBytes(0, buf, cut, end);
}
