import { LargeBuffers } from './large-buffers.js';

/**
 * A pool of Buffers in power-of-two size classes, 1 KiB to 1 MiB, and a few
 * larger ones kept warm (large-buffers.ts).
 *
 * An idle connection holds no buffer: one is borrowed only while a partial
 * frame is assembled or a write is pending, and released right after. The
 * pool keeps released buffers for reuse up to `maxRetainedBytes`, and can
 * refuse peer-driven allocations past `maxLentBytes` (`tryBorrow`/`tryGrow`)
 * so the server sheds load instead of growing without bound.
 */

export const MIN_CLASS = 1024;
export const MAX_CLASS = 1 << 20;

const MIN_SHIFT = 10; // log2(MIN_CLASS)
const CLASS_COUNT = 11; // 1 KiB, 2 KiB, ..., 1 MiB

/** Written over a buffer released in debug mode, so a use after release shows up as garbage. */
const POISON = 0xdd;
/** Seconds with nothing lent before the retained buffers are dropped (`tick`). */
const QUIET_TICKS = 10;
const BAD_RELEASE = 'buffer released twice or not from this pool';

/** Where the handed-out buffer is (`handOut`, `share`, `handBack`). */
const enum Handed {
  No,
  /** With the handler only. */
  ToHandler,
  /** With the handler and a write (`share`). */
  Shared,
  /** With the handler only; the write that shared it is done and released it. */
  WriteDone,
}

export interface BufferPoolOptions {
  /** Bytes kept on the free lists for reuse; beyond this a released buffer is left to the GC. Default 64 MiB. */
  maxRetainedBytes?: number;
  /** Budget for all bytes lent out at once, enforced by `tryBorrow`/`tryGrow` only. Default Infinity. */
  maxLentBytes?: number;
  /** Track lent buffers and throw on a bad release. Default: true when env LIGHTWS_POOL_DEBUG=1. */
  debug?: boolean;
}

export interface PoolStats {
  lentBuffers: number;
  lentBytes: number;
  peakLentBytes: number;
  retainedBuffers: number;
  retainedBytes: number;
  borrows: number;
  releases: number;
  /** Borrows that had to allocate (oversize ones included). */
  misses: number;
  /** Borrows larger than MAX_CLASS (a kept large buffer, or an exact allocation). */
  oversize: number;
  /** `tryBorrow`/`tryGrow` calls that returned null on the budget. */
  refusals: number;
  /** Releases ignored because the buffer cannot have come from a pool (non-debug mode only). */
  foreignReleases: number;
}

/**
 * The number of bytes `borrow(size)` lends: the smallest class >= max(size, MIN_CLASS),
 * or above MAX_CLASS exactly `size` when allocated (a kept large buffer may be up to twice that).
 */
export function classFor(size: number): number {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`invalid buffer size: ${size}`);
  if (size <= MIN_CLASS) return MIN_CLASS;
  if (size > MAX_CLASS) return size;
  return 2 ** (32 - Math.clz32(size - 1));
}

/** Free-list index of a class size (a power of two within [MIN_CLASS, MAX_CLASS]). */
function indexOf(cls: number): number {
  return 31 - Math.clz32(cls) - MIN_SHIFT;
}

export class BufferPool {
  readonly maxRetainedBytes: number;
  readonly maxLentBytes: number;
  readonly debug: boolean;

  // Free lists are stacks with a depth counter: a pop nulls the slot instead of
  // shrinking the array, so steady-state borrow/release never reallocates.
  private readonly free: (Buffer | null)[][] = Array.from({ length: CLASS_COUNT }, () => []);
  private readonly depth = new Uint32Array(CLASS_COUNT);
  /** Buffers currently lent; only in debug mode, so it costs nothing otherwise. */
  private readonly lent: Set<Buffer> | null;
  /** Large buffers kept warm, counted in retainedBuffers and retainedBytes. */
  private readonly large = new LargeBuffers();
  /**
   * The buffer a message handler holds as its data (`handOut`), and whether
   * a write shares it (`share`): a write's release of it waits for `handBack`.
   */
  private handed: Buffer | null = null;
  private handedState = Handed.No;

  private lentBuffers = 0;
  private lentByteCount = 0;
  private peakLentBytes = 0;
  private retainedBuffers = 0;
  private retainedBytes = 0;
  /** Ticks in a row with nothing lent and something retained (see `tick`). */
  private quietTicks = 0;
  private borrows = 0;
  private releases = 0;
  private misses = 0;
  private oversize = 0;
  private refusals = 0;
  private foreignReleases = 0;

