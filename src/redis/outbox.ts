/** One publish waiting for Redis: its channel and the envelope (header + payload). */
export interface Pending {
  channel: string;
  message: Buffer;
}

/**
 * Publishes waiting while Redis cannot be reached (or while the other
 * servers subscribe again after it came back), oldest first, within a byte
 * bound: the clients' own offline queues have none, and a server that keeps
 * publishing through a Redis outage must not grow without limit. Past the
 * bound the oldest are dropped first (the caller counts them): after a long
 * outage the newest publishes are the ones still worth sending.
 */
export class Outbox {
  private items: Pending[] = [];
  /** The oldest item still waiting: items before it were dropped (a queue without O(n) shifts). */
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Keeps `item`, first dropping the oldest waiting publishes until the
   * outbox fits within `room` bytes with it. Returns what was dropped:
   * `item` itself when it is larger than `room` on its own.
   */
  offer(item: Pending, room: number): Pending[] {
    const size = item.message.length;
    if (size > room) return [item];
    const dropped: Pending[] = [];
    while (this.bytes + size > room) {
      const oldest = this.items[this.head]!;
      this.items[this.head++] = undefined as never; // released to the GC
      this.bytes -= oldest.message.length;
      dropped.push(oldest);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.items.push(item);
    this.bytes += size;
    return dropped;
  }

  /** The channels of the waiting publishes, each once. */
  channels(): Set<string> {
    const channels = new Set<string>();
    for (let i = this.head; i < this.items.length; i++) channels.add(this.items[i]!.channel);
    return channels;
  }

  /** Takes every waiting publish, oldest first. */
  drain(): Pending[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return all;
  }
}
