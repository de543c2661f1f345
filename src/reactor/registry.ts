import type { Connection } from './connection.js';

/**
 * Every connection the reactor owns, handshaking ones included: a dense
 * array with swap-remove, so adding and removing are O(1) and each
 * connection costs one array slot (its `index` field says where).
 */
export class ConnectionRegistry {
  private readonly list: Connection[] = [];
  private emptyWaiters: (() => void)[] = [];

  get size(): number {
    return this.list.length;
  }

  /** The connections as they are now; for loops that may close some of them, take a `snapshot`. */
  get all(): readonly Connection[] {
    return this.list;
  }

  add(conn: Connection): void {
    conn.index = this.list.length;
    this.list.push(conn);
  }

  remove(conn: Connection): void {
    const index = conn.index;
    if (index < 0) return;
    const last = this.list.pop()!;
    if (last !== conn) {
      this.list[index] = last;
      last.index = index;
    }
    conn.index = -1;
    if (this.list.length === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }

  /** A copy, for loops whose body removes connections (closing them all). */
  snapshot(): Connection[] {
    return this.list.slice();
  }

  /** Resolves when no connection is left. */
  whenEmpty(): Promise<void> {
    if (this.list.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }
}
