import type { ReceiveProgress } from '../../protocol/receive-progress.js';
import type { SharedFrame } from '../write/shared-frame.js';

/**
 * The parts of a connection that most connections, most of the time, do not
 * need: the bytes of an unfinished handshake, writes the kernel has not
 * taken, topics, the subprotocol, the close code. Allocated on first need and
 * dropped when empty, so an idle connection carries a single null instead.
 */
export class ConnectionExtras {
  /** The receiver's incomplete frame or fragmented message. */
  progress: ReceiveProgress | null = null;

  /** Bytes of the HTTP upgrade request so far (pooled), while it is incomplete. */
  head: Buffer | null = null;
  headLength = 0;
  /** Where the next scan for CRLFCRLF starts, so a request trickling in is not rescanned. */
  headScan = 0;
  /** How far the bytes so far fit the request grammar (http-request-prefix.ts), so garbage is refused at once. */
  headSyntax = 0;
  /** A plain request whose body is being gathered after its head (State.HttpBody): how long head and body are together. */
  requestLength = 0;

  /** The buffer a write in flight came from: pooled, or a shared broadcast frame. */
  inflight: Buffer | null = null;
  inflightShared: SharedFrame | null = null;
  /** Bytes of the in-flight write that the kernel has not taken yet. */
  inflightPending = 0;
  /** Frames sent while a write was in flight, gathered for the next write (pooled). */
  outbox: Buffer | null = null;
  outboxLength = 0;

  /** Client role, while the handshake runs: our Sec-WebSocket-Key and the protocols we offered. */
  clientKey = '';
  clientProtocols: readonly string[] = [];
  /** Client role, while the handshake runs: the Sec-WebSocket-Extensions we offered ('' for none). */
  clientExtensions = '';

  /**
   * The negotiated extension's state for this connection, when it needs any
   * (permessage-deflate with context takeover: its own zlib contexts). Only
   * the extension reads it; it is released when the connection ends.
   */
  extension: object | null = null;

  topics: Set<string> | null = null;
  protocol = '';
  /** The code and reason to report to the close handler. */
  closeCode = 0;
  closeReason = '';

  bufferedAmount(): number {
    return this.inflightPending + this.outboxLength;
  }

  /**
   * Nothing left worth keeping: the connection can drop this object. Every
   * field is looked at, the counts beside a buffer too (they are reset with
   * it, so this costs no drop), so that a field added later cannot be lost
   * by a drop: test/reactor/connection/connection-extras.test.ts sets each
   * field in turn and fails on one this misses.
   */
  isEmpty(): boolean {
    return (
      this.head === null &&
      this.headLength === 0 &&
      this.headScan === 0 &&
      this.headSyntax === 0 &&
      this.requestLength === 0 &&
      this.progress === null &&
      this.clientKey === '' &&
      this.clientProtocols.length === 0 &&
      this.clientExtensions === '' &&
      this.inflight === null &&
      this.inflightShared === null &&
      this.inflightPending === 0 &&
      this.outbox === null &&
      this.outboxLength === 0 &&
      this.topics === null &&
      this.protocol === '' &&
      this.extension === null &&
      this.closeCode === 0 &&
      this.closeReason === ''
    );
  }
}

/** What holds extras: a connection (structural, so this file does not import the connection). */
interface ExtrasHolder {
  extras: ConnectionExtras | null;
}

/** The connection's extras, created on first need. */
export function extrasOf(conn: ExtrasHolder): ConnectionExtras {
  return conn.extras ?? (conn.extras = new ConnectionExtras());
}

/** Lets an idle connection go back to holding a single null. */
export function dropExtrasIfEmpty(conn: ExtrasHolder): void {
  if (conn.extras !== null && conn.extras.isEmpty()) conn.extras = null;
}
