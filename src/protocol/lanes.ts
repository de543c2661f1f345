/**
 * 64-bit lanes over a payload's memory: a BigUint64Array view of the whole ArrayBuffer behind a
 * Uint8Array, for the two loops that touch every payload byte (masking, mask.ts; the ASCII skip
 * of UTF-8 validation, utf8.ts). On V8 ≥ 11 optimised code keeps 64-bit BigInt arithmetic in
 * registers, so 8 bytes per element access beat 1 byte per access by far (a JS typed-array
 * access costs about 1 ns, as every one is checked).
 *
 * Reaching that memory is the costly part for mid sizes: on V8 11 (Node 20) the `buffer` and
 * `byteOffset` getters are calls of ~15–30 ns each, and a new typed-array view is ~50 ns, more
 * than handling a few hundred bytes. So a {@link LaneCache} keeps the view, and the byteOffset of
 * the last Uint8Array seen: the receiver works in place inside the one shared read slab (or a
 * pooled buffer), so the same object comes back call after call and a hit costs one compare.
 *
 * Each loop owns one cache (a module-level const): its fields are plain data properties of one
 * object shape (no getters, which would cost a call each on V8 11), so a hit is a compare and a
 * few field loads. bench:unmask, bench:utf8 and bench:decode measured this against the
 * module-level `let`s that each loop had before: no slower.
 */

/**
 * A view over an ArrayBuffer larger than this is not kept after the call, so that one huge,
 * otherwise dead message buffer is not held alive by a cache. Handling that much costs far more
 * than making a view.
 */
const CACHE_MAX_BYTES = 16 * 1024 * 1024;

const NO_LANES: BigUint64Array<ArrayBufferLike> = new BigUint64Array(0);
const NO_BUFFER: ArrayBufferLike = new ArrayBuffer(0);

/** The last Uint8Array a loop saw, its byteOffset and ArrayBuffer, and a lane view over that whole buffer. */
export class LaneCache {
  /** The Uint8Array the fields below describe; a hit is `buf === view`. */
  view: Uint8Array | null = null;
  /** `view.byteOffset`: lane j holds bytes `8j - base .. 8j - base + 7` of `view`. */
  base = 0;
  buffer: ArrayBufferLike = NO_BUFFER;
  /** Lanes are 8-byte aligned in `buffer`; the last lane of a buffer whose length is not a multiple of 8 is not in the view. */
  lanes: BigUint64Array<ArrayBufferLike> = NO_LANES;
  laneCount = 0;
  /**
   * Lanes below this index may be rewritten whole when a range covers only part of them. Their
   * bytes outside the range are written back unchanged: invisible to single-threaded JS, but in a
   * SharedArrayBuffer that could undo another thread's concurrent write, so there it is 0 (only
   * mask.ts writes lanes; utf8.ts only reads them).
   */
  partialLanes = 0;
  /**
   * The last Uint8Array left to the byte loop only for being new. Only compared, but it does keep
   * that one buffer reachable until the next such miss.
   */
  lastColdView: Uint8Array | null = null;

  /**
   * Should a range of `length` bytes of `buf` go through lanes? Always for the cached buffer. For
   * another one the lane path must first read the slow getters and maybe make a view, so only
   * from `coldMin` bytes on, or when it is seen twice in a row: it is then likely to keep coming
   * (the read slab after a large message in a pooled buffer took the cache), and would
   * otherwise never win the cache back.
   */
  worthLanes(buf: Uint8Array, length: number, coldMin: number): boolean {
    if (buf === this.view || length >= coldMin || buf === this.lastColdView) return true;
    this.lastColdView = buf;
    return false;
  }

  /** Points the cache at `buf` (a miss: the slow getters are read here, and only here). */
  pointAt(buf: Uint8Array): void {
    const ab = buf.buffer;
    this.base = buf.byteOffset;
    // A resizable ArrayBuffer may have grown since its view was made: then make a new one.
    if (ab !== this.buffer || this.laneCount !== Math.floor(ab.byteLength / 8)) {
      const lanes = new BigUint64Array(ab, 0, Math.floor(ab.byteLength / 8));
      this.lanes = lanes;
      this.laneCount = lanes.length;
      this.buffer = ab;
      const shared = typeof SharedArrayBuffer !== 'undefined' && ab instanceof SharedArrayBuffer;
      this.partialLanes = shared ? 0 : lanes.length;
    }
    this.view = buf;
    this.lastColdView = null;
  }

  /** Drops a cached view of a huge ArrayBuffer once the call is done with it. */
  releaseHuge(): void {
    if (this.laneCount > CACHE_MAX_BYTES / 8) {
      this.view = null;
      this.buffer = NO_BUFFER;
      this.lanes = NO_LANES;
      this.laneCount = 0;
      this.partialLanes = 0;
    }
  }
}
