/**
 * The few buffers larger than the pool's largest class (1 MiB) that it keeps
 * warm between large messages. A fresh 16 MiB buffer costs more than its
 * copy: 4,096 pages faulted in and zeroed by the kernel, given back to the
 * allocator when the garbage collector frees it, and external memory that
 * brings the next GC closer. A server echoing 16 MiB messages took two such
 * buffers per message (the gathered message, the rest of its answer the
 * kernel did not take at once); kept here, it takes none once warm.
 *
 * Bounded three ways by the pool (buffer-pool.ts): at most LARGE_KEPT of
 * them, within `maxRetainedBytes` with the classes' free lists, and within
 * the memory budget with everything lent; and they go back to the allocator
 * after a second unused (`idle`), at a budget refusal, and on `trim`.
 */

/** How many large buffers are kept at most: two per connection of an echo in flight, for two connections. */
export const LARGE_KEPT = 4;

export class LargeBuffers {
  /** Kept buffers, in no order; at most LARGE_KEPT, so a scan is as cheap as a sort. */
  private readonly kept: (Buffer | null)[] = [];
  bytes = 0;
  count = 0;
  /** Was one lent since the last `idle`? */
  private used = false;

  /**
   * The smallest kept buffer of `min` to `max` bytes, now lent (no longer
   * kept), or null. `max` bounds the waste: a 2 MiB message does not take
   * the 16 MiB buffer the next 16 MiB message needs.
   */
  take(min: number, max: number): Buffer | null {
    let best = -1;
    let bestLength = Infinity;
    const kept = this.kept;
    for (let i = 0; i < kept.length; i++) {
      const length = kept[i]?.length ?? Infinity;
      if (length >= min && length <= max && length < bestLength) {
        best = i;
        bestLength = length;
      }
    }
    if (best < 0) return null;
    const buf = kept[best]!;
    kept[best] = null; // the list must not keep a lent buffer alive
    this.bytes -= buf.length;
    this.count--;
    this.used = true;
    return buf;
  }

  /** Keeps `buf` if there is a free slot (the pool checked the byte bounds); false if not. */
  keep(buf: Buffer): boolean {
    if (this.count >= LARGE_KEPT) return false;
    const kept = this.kept;
    let slot = kept.indexOf(null);
    if (slot < 0) slot = kept.length;
    kept[slot] = buf;
    this.bytes += buf.length;
    this.count++;
    this.used = true; // just released by a large message: kept at least until the second tick from now
    return true;
  }

  /**
   * Called once a second: what was not lent since the last call goes back
   * to the allocator (once the GC frees it). A server that keeps receiving
   * large messages keeps its buffers; one that stopped does not hold
   * megabytes for them. Returns the bytes dropped.
   */
  idle(): number {
    const dropped = this.used ? 0 : this.drop();
    this.used = false;
    return dropped;
  }

  /** Drops every kept buffer; returns the bytes dropped. */
  drop(): number {
    const bytes = this.bytes;
    this.kept.length = 0;
    this.bytes = 0;
    this.count = 0;
    return bytes;
  }
}
