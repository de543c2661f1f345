import type { BufferPool } from '../../pool/buffer-pool.js';
import type { ConnectionRecord } from '../connection/connection-record.js';

/** Where a connection's share of the turn's frames lies in the arena: one range, or more when others came between. */
export class BatchEntry {
  conn: ConnectionRecord | null = null;
  start = 0;
  end = 0;
  /** Further ranges, as start, end pairs, when this connection's frames are not contiguous in the arena. */
  more: number[] | null = null;
  /** Bytes in all ranges: what this connection is owed at the turn's end. */
  bytes = 0;
}

/** The arena's first size; it doubles as the turn fills it, up to ARENA_LIMIT. */
const ARENA_START = 16 * 1024;
/** The most one turn gathers before it is written early: the pool's largest size class. */
export const ARENA_LIMIT = 1024 * 1024;

/**
 * What one event-loop turn sends to connections other than the one being
 * read: publishes, broadcasts, sends to others. Each frame is appended once
 * to one pooled buffer, the arena, and each connection it goes to holds a
 * range of it; the writer writes each connection's ranges with one write
 * when the turn ends (uWebSockets drains each subscriber once per loop
 * iteration the same way).
 *
 * A frame that follows the previous one a connection got extends that
 * range, so in a room where every member receives the same publishes each
 * member holds one range, and the turn costs one write of the same bytes
 * per member, with no copy per delivery. Entries are reused from turn to
 * turn; the arena goes back to the pool once the writes from it are done.
 */
export class TurnBatch {
  private arena: Buffer | null = null;
  private used = 0;
  private entries = new Map<ConnectionRecord, BatchEntry>();
  /** The other map, swapped in while one is drained. */
  private next = new Map<ConnectionRecord, BatchEntry>();
  private readonly spare: BatchEntry[] = [];

  constructor(private readonly pool: BufferPool) {}

  /** Nothing gathered. */
  get empty(): boolean {
    return this.entries.size === 0;
  }

  /**
   * Room for `length` more bytes at the arena's end: the offset to write
   * at, -1 when the turn is full (write it, then try again), or -2 when the
   * memory budget says no.
   */
  reserve(length: number): number {
    const needed = this.used + length;
    if (needed > ARENA_LIMIT) return -1;
    if (this.arena === null) {
      this.arena = this.pool.tryBorrow(Math.max(ARENA_START, needed));
      if (this.arena === null) return -2;
    } else if (needed > this.arena.length) {
      // Nothing has been written from the arena yet (that happens when the turn ends), so it may move.
      const grown = this.pool.tryGrow(
        this.arena,
        this.used,
        Math.min(ARENA_LIMIT, Math.max(needed, 2 * this.arena.length)),
      );
      if (grown === null) return -2;
      this.arena = grown;
    }
    const at = this.used;
    this.used = needed;
    return at;
  }

  /** The arena, to write a reserved frame into. */
  get buffer(): Buffer {
    return this.arena!;
  }

  /** What `conn` is owed already this turn. */
  bytesFor(conn: ConnectionRecord): number {
    return this.entries.get(conn)?.bytes ?? 0;
  }

  /** `conn` gets arena[start..end): appended to what it has, as one range when it follows its last. */
  add(conn: ConnectionRecord, start: number, end: number): void {
    const entry = this.entries.get(conn);
    if (entry === undefined) {
      const fresh = this.spare.pop() ?? new BatchEntry();
      fresh.conn = conn;
      fresh.start = start;
      fresh.end = end;
      fresh.bytes = end - start;
      this.entries.set(conn, fresh);
      return;
    }
    entry.bytes += end - start;
    const more = entry.more;
    if (more === null) {
      if (entry.end === start) entry.end = end;
      else entry.more = [start, end];
    } else if (more[more.length - 1] === start) more[more.length - 1] = end;
    else more.push(start, end);
  }

  /** Takes `conn`'s entry out of the turn (written early, or the connection is gone). */
  remove(conn: ConnectionRecord): BatchEntry | undefined {
    const entry = this.entries.get(conn);
    if (entry !== undefined) this.entries.delete(conn);
    return entry;
  }

  /**
   * Ends the turn: hands every entry and the arena to `write`, then starts
   * afresh. The arena is the caller's from then on (it releases it once the
   * writes from it are done).
   */
  drain(write: (entry: BatchEntry, arena: Buffer) => void): Buffer | null {
    const arena = this.arena;
    const entries = this.entries;
    // What the writes set off (a failed write's close, a handler's send) begins the next turn, in a new arena.
    this.arena = null;
    this.used = 0;
    this.entries = this.next;
    this.next = entries;
    for (const entry of entries.values()) {
      write(entry, arena!);
      this.recycle(entry);
    }
    entries.clear();
    return arena;
  }

  /** Does the turn being gathered owe `conn` anything? */
  owes(conn: ConnectionRecord): boolean {
    return this.entries.has(conn);
  }

  /** An entry taken out by `remove`, back for reuse. */
  recycle(entry: BatchEntry): void {
    entry.conn = null;
    entry.more = null;
    if (this.spare.length < 1024) this.spare.push(entry);
  }

  /** Copies an entry's ranges, in order, into `into` from offset 0. */
  static gather(entry: BatchEntry, arena: Buffer, into: Buffer): void {
    arena.copy(into, 0, entry.start, entry.end);
    let at = entry.end - entry.start;
    const more = entry.more;
    if (more === null) return;
    for (let i = 0; i < more.length; i += 2) {
      arena.copy(into, at, more[i], more[i + 1]);
      at += more[i + 1]! - more[i]!;
    }
  }
}
