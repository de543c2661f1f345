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
 * Whole messages go to Node's `buffer.isUtf8` (SIMD, in C++) when they are long enough to pay for
 * the call into C++; short ones, and every runtime without `isUtf8`, use the pure decoder below.
 */
import * as nodeBuffer from 'node:buffer';

/** The sticky "invalid" state of {@link utf8Step}. */
export const UTF8_REJECT = -1;

/**
 * Below this many bytes the pure-JS decoder beats `isUtf8`: the call into C++ (and the view it
 * needs) has a fixed cost of tens of nanoseconds. Measured with bench/utf8.ts.
 */
const NATIVE_THRESHOLD = 128;

type Utf8Validator = (input: Uint8Array) => boolean;

/** `buffer.isUtf8` (Node ≥ 18.14), or undefined on a runtime that lacks it. */
const nativeIsUtf8: Utf8Validator | undefined =
  typeof nodeBuffer.isUtf8 === 'function' ? nodeBuffer.isUtf8 : undefined;

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
 * otherwise the state of the valid but unfinished sequence it ends with.
 */
function scan(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      // ASCII: most text is long runs of it, so test four bytes per branch.
      i++;
      while (i + 4 <= end && ((buf[i]! | buf[i + 1]! | buf[i + 2]! | buf[i + 3]!) & 0x80) === 0) i += 4;
      continue;
    }
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
  // A plain Uint8Array is several times cheaper to make than Buffer#subarray.
  return start === 0 && end === buf.length ? buf : new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

/**
 * The pure-JS validator, whatever the runtime: true iff `buf[start..end)` is well-formed UTF-8.
 * {@link isValidUtf8} is faster on Node for long inputs; this is exported for tests and benchmarks.
 */
export function isValidUtf8Js(buf: Uint8Array, start: number, end: number): boolean {
  return scan(buf, start, end) === 0;
}

/** True iff `buf[start..end)` is well-formed UTF-8 (RFC 3629), e.g. a whole text message. */
export function isValidUtf8(buf: Uint8Array, start: number, end: number): boolean {
  if (nativeIsUtf8 !== undefined && end - start >= NATIVE_THRESHOLD) return nativeIsUtf8(view(buf, start, end));
  return scan(buf, start, end) === 0;
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
  if (nativeIsUtf8 === undefined || end - i < NATIVE_THRESHOLD) return scan(buf, i, end);

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
  if (!nativeIsUtf8(view(buf, i, cut))) return UTF8_REJECT;
  return cut === end ? 0 : stepBytes(0, buf, cut, end);
}
