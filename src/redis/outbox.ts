/** One publish waiting for Redis: its channel and the envelope (header + payload). */
export interface Pending {
  channel: string;
  message: Buffer;
}

/**
 * Publishes waiting while Redis cannot be reached, oldest first, within a
 * byte bound: the clients' own offline queues have none, and a server that
 * keeps publishing through a Redis outage must not grow without limit. A
 * publish that does not fit is refused (the caller drops and counts it);
 * what fits goes out in order when Redis is back.
 */
export class Outbox {
  private items: Pending[] = [];
  bytes = 0;

  get length(): number {
    return this.items.length;
  }

  /** Keeps `item` if it fits within `room` more bytes; false when it does not. */
  offer(item: Pending, room: number): boolean {
    const size = item.message.length;
    if (size > room) return false;
    this.items.push(item);
    this.bytes += size;
    return true;
  }

  /** Takes every waiting publish, oldest first. */
  drain(): Pending[] {
    const all = this.items;
    this.items = [];
    this.bytes = 0;
    return all;
  }
}