  constructor(options: BufferPoolOptions = {}) {
    const { maxRetainedBytes = 64 * MAX_CLASS, maxLentBytes = Infinity } = options;
    if (!(maxRetainedBytes >= 0)) throw new RangeError(`invalid maxRetainedBytes: ${maxRetainedBytes}`);
    if (!(maxLentBytes >= 0)) throw new RangeError(`invalid maxLentBytes: ${maxLentBytes}`);
    this.maxRetainedBytes = maxRetainedBytes;
    this.maxLentBytes = maxLentBytes;
    this.debug = options.debug ?? process.env['LIGHTWS_POOL_DEBUG'] === '1';
    this.lent = this.debug ? new Set() : null;
  }

  /** A buffer of at least `size` bytes (its `.length` is the class size). Ignores the budget. */
  /** Bytes lent out now (class sizes): cheaper than stats() for a hot check. */
  get lentBytes(): number {
    return this.lentByteCount;
  }

  borrow(size: number): Buffer {
    return this.lend(classFor(size));
  }

  /** Like `borrow`, but null if lending would exceed `maxLentBytes`. For peer-driven sizes. */
  tryBorrow(size: number): Buffer | null {
    const bytes = classFor(size);
    const room = this.maxLentBytes - this.lentByteCount;
    if (bytes > room) return this.refuse();
    return this.lend(bytes, room);
  }

  /** Give a buffer back. In debug mode a double or foreign release throws. */
  release(buf: Buffer): void {
    if (buf === this.handed && this.handedState === Handed.Shared) {
      this.handedState = Handed.WriteDone; // the handler still reads it: back at handBack
      return;
    }
    if (!this.accepts(buf)) return;
    this.unlend(buf);
    this.retain(buf);
  }

  /**
   * `buf`, lent, is now a message handler's data, until `handBack(buf)`
   * (when the handler returned). Meanwhile one write may `share` it instead
   * of copying what the kernel did not take. One buffer at a time: a nested
   * one is not shared.
   */
  handOut(buf: Buffer): void {
    if (this.handed !== null) return;
    this.handed = buf;
    this.handedState = Handed.ToHandler;
  }

  /**
   * The handed-out buffer, if `bytes` lie in it and no write shares it yet:
   * the caller holds it from now on as any lent buffer, and releases it once
   * written. That release waits for the handler to be done with it (back at
   * `handBack`), so the pool never lends it again while either still reads it.
   */
  share(bytes: Uint8Array): Buffer | null {
    const buf = this.handed;
    if (buf === null || this.handedState !== Handed.ToHandler || bytes.buffer !== buf.buffer) return null;
    this.handedState = Handed.Shared;
    return buf;
  }

  /** The handler returned: `buf` goes back, unless a write that shares it still holds it (it releases it then). */
  handBack(buf: Buffer): void {
    if (buf !== this.handed) return this.release(buf);
    const state = this.handedState;
    this.handed = null;
    this.handedState = Handed.No;
    if (state !== Handed.Shared) this.release(buf);
  }

  /**
   * A buffer of at least `newSize` bytes holding `buf[0, used)`; `buf` is released.
   * Returns `buf` itself when it is already big enough. Ignores the budget.
   */
  grow(buf: Buffer, used: number, newSize: number): Buffer {
    return this.regrow(buf, used, newSize, false) as Buffer; // null only when budgeted
  }

  /**
   * Like `grow`, but null (`buf` stays lent) if the net size, old buffer
   * released, would exceed `maxLentBytes`: both are held only during the copy.
   */
  tryGrow(buf: Buffer, used: number, newSize: number): Buffer | null {
    return this.regrow(buf, used, newSize, true);
  }

  /**
   * Called once a second (the reactor's timer): after QUIET_TICKS (10) in a row
   * with nothing lent, the retained buffers are dropped, so that the memory
   * a burst (or an attack) left in the free lists goes back to the allocator
   * once the garbage collector frees it. A server that is busy keeps them.
   */
  tick(): void {
    this.dropLarge(true); // large ones go sooner: after a second unused
    if (this.lentByteCount !== 0 || this.retainedBytes === 0) {
      this.quietTicks = 0;
    } else if (++this.quietTicks >= QUIET_TICKS) {
      this.quietTicks = 0;
      this.trim();
    }
  }

  /** Drop every retained buffer, e.g. after a load spike or under memory pressure. */
  trim(): void {
    this.large.drop();
    for (let i = 0; i < CLASS_COUNT; i++) {
      this.free[i] = []; // rare, so releasing the arrays' capacity too is fine
      this.depth[i] = 0;
    }
    this.retainedBuffers = 0;
    this.retainedBytes = 0;
  }

  stats(): PoolStats {
    return {
      lentBuffers: this.lentBuffers,
      lentBytes: this.lentByteCount,
      peakLentBytes: this.peakLentBytes,
      retainedBuffers: this.retainedBuffers,
      retainedBytes: this.retainedBytes,
      borrows: this.borrows,
      releases: this.releases,
      misses: this.misses,
      oversize: this.oversize,
      refusals: this.refusals,
      foreignReleases: this.foreignReleases,
    };
  }

