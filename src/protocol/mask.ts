import { LaneCache } from './lanes.js';

/**
 * Payload masking, RFC 6455 §5.3: byte i of the payload is XORed with byte (i mod 4) of the
 * 4-byte masking key. Unmasking a client frame and masking a frame we send are the same operation,
 * since XOR is its own inverse.
 *
 * This is one of the two loops that touch every payload byte, so it is written for speed:
 * - Small payloads (the common chat-sized message) take a plain byte loop that allocates nothing.
 * - Larger ones are XORed 8 bytes at a time through 64-bit lanes over the same memory (lanes.ts),
 *   several times faster than 32-bit Int32Array lanes (see bench/unmask.ts). The lanes that the
 *   range covers only in part get one XOR with a key whose bytes outside the range are zero.
 * - A JS byte loop costs about 1 ns per byte on V8 11 (every typed-array access is checked), so
 *   the byte loop is only for small sizes and for the odd cases below.
 */

/**
 * Below this many bytes the byte loop wins: the lane path's fixed cost (view lookup, building the
 * 64-bit key, masking partial lanes) is not yet paid back. Measured with bench/unmask.ts: lanes
 * break even at 16 B and win by 1.3× at 32 B, 2× at 64 B.
 */
const LANE_THRESHOLD = 24;

/**
 * The same for a Uint8Array other than the last one seen, where the lane path must first read
 * the slow getters and make a view: ~100–150 ns more, paid back from about 160 B (a buffer seen
 * twice in a row takes the lanes anyway, see LaneCache.worthLanes).
 */
const COLD_LANE_THRESHOLD = 160;

const cache = new LaneCache();

/**
 * For a lane partly in the range: HEAD_BYTES[r] selects lane bytes r..7, TAIL_BYTES[t] bytes
 * 0..t-1 (lanes are little-endian: byte n is bits 8n..8n+7).
 */
const HEAD_BYTES = new BigUint64Array(8);
const TAIL_BYTES = new BigUint64Array(8);
for (let n = 0; n < 8; n++) {
  HEAD_BYTES[n] = BigInt.asUintN(64, -1n << BigInt(8 * n));
  TAIL_BYTES[n] = (1n << BigInt(8 * n)) - 1n;
}

/** The key rotated left by `keyOffset` bytes: its top byte is then key byte `keyOffset`. */
function rotateKey(key: number, keyOffset: number): number {
  // `& 3` also maps a negative offset to the right byte (-1 → 3).
  const shift = (keyOffset & 3) << 3;
  return shift === 0 ? key >>> 0 : ((key << shift) | (key >>> (32 - shift))) >>> 0;
}

/** XORs `buf[start..end)` with a key already rotated so that its top byte goes with `buf[start]`. */
function xorBytes(buf: Uint8Array, start: number, end: number, rotated: number): void {
  const k0 = rotated >>> 24;
  const k1 = (rotated >>> 16) & 0xff;
  const k2 = (rotated >>> 8) & 0xff;
  const k3 = rotated & 0xff;
  let i = start;
  // Unrolled by four so that each key byte is a constant in its slot: no `i & 3` per byte. Every
  // index is in [start, end), within `buf` (the callers' contract), hence the `!`s.
  for (const last = end - 3; i < last; i += 4) {
    buf[i]! ^= k0;
    buf[i + 1]! ^= k1;
    buf[i + 2]! ^= k2;
    buf[i + 3]! ^= k3;
  }
  if (i < end) {
    buf[i]! ^= k0;
    if (++i < end) {
      buf[i]! ^= k1;
      if (++i < end) buf[i]! ^= k2;
    }
  }
}

/**
 * XORs `buf[start..end)` in place with a masking key (RFC 6455 §5.3).
 *
 * @param key The four key bytes as a big-endian uint32, as decodeFrameHeader reports it.
 * @param keyOffset 0..3: which key byte goes with `buf[start]`. A payload that arrives in several
 *   reads is unmasked piece by piece: each call after the first passes
 *   `(previousKeyOffset + previousLength) & 3`.
 */
export function applyMask(buf: Uint8Array, start: number, end: number, key: number, keyOffset: number): void {
  const length = end - start;
  if (length >= LANE_THRESHOLD && cache.worthLanes(buf, length, COLD_LANE_THRESHOLD)) {
    maskLanes(buf, start, end, key, keyOffset);
  } else {
    xorBytes(buf, start, end, rotateKey(key, keyOffset));
  }
}

/** {@link applyMask} always by bytes: allocation-free at any size. Exported for benchmarks. */
export function maskBytes(buf: Uint8Array, start: number, end: number, key: number, keyOffset: number): void {
  xorBytes(buf, start, end, rotateKey(key, keyOffset));
}

