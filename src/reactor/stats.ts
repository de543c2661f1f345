import type { DeflateEngine } from '../compression/deflate-engine.js';
import type { PoolStats } from '../pool/buffer-pool.js';
import type { StatsSnapshot } from './stats-snapshot.js';
import { State } from './connection-state.js';
import type { Connection } from './connection.js';
import type { RemoteStats } from './topic-bridge.js';

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
  /** Connections opened and not yet finished (closing ones included), for `server.clients.size`. */
  openNow = 0;

  /** Walks the registry: O(connections), which is fine for a stats call and costs nothing per event. */
  snapshot(
    connections: Iterable<Connection>,
    writer: { readonly bytesOut: number; readonly framesOut: number },
    pool: PoolStats,
    topics: number,
    remote: RemoteStats,
    deflate: DeflateEngine | null,
  ): StatsSnapshot {
    let open = 0;
    let overHandles = 0;
    let deflating = 0;
    let sessions = 0;
    let handshaking = 0;
    let readingNow = 0;
    let writingNow = 0;
    let bufferedBytes = 0;
    for (const conn of connections) {
      if ((conn.flags & State.Open) !== 0) {
        open++;
        if (conn.transport === 'handle') overHandles++;
      } else if ((conn.flags & State.Handshaking) !== 0) handshaking++;
      if (conn.progress !== null) readingNow++;
      if ((conn.flags & State.Writing) !== 0) writingNow++;
      if ((conn.flags & (State.Deflate | State.Open)) === (State.Deflate | State.Open)) deflating++;
      if (conn.extras?.deflate != null) sessions++;
      bufferedBytes += conn.bufferedAmount;
    }
    return {
      connections: open,
      transports: { handle: overHandles, socket: open - overHandles },
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
      remote,
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
