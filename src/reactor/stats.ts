import type { DeflateEngine } from '../compression/deflate-engine.js';
import type { PoolStats } from '../pool/buffer-pool.js';
import { State } from './connection-state.js';
import type { Connection } from './connection.js';

/** What `server.stats()` returns: a plain object, safe to JSON.stringify or send over IPC. */
export interface StatsSnapshot {
  /** Open WebSocket connections (101 sent, not yet closed). */
  connections: number;
  /** TCP connections still in the HTTP upgrade. */
  handshaking: number;
  /** Connections with a partial frame or message in a pooled buffer right now. */
  readingNow: number;
  /** Connections with a write in flight (the kernel did not take everything at once). */
  writingNow: number;
  /** Bytes accepted by send() and not yet taken by the kernel, over all connections. */
  bufferedBytes: number;
  accepted: number;
  opened: number;
  closed: number;
  handshakesRefused: number;
  /** Connections answered 503 at accept because of maxConnections. */
  connectionsRefused: number;
  handshakeTimeouts: number;
  idleTimeouts: number;
  protocolErrors: number;
  handlerErrors: number;
  /** Heartbeat pings sent (pingIntervalMs). */
  pingsSent: number;
  /** Sends refused by maxBufferedBytes with backpressure 'drop'. */
  sendsDropped: number;
  /** Connections closed (1008) by maxBufferedBytes with backpressure 'close'. */
  slowConsumersClosed: number;
  /** Times reading a connection paused because its queue was high. */
  readPauses: number;
  /** Connections closed (1008) for trickling a message below minMessageRate. */
  slowMessagesClosed: number;
  /** Buffers the memory budget refused. */
  memoryRefusals: number;
  /** Connections dropped to get memory back under the budget. */
  memoryShed: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  framesOut: number;
  topics: number;
  pool: PoolStats;
  /** permessage-deflate; all zero when the `deflate` option is 'off'. */
  deflate: DeflateStats;
}

/** permessage-deflate's part of stats(). */
export interface DeflateStats {
  /** Open connections that negotiated the extension. */
  connections: number;
  /** Of those, connections holding their own contexts (window mode). */
  sessions: number;
  /** zlib contexts alive now, the shared ones included. */
  contexts: number;
  /** Bytes reserved by connections' own contexts, against `maxBytes` (maxDeflateBytes). */
  reservedBytes: number;
  maxBytes: number;
  /** Estimated bytes of the contexts every connection shares (a few per server). */
  sharedBytes: number;
  /** Connections accepted without the extension because the budget was full. */
  declinedForBudget: number;
  messagesCompressed: number;
  bytesBeforeCompression: number;
  bytesAfterCompression: number;
  messagesInflated: number;
  bytesInflated: number;
}

/** Counters the reactor bumps as things happen; the rest is counted when asked. */
export class ReactorStats {
  accepted = 0;
  opened = 0;
  closed = 0;
  handshakesRefused = 0;
  connectionsRefused = 0;
  handshakeTimeouts = 0;
  idleTimeouts = 0;
  protocolErrors = 0;
  handlerErrors = 0;
  pingsSent = 0;
  sendsDropped = 0;
  slowConsumersClosed = 0;
  readPauses = 0;
  slowMessagesClosed = 0;
  memoryRefusals = 0;
  memoryShed = 0;
  bytesIn = 0;
  messagesIn = 0;
  messagesOut = 0;

  /** Walks the registry: O(connections), which is fine for a stats call and costs nothing per event. */
  snapshot(
    connections: Iterable<Connection>,
    writer: { readonly bytesOut: number; readonly framesOut: number },
    pool: PoolStats,
    topics: number,
    deflate: DeflateEngine | null,
  ): StatsSnapshot {
    let open = 0;
    let deflating = 0;
    let sessions = 0;
    let handshaking = 0;
    let readingNow = 0;
    let writingNow = 0;
    let bufferedBytes = 0;
    for (const conn of connections) {
      if ((conn.flags & State.Open) !== 0) open++;
      else if ((conn.flags & State.Handshaking) !== 0) handshaking++;
      if (conn.progress !== null) readingNow++;
      if ((conn.flags & State.Writing) !== 0) writingNow++;
      if ((conn.flags & (State.Deflate | State.Open)) === (State.Deflate | State.Open)) deflating++;
      if (conn.extras?.deflate != null) sessions++;
      bufferedBytes += conn.bufferedAmount;
    }
    return {
      connections: open,
      handshaking,
      readingNow,
      writingNow,
      bufferedBytes,
      accepted: this.accepted,
      opened: this.opened,
      closed: this.closed,
      handshakesRefused: this.handshakesRefused,
      connectionsRefused: this.connectionsRefused,
      handshakeTimeouts: this.handshakeTimeouts,
      idleTimeouts: this.idleTimeouts,
      protocolErrors: this.protocolErrors,
      handlerErrors: this.handlerErrors,
      pingsSent: this.pingsSent,
      sendsDropped: this.sendsDropped,
      slowConsumersClosed: this.slowConsumersClosed,
      readPauses: this.readPauses,
      slowMessagesClosed: this.slowMessagesClosed,
      memoryRefusals: this.memoryRefusals,
      memoryShed: this.memoryShed,
      bytesIn: this.bytesIn,
      bytesOut: writer.bytesOut,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      framesOut: writer.framesOut,
      topics,
      pool,
      deflate: {
        connections: deflating,
        sessions,
        contexts: deflate?.contexts ?? 0,
        reservedBytes: deflate?.budget.reserved ?? 0,
        maxBytes: deflate?.budget.max ?? 0,
        sharedBytes: deflate?.budget.shared ?? 0,
        declinedForBudget: deflate?.budget.declined ?? 0,
        messagesCompressed: deflate?.counters.messagesCompressed ?? 0,
        bytesBeforeCompression: deflate?.counters.bytesBeforeCompression ?? 0,
        bytesAfterCompression: deflate?.counters.bytesAfterCompression ?? 0,
        messagesInflated: deflate?.counters.messagesInflated ?? 0,
        bytesInflated: deflate?.counters.bytesInflated ?? 0,
      },
    };
  }
}