/**
 * {@link applyMask} always through 64-bit lanes, whatever the length. Exported for benchmarks,
 * which use it to find LANE_THRESHOLD.
 */
export function maskLanes(buf: Uint8Array, start: number, end: number, key: number, keyOffset: number): void {
  if (buf !== cache.view) cache.pointAt(buf);
  const base = cache.base;
  // Lanes are indexed by aligned address / 8 in the whole ArrayBuffer. The lane holding the first
  // byte is `head`, from its byte `headSkip`; the lane holding the byte after the last is `tail`,
  // of which `tailKeep` bytes are in the range.
  const headSkip = (base + start) & 7;
  const tailKeep = (base + end) & 7;
  const head = (base + start) >>> 3;
  const tail = (base + end) >>> 3;
  // Only a length-tracking view over a resizable ArrayBuffer that grew can outrun the cached view.
  if (tail > cache.laneCount) cache.pointAt(buf);
  // The byte loop for a range inside one lane, and for an address past 4 GiB (possible in a huge
  // ArrayBuffer on newer V8), where the 32-bit shifts above would wrap.
  if (head === tail || base + end > 0xffffffff || tail > cache.laneCount) {
    xorBytes(buf, start, end, rotateKey(key, keyOffset));
    cache.releaseHuge();
    return;
  }

  // The key as it lines up with the lane grid: lane byte 0 sits `headSkip` bytes before `start`,
  // and since 8 is a multiple of 4, every lane starts on that same key byte. A lane loads its
  // bytes little-endian, so the big-endian key is byte-swapped, then repeated in both halves.
  const rotated = rotateKey(key, keyOffset - headSkip);
  const le = ((rotated >>> 24) | ((rotated >>> 8) & 0xff00) | ((rotated << 8) & 0xff0000) | (rotated << 24)) >>> 0;
  // asUintN(64) tells TurboFan the value fits 64 bits, so it keeps it in a register instead of
  // allocating a BigInt for each of these operations (~35 ns a call without it).
  const half = BigInt(le);
  const laneKey = BigInt.asUintN(64, (half << 32n) | half);
  const lanes = cache.lanes;

  // Whole lanes. V8 does not unroll loops, so it is done here: 16 lanes per iteration run ~40%
  // faster than 4 on large payloads, and the 4-lane loop keeps short remainders quick.
  // The `!`s: every index below is under `tail` (at most `cache.laneCount`, the length of `lanes`)
  // or checked against `cache.partialLanes`.
  let j = headSkip === 0 ? head : head + 1;
  for (const last = tail - 15; j < last; j += 16) {
    lanes[j]! ^= laneKey;
    lanes[j + 1]! ^= laneKey;
    lanes[j + 2]! ^= laneKey;
    lanes[j + 3]! ^= laneKey;
    lanes[j + 4]! ^= laneKey;
    lanes[j + 5]! ^= laneKey;
    lanes[j + 6]! ^= laneKey;
    lanes[j + 7]! ^= laneKey;
    lanes[j + 8]! ^= laneKey;
    lanes[j + 9]! ^= laneKey;
    lanes[j + 10]! ^= laneKey;
    lanes[j + 11]! ^= laneKey;
    lanes[j + 12]! ^= laneKey;
    lanes[j + 13]! ^= laneKey;
    lanes[j + 14]! ^= laneKey;
    lanes[j + 15]! ^= laneKey;
  }
  for (const last = tail - 3; j < last; j += 4) {
    lanes[j]! ^= laneKey;
    lanes[j + 1]! ^= laneKey;
    lanes[j + 2]! ^= laneKey;
    lanes[j + 3]! ^= laneKey;
  }
  for (; j < tail; j++) lanes[j]! ^= laneKey;

  // The partial lanes at either end, as one masked XOR each instead of up to 7 byte XORs (each
  // byte costs ~1 ns). They come after the loop: placed before it, they made V8 compile the loop
  // ~10% slower.
  if (headSkip !== 0) {
    if (head < cache.partialLanes) lanes[head]! ^= laneKey & HEAD_BYTES[headSkip]!;
    else xorBytes(buf, start, start + 8 - headSkip, rotateKey(rotated, headSkip));
  }
  if (tailKeep !== 0) {
    // The last lane of an ArrayBuffer whose length is not a multiple of 8 is not in the view.
    if (tail < cache.partialLanes) lanes[tail]! ^= laneKey & TAIL_BYTES[tailKeep]!;
    else xorBytes(buf, end - tailKeep, end, rotated);
  }
  cache.releaseHuge();
}
