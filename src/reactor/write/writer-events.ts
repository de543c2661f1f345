import type { ConnectionRecord } from '../connection/connection-record.js';
import type { SendResult } from '../../api/send-result.js';

/** What the writer reports back: to the reactor, which hands each event to the lifecycle or flow control. */
export interface WriterEvents {
  /** A write failed (EPIPE, ECONNRESET, ...): the connection is dead. */
  writeFailed(conn: ConnectionRecord, errno: number): void;
  /** Everything queued has been written. */
  flushed(conn: ConnectionRecord): void;
  /** A data frame would take the queue past maxBufferedBytes: apply the policy. */
  overflow(conn: ConnectionRecord): SendResult;
  /** The queue passed the point where reading this connection should pause. */
  congested(conn: ConnectionRecord): void;
  /** The memory budget refused `bytes`: free some (shed senders) if possible. */
  starved(conn: ConnectionRecord, bytes: number): void;
}

/** Who a shared frame goes to: the registry, or a topic's subscriber set (both walk safely while receivers leave). */
export interface Receivers {
  forEach(visit: (conn: ConnectionRecord) => void): void;
}

/** `receivers` but those `keep` refuses; as they are when `keep` is null. */
export function keeping(receivers: Receivers, keep: ((conn: ConnectionRecord) => boolean) | null): Receivers {
  return keep === null ? receivers : { forEach: (visit) => receivers.forEach((conn) => keep(conn) && visit(conn)) };
}

/** Limits the writer enforces per connection. */
export interface WriterLimits {
  readonly maxBufferedBytes: number;
  /** Queue size above which `congested` is reported. */
  readonly congestedBytes: number;
}
