import type { ConnectionRecord } from './connection-record.js';

/**
 * Every connection the reactor owns, handshaking ones included: a dense
 * array with swap-remove, so adding and removing are O(1) and each
 * connection costs one array slot (its `index` field says where).
 *
 * Walks (`forEach`, `for…of`) are safe against connections leaving during
 * the walk, which a broadcast whose write fails, a shed, or a shutdown
 * does: while a walk runs, a removal leaves a hole instead of moving the
 * last connection into the slot (behind the walk, where it would be
 * missed), and the holes are closed when the last walk ends. Connections
 * added during a walk are not visited by it. Nothing is allocated per
 * connection, at rest or in a walk.
 */
export class ConnectionRegistry implements Iterable<ConnectionRecord> {
  private readonly list: (ConnectionRecord | null)[] = [];
  private live = 0;
  private walks = 0;
  private holes = 0;
  /** Shutdowns waiting for the registry to shrink: checked at each removal, none at rest. */
  private waiters: { bound: () => number; resolve: () => void }[] = [];

  get size(): number {
    return this.live;
  }

  add(conn: ConnectionRecord): void {
    conn.index = this.list.length;
    this.list.push(conn);
    this.live++;
  }

  remove(conn: ConnectionRecord): void {
    const index = conn.index;
    if (index < 0) return;
    conn.index = -1;
    this.live--;
    if (this.walks > 0) {
      this.list[index] = null;
      this.holes++;
    } else {
      const last = this.list.pop()!;
      if (last !== conn) {
        this.list[index] = last;
        last.index = index;
      }
    }
    if (this.waiters.length > 0) this.wake();
  }

  /** Calls `visit` for each connection registered when the walk began and still registered. */
  forEach(visit: (conn: ConnectionRecord) => void): void {
    this.walks++;
    try {
      const list = this.list;
      for (let i = 0, n = list.length; i < n; i++) {
        const conn = list[i]!;
        if (conn !== null) visit(conn);
      }
    } finally {
      this.endWalk();
    }
  }

  *[Symbol.iterator](): Iterator<ConnectionRecord> {
    this.walks++;
    try {
      const list = this.list;
      for (let i = 0, n = list.length; i < n; i++) {
        const conn = list[i]!;
        if (conn !== null) yield conn;
      }
    } finally {
      this.endWalk();
    }
  }

  /** Resolves when no connection is left. */
  whenEmpty(): Promise<void> {
    return this.whenAtMost(() => 0);
  }

  /**
   * Resolves once at most `bound()` connections are left, checked now and
   * at each removal (a shutdown waits so for all but the plain HTTP ones).
   */
  whenAtMost(bound: () => number): Promise<void> {
    if (this.live <= bound()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bound, resolve }));
  }

  private wake(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (this.live > waiter.bound()) return true;
      waiter.resolve();
      return false;
    });
  }

  private endWalk(): void {
    if (--this.walks !== 0 || this.holes === 0) return;
    const list = this.list;
    let to = 0;
    for (let from = 0; from < list.length; from++) {
      const conn = list[from]!;
      if (conn === null) continue;
      conn.index = to;
      list[to++] = conn;
    }
    list.length = to;
    this.holes = 0;
  }
}
