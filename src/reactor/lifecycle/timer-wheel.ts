/**
 * One timer structure for every connection: a hashed wheel with coarse ticks.
 *
 * A connection is an entry with two plain number fields, so timers cost no
 * closure and no setTimeout per connection. Re-arming is lazy: moving a
 * deadline later (the common case: every read pushes the idle deadline out)
 * is one store; the entry stays in its bucket and is re-filed when that
 * bucket comes round. Only a deadline moved earlier is filed again, and the
 * stale copy is recognised and skipped by its tick.
 */
/** The reactor's wheel turns once a second: timeouts are coarse by design (one timer for all). */
export const TICK_MS = 1000;

/** Whole ticks for a duration, at least one. */
export function ticks(ms: number): number {
  return Math.max(1, Math.ceil(ms / TICK_MS));
}

export interface WheelEntry {
  /** Tick at which the entry expires; 0 = no timer. */
  deadline: number;
  /** Tick of the bucket the entry is filed in; 0 = not filed. */
  wheelTick: number;
}

export class TimerWheel<E extends WheelEntry> {
  /** The current tick. Starts at 1 so that 0 can mean "none" in the entry fields. */
  now = 1;
  /**
   * A bucket's entries are the first `sizes[i]` slots of its array (null:
   * empty). A drained array is not emptied by `length = 0` (V8 drops the
   * backing store, and the next bucket grows a new one by copies: at a
   * million connections with heartbeats those copies were most of what the
   * wheel allocated and, living a round, each was promoted to the old
   * generation before it died). Its slots are nulled, so it holds no
   * connection alive, and it goes to `free` with its room, for the next
   * bucket that fills; kept only while the room set aside stays within the
   * entries filed, so a burst's arrays are given back as its entries leave.
   */
  private readonly buckets: ((E | null)[] | null)[];
  private readonly sizes: Uint32Array;
  private readonly free: (E | null)[][] = [];
  /** The slots of the arrays in `free`. */
  private freeRoom = 0;
  /** Entries in the buckets, stale copies included. */
  private filed = 0;
  private readonly mask: number;

  /**
   * `slots` (a power of two) bounds how far ahead an entry is filed; a
   * deadline further out is re-filed each time round, so a 120-tick idle
   * timeout on a 64-slot wheel costs two visits.
   */
  constructor(
    slots: number,
    private readonly onExpire: (entry: E) => void,
  ) {
    if (slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two ≥ 2');
    this.mask = slots - 1;
    this.buckets = new Array<(E | null)[] | null>(slots).fill(null);
    this.sizes = new Uint32Array(slots);
  }

  /** Arms (or re-arms) `entry` to expire `ticks` from now (at least 1). */
  schedule(entry: E, ticks: number): void {
    const deadline = this.now + Math.max(1, Math.ceil(ticks));
    entry.deadline = deadline;
    if (entry.wheelTick !== 0 && entry.wheelTick <= deadline) return;
    this.file(entry, deadline);
  }

  /** Disarms `entry`; its bucket copy is dropped when the bucket comes round. */
  cancel(entry: E): void {
    entry.deadline = 0;
  }

  /** Moves time forward one tick and expires what is due. */
  tick(): void {
    const now = ++this.now;
    const index = now & this.mask;
    const due = this.buckets[index] ?? null;
    if (due === null) return;
    // What is handled here is filed elsewhere: at most `mask` ticks ahead, never in this bucket.
    const size = this.sizes[index]!;
    this.buckets[index] = null;
    this.sizes[index] = 0;
    this.filed -= size;
    for (let i = 0; i < size; i++) {
      const entry = due[i]!;
      due[i] = null;
      if (entry.wheelTick !== now) continue; // stale copy of a re-filed entry
      entry.wheelTick = 0;
      const deadline = entry.deadline;
      if (deadline === 0) continue;
      if (deadline <= now) {
        entry.deadline = 0;
        this.onExpire(entry);
      } else {
        this.file(entry, deadline);
      }
    }
    this.free.push(due);
    this.freeRoom += due.length;
    // Room set aside beyond what is filed is a burst's that has passed: let it go.
    while (this.freeRoom > this.filed) this.freeRoom -= this.free.pop()!.length;
  }

  private file(entry: E, deadline: number): void {
    const target = Math.min(deadline, this.now + this.mask);
    entry.wheelTick = target;
    const index = target & this.mask;
    let bucket = this.buckets[index] ?? null;
    if (bucket === null) {
      bucket = this.free.pop() ?? [];
      this.freeRoom -= bucket.length;
      this.buckets[index] = bucket;
    }
    bucket[this.sizes[index]!++] = entry;
    this.filed++;
  }
}
