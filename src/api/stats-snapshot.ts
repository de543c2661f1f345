import type { PoolStats } from '../pool/buffer-pool.js';
import type { TransportName } from './options.js';
import type { RemoteStats } from './topic-bridge.js';

/** What `server.stats()` returns: a plain object, safe to JSON.stringify or send over IPC. */
export interface StatsSnapshot {
  /** Open WebSocket connections (101 sent, not yet closed). */
  connections: number;
  /** The open connections by what carries them: `listen` uses one transport, `handleUpgrade` always 'socket'. */
  transports: Record<TransportName, number>;
  /** TCP connections still in the HTTP upgrade (or in their first plain request). */
  handshaking: number;
  /** Connections carrying plain HTTP requests now (keep-alive between them), not counted in `handshaking`. */
  http: number;
  /** Connections whose reading is paused right now because their send queue is high (backpressure). */
  backpressured: number;
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
  /** `handshakesRefused` by the HTTP status they were answered with. */
  handshakeRefusals: Record<string, number>;
  /** Connections answered 503 at accept because of maxConnections. */
  connectionsRefused: number;
  handshakeTimeouts: number;
  idleTimeouts: number;
  /** Peers that never answered our Close within closeTimeoutMs, and were dropped. */
  closeTimeouts: number;
  /** Plain HTTP connections that sent no complete request within handshakeTimeoutMs (keep-alive expiry included). */
  httpTimeouts: number;
  /** Plain HTTP requests answered, and the answers by status. */
  httpRequests: number;
  httpResponses: Record<string, number>;
  /** Ends of open connections by close code: '1000' … '1015', '3000-3999', '4000-4999', 'other' (all present, zeros included). */
  closeCodes: Record<string, number>;
  protocolErrors: number;
  /** `protocolErrors` by rule ('InvalidUtf8', 'MessageTooBig', ...; all present, zeros included). */
  protocolErrorKinds: Record<string, number>;
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
  /** What a topic bridge (e.g. lightws/redis) carried to and from other servers; zeros without one. */
  remote: RemoteStats;
  /** permessage-deflate; all zero when the `deflate` option is 'off'. */
  deflate: DeflateStats;
  /** wss:// with `tls: { ..., compact: true }`; all zero without it. */
  tls: TlsStats;
}

/** The compact TLS record layer's part of stats() (issue #23). */
export interface TlsStats {
  /** TLS connections moved from node:tls to the compact record layer since start. */
  compacted: number;
  /** Of those, connections on the compact record layer now. */
  compactNow: number;
  /**
   * TLS connections that stayed on node:tls for good, by why: `protocol` (not TLS 1.3, e.g. TLS 1.2),
   * `suite` (not AES-128/256-GCM or ChaCha20-Poly1305), `earlyData` (0-RTT attempted), `untracked`
   * (records or secrets it could not account for), `notIdle` (never idle in 50 tries 20 ms apart).
   * Connections that ended before either are in neither.
   */
  stayed: { protocol: number; suite: number; earlyData: number; untracked: number; notIdle: number };
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

/** Where the metrics text comes from: this server's own stats, or (a cluster's worker) every worker's, asked of the primary. */
export type MetricsText = () => string | Promise<string>;