  /**
   * Lend a buffer of `bytes` (a class size, or an oversize length): exactly,
   * or a kept large one of up to twice an oversize length, within `room`.
   */
  private lend(bytes: number, room = Infinity): Buffer {
    let buf: Buffer | null = null;
    if (bytes <= MAX_CLASS) {
      const i = indexOf(bytes); // a class size: 0 <= i < CLASS_COUNT, so depth[i] and free[i] exist
      const d = this.depth[i]!;
      if (d > 0) {
        buf = this.free[i]![d - 1] ?? null;
        this.free[i]![d - 1] = null; // the pool must not keep a lent buffer alive
        this.depth[i] = d - 1;
        this.retainedBuffers--;
        this.retainedBytes -= bytes;
      }
    } else {
      this.oversize++;
      buf = this.large.take(bytes, Math.min(2 * bytes, room));
      if (buf !== null) {
        this.retainedBuffers--;
        this.retainedBytes -= buf.length;
      }
    }
    if (buf === null) {
      // allocUnsafeSlow: its own ArrayBuffer, never a slice of Node's shared
      // 8 KiB pool, so release can recognise it and it pins nothing else.
      buf = Buffer.allocUnsafeSlow(bytes);
      this.misses++;
    }
    this.borrows++;
    this.lentBuffers++;
    this.lentByteCount += buf.length;
    if (this.lentByteCount > this.peakLentBytes) this.peakLentBytes = this.lentByteCount;
    this.lent?.add(buf);
    return buf;
  }

  /**
   * May `buf` go back to the pool? Debug mode: it must be lent now, else throw.
   * Otherwise only reject what cannot be ours, so the free lists stay sound.
   */
  private accepts(buf: Buffer): boolean {
    if (this.lent !== null) {
      if (!this.lent.delete(buf)) throw new Error(BAD_RELEASE);
      return true;
    }
    const len = buf.length;
    // Something is lent, it owns its whole ArrayBuffer, and it is a class or oversize length.
    const ours =
      this.lentBuffers > 0 &&
      buf.byteOffset === 0 &&
      buf.buffer.byteLength === len &&
      (len > MAX_CLASS || (len >= MIN_CLASS && (len & (len - 1)) === 0));
    if (!ours) this.foreignReleases++;
    return ours;
  }

  /** The counter side of a release. */
  private unlend(buf: Buffer): void {
    this.lentBuffers--;
    this.lentByteCount -= buf.length;
    this.releases++;
  }

  /** Keep a released buffer for reuse if the caps allow (a large one: the memory budget's too). */
  private retain(buf: Buffer): void {
    const len = buf.length;
    if (this.retainedBytes + len > this.maxRetainedBytes) return;
    if (len > MAX_CLASS) {
      // Kept memory and lent memory together within the budget: one large message cannot pin more than it allows.
      if (this.lentByteCount + this.retainedBytes + len > this.maxLentBytes || !this.large.keep(buf)) return;
      if (this.debug) buf.fill(POISON);
      this.retainedBuffers++;
      this.retainedBytes += len;
      return;
    }
    if (this.debug) buf.fill(POISON);
    const i = indexOf(len); // a class size here (len <= MAX_CLASS): depth[i] and free[i] exist
    this.free[i]![this.depth[i]!++] = buf;
    this.retainedBuffers++;
    this.retainedBytes += len;
  }

  /** A budget refusal: counted, and the large buffers kept warm go back (memory is short). */
  private refuse(): null {
    this.refusals++;
    this.dropLarge(false);
    return null;
  }

  /** The large buffers kept warm go back to the allocator: all, or (`unusedOnly`) if none was lent since the last tick. */
  private dropLarge(unusedOnly: boolean): void {
    const count = this.large.count;
    const bytes = unusedOnly ? this.large.idle() : this.large.drop();
    if (bytes === 0) return;
    this.retainedBytes -= bytes;
    this.retainedBuffers -= count;
  }

  private regrow(buf: Buffer, used: number, newSize: number, budgeted: boolean): Buffer | null {
    if (!Number.isInteger(used) || used < 0 || used > buf.length || used > newSize) {
      throw new RangeError(`invalid used: ${used} (buffer ${buf.length}, new size ${newSize})`);
    }
    // Check ownership first, so a bad buffer throws in debug even when no growth or a refusal follows.
    if (this.lent !== null && !this.lent.has(buf)) throw new Error(BAD_RELEASE);
    if (newSize <= buf.length) return buf;
    const bytes = classFor(newSize);
    const room = budgeted ? this.maxLentBytes - this.lentByteCount + buf.length : Infinity;
    if (bytes > room) return this.refuse();
    // Count the release before the borrow so the peak reflects the net size;
    // retain `buf` only after copying out of it (debug mode poisons it).
    const ours = this.accepts(buf);
    if (ours) this.unlend(buf);
    const next = this.lend(bytes, room);
    buf.copy(next, 0, 0, used);
    if (ours) this.retain(buf);
    return next;
  }
}
