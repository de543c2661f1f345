import type { ConnectionRecord } from '../connection/connection-record.js';
import { extrasOf } from '../connection/connection-extras.js';

/** Told when a topic starts and stops having local subscribers (the reactor, for its topic bridge). */
export interface TopicEvents {
  topicOpened(topic: string): void;
  topicClosed(topic: string): void;
}

/**
 * Publish/subscribe: topic → subscribers, and on each subscribed connection
 * the set of its topics, so leaving is O(its topics). Connections that never
 * subscribe pay nothing. `events` hears of a topic's first subscriber and of
 * its last one leaving, never of the ones between.
 */
export class Topics {
  private readonly subscribers = new Map<string, Set<ConnectionRecord>>();

  constructor(private readonly events: TopicEvents) {}

  subscribe(conn: ConnectionRecord, topic: string): void {
    if (typeof topic !== 'string') throw new TypeError('topic must be a string');
    if (!conn.isOpen) return;
    (extrasOf(conn).topics ??= new Set()).add(topic);
    let set = this.subscribers.get(topic);
    if (set === undefined) {
      this.subscribers.set(topic, (set = new Set()));
      set.add(conn);
      this.events.topicOpened(topic);
      return;
    }
    set.add(conn);
  }

  unsubscribe(conn: ConnectionRecord, topic: string): void {
    const topics = conn.extras?.topics;
    if (topics == null || !topics.delete(topic)) return;
    if (topics.size === 0) conn.extras!.topics = null;
    this.leave(conn, topic);
  }

  /** Removes a closing connection from every topic it joined. */
  unsubscribeAll(conn: ConnectionRecord): void {
    const topics = conn.extras?.topics;
    if (topics == null) return;
    for (const topic of topics) this.leave(conn, topic);
    conn.extras!.topics = null;
  }

  /** The subscribers of `topic`, or undefined when it has none. */
  get(topic: string): ReadonlySet<ConnectionRecord> | undefined {
    return this.subscribers.get(topic);
  }

  count(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** The topics with at least one subscriber. */
  names(): IterableIterator<string> {
    return this.subscribers.keys();
  }

  private leave(conn: ConnectionRecord, topic: string): void {
    const set = this.subscribers.get(topic);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size !== 0) return;
    this.subscribers.delete(topic);
    this.events.topicClosed(topic);
  }
}
