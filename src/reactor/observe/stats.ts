import type { PoolStats } from '../../pool/buffer-pool.js';
import { CLOSE_CODE_CLASSES } from '../../protocol/close-code.js';
import { ErrorKind, errorKindName, type ErrorKindValue } from '../../protocol/protocol-error.js';
import type { DeflateStats, StatsSnapshot } from '../../api/stats-snapshot.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { RemoteStats } from '../../api/topic-bridge.js';
import { STAY_REASONS, type StayReason } from '../../tls/stay-reason.js';

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
  /** Peers that never answered our Close (or our FIN) within closeTimeoutMs. */
  closeTimeouts = 0;
  /** Plain HTTP connections that sent no complete request within handshakeTimeoutMs (a keep-alive that went quiet, or a slow one). */
  httpTimeouts = 0;
  httpRequests = 0;
  /** Connections carrying plain HTTP now (State.Http), kept as a count for the drain. */
  httpNow = 0;
  /**
   * Counts by key, each bumped once per event it counts (a refusal, a
   * response, a close, a protocol error), never per message, in arrays of a
   * fixed size: no allocation and no per-connection memory.
   */
  readonly refusalsByStatus = new Float64Array(600);
  readonly responsesByStatus = new Float64Array(600);
  readonly closesByClass = new Float64Array(CLOSE_CODE_CLASSES.length);
  readonly protocolErrorsByKind = new Float64Array(KINDS.length + 1);
  /** The compact TLS transport's: connections moved, on it now, and those that stayed on node:tls by reason. */
  tlsCompacted = 0;
  tlsCompactNow = 0;
  readonly tlsStayed = new Float64Array(STAY_REASONS.length);

  tlsStay(reason: StayReason): void {
    this.tlsStayed[STAY_REASONS.indexOf(reason)]!++;
  }

  /** Walks the registry: O(connections), which is fine for a stats call and costs nothing per event. */
  snapshot(
    connections: Iterable<ConnectionRecord>,
    writer: { readonly bytesOut: number; readonly framesOut: number },
    pool: PoolStats,
    topics: number,
    remote: RemoteStats,
    extension: { stats(connections: number, states: number): DeflateStats } | null,
  ): StatsSnapshot {
    let open = 0;
    let overHandles = 0;
    let extended = 0;
    let extensionStates = 0;
    let handshaking = 0;
    let readingNow = 0;
    let writingNow = 0;
    let bufferedBytes = 0;
    let http = 0;
    let backpressured = 0;
    for (const conn of connections) {
      const flags = conn.flags;
      if ((flags & State.Open) !== 0) {
        open++;
        if (conn.transport === 'handle') overHandles++;
      } else if ((flags & State.Http) !== 0) http++;
      else if ((flags & State.Handshaking) !== 0) handshaking++;
      if (conn.progress !== null) readingNow++;
      if ((flags & State.Writing) !== 0) writingNow++;
      if ((flags & State.ReadBlocked) !== 0) backpressured++;
      if ((flags & (State.Extension | State.Open)) === (State.Extension | State.Open)) extended++;
      if (conn.extras?.extension != null) extensionStates++;
      bufferedBytes += conn.bufferedAmount;
    }
    return {
      connections: open,
      transports: { handle: overHandles, socket: open - overHandles },
      handshaking,
      http,
      backpressured,
      readingNow,
      writingNow,
      bufferedBytes,
      accepted: this.accepted,
      opened: this.opened,
      closed: this.closed,
      handshakesRefused: this.handshakesRefused,
      connectionsRefused: this.connectionsRefused,
      handshakeRefusals: byStatus(this.refusalsByStatus),
      handshakeTimeouts: this.handshakeTimeouts,
      idleTimeouts: this.idleTimeouts,
      closeTimeouts: this.closeTimeouts,
      httpTimeouts: this.httpTimeouts,
      httpRequests: this.httpRequests,
      httpResponses: byStatus(this.responsesByStatus),
      closeCodes: Object.fromEntries(CLOSE_CODE_CLASSES.map((name, i) => [name, this.closesByClass[i]!])),
      protocolErrorKinds: Object.fromEntries(
        KINDS.map((kind) => [errorKindName(kind), this.protocolErrorsByKind[kind]!]),
      ),
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
      deflate: extension === null ? noDeflateStats() : extension.stats(extended, extensionStates),
      tls: {
        compacted: this.tlsCompacted,
        compactNow: this.tlsCompactNow,
        stayed: Object.fromEntries(STAY_REASONS.map((reason, i) => [reason, this.tlsStayed[i]!])) as Record<
          StayReason,
          number
        >,
      },
    };
  }
}

const KINDS = Object.values(ErrorKind) as ErrorKindValue[];

/** The statuses counted at least once, by status. */
function byStatus(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let status = 100; status < counts.length; status++) if (counts[status]! > 0) out[status] = counts[status]!;
  return out;
}

/** The `deflate` stats of an endpoint without an extension. */
export function noDeflateStats(): DeflateStats {
  return {
    connections: 0,
    sessions: 0,
    contexts: 0,
    reservedBytes: 0,
    maxBytes: 0,
    sharedBytes: 0,
    declinedForBudget: 0,
    messagesCompressed: 0,
    bytesBeforeCompression: 0,
    bytesAfterCompression: 0,
    messagesInflated: 0,
    bytesInflated: 0,
  };
}
