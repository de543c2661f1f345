import type { OriginPolicy } from '../protocol/origin.js';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
export type DeflateMode = 'off' | 'shared' | 'window';
/** What a send does when a receiver already holds `maxBufferedBytes` unwritten: close it (1008), or drop the message. */
export type BackpressurePolicy = 'close' | 'drop';
/** What carries a connection: 'handle' (raw libuv TCP handles) or 'socket' (net/tls). `transport` option: these or 'auto'. */
export type TransportName = 'handle' | 'socket';

/**
 * The settings both endpoints (RFC 6455 §1.2: server and client) share:
 * limits, timeouts, logging. Every one has a default; see docs/api.md "Options and defaults".
 */
export interface EndpointOptions {
  /** Largest message, in bytes, across all its fragments. Larger → close 1009. Default 16 MiB. */
  maxMessageSize?: number | undefined;
  /**
   * Past its first 1024 fragments, a message's fragments must carry this many
   * payload bytes on average, else close 1008: a peer cannot make the server
   * do per-frame work for nothing (empty-fragment floods), while any real
   * fragmentation passes (Autobahn 9.3/9.4: 4 MiB in 64 B fragments). 0 = no
   * rule. Default 16.
   */
  minFragmentSize?: number | undefined;
  /** Largest HTTP request head (upgrade or plain). Larger → 431. Default 8 KiB. */
  maxHeaderSize?: number | undefined;
  /**
   * Largest body of a plain HTTP request (Content-Length; chunked bodies get
   * 411). Larger → 413, answered from the header before any of it is read.
   * Default 64 KiB.
   */
  maxRequestBodySize?: number | undefined;
  /**
   * Serve a health check at this path (e.g. '/healthz'): 200 while the server
   * runs, 503 once `close()` has begun. GET and HEAD. Default: none.
   */
  healthPath?: string | undefined;
  /**
   * Serve `server.metrics()` at this path (e.g. '/metrics'), in the Prometheus
   * text format 0.0.4. GET and HEAD. Default: none.
   */
  metricsPath?: string | undefined;
  /**
   * The shared read slab every socket reads into. Default 64 KiB and 14
   * bytes: a 64 KiB message with its largest header comes in one read, and
   * is parsed where it lies.
   */
  readSlabSize?: number | undefined;
  /**
   * Close a connection whose upgrade request is not complete by then. Default
   * 10 s. It runs on while reading is held for an async upgrade hook or
   * request handler: a hook that never settles must not keep the connection.
   */
  handshakeTimeoutMs?: number | undefined;
  /**
   * Close (1001) a connection that sent nothing for this long; 0 = never.
   * Default 0. Time while we do not read it (`conn.pause()`, or its queue over
   * the backpressure mark) does not count: what it sent waits unread; the
   * wait starts afresh on resume. A peer that does not read is the
   * `maxBufferedBytes` policy's to judge.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Send a Ping after this long without hearing from the peer; 0 = never.
   * With idleTimeoutMs, a peer that stays silent that long after the Ping is
   * dropped as dead. Default 0. No Ping goes and none is judged while we do
   * not read the connection (as for idleTimeoutMs).
   */
  pingIntervalMs?: number | undefined;
  /**
   * Most bytes queued for one connection (sent but not yet taken by the
   * kernel). A send beyond it is dropped or closes the connection (see
   * `backpressure`). Reading from a connection pauses while its queue is
   * above a quarter of this and resumes when it drains. Default 16 MiB
   * (one maxMessageSize message always fits).
   */
  maxBufferedBytes?: number | undefined;
  /** What a send over maxBufferedBytes does: 'close' (1008, default) or 'drop' (send returns Dropped). */
  backpressure?: BackpressurePolicy | undefined;
  /**
   * Budget for all pooled memory lent out at once (partial frames, messages
   * being assembled, queued writes), across all connections. Near it, new
   * connections get 503; at it, the largest queued senders are shed and peers
   * needing a buffer are closed with 1013. Default: a quarter of system memory.
   */
  maxMemoryBytes?: number | undefined;
  /**
   * Slow-message (slowloris) guard: a frame or fragmented message still
   * incomplete after this long must have arrived at `minMessageRate` bytes/s
   * or faster, else the connection is closed (1008). 0 = off. Default 10 s.
   * Its clock stops while we do not read the connection (`conn.pause()` or
   * backpressure) and goes on from there on resume.
   */
  slowMessageTimeoutMs?: number | undefined;
  /** Bytes per second a message in progress must average, after slowMessageTimeoutMs. Default 1024. */
  minMessageRate?: number | undefined;
  /**
   * After we send Close, wait this long for the peer's Close before dropping it.
   * Default 5 s. Closing ends `conn.pause()` (the peer's Close is read; no
   * message reaches a handler after ours); a connection whose peer does not
   * read (backpressure) is not read either, and is dropped at this timeout.
   */
  closeTimeoutMs?: number | undefined;
  /** TCP keep-alive probe delay; 0 = off. Default 0. */
  keepAliveMs?: number | undefined;
  /** TCP_NODELAY: send small frames at once instead of coalescing (Nagle). Default true. */
  noDelay?: boolean | undefined;
  /** Accepted origins: undefined = same host as Host only, a list, '*' in a list, or a function. */
  checkOrigin?: OriginPolicy | undefined;
  /**
   * The Host header values the server answers (against DNS rebinding, which
   * the origin check cannot stop): names or addresses, the port ignored
   * (`'localhost'`, `'127.0.0.1'`, `'[::1]'`), `'.example.com'` for that domain
   * and every name under it, `'*'` for any. Upgrades and plain HTTP requests
   * naming another host get 421 Misdirected Request. Default: any host.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Subprotocols the server speaks, most preferred first (§4.2.2). Default none. */
  protocols?: readonly string[] | undefined;
  /**
   * Most connections at once (handshaking included); more are answered 503 and
   * closed before anything is read. Default: what the open-files limit allows
   * (soft limit − open descriptors − 64), so accept never meets EMFILE.
   */
  maxConnections?: number | undefined;
  /** Bytes the pool keeps for reuse after they are returned. Default 64 MiB. */
  poolRetainedBytes?: number | undefined;
  /**
   * permessage-deflate (RFC 7692), offered by every browser. 'off' (default):
   * never negotiated. 'shared': no context takeover in either direction, so one
   * compressor and one decompressor serve every connection and a connection
   * holds no zlib state at all. 'window': context takeover (better ratio on
   * repetitive streams) with each connection's own contexts, created when
   * first used, bounded by `deflateWindowBits` and counted in `maxDeflateBytes`.
   */
  deflate?: DeflateMode | undefined;
  /** Messages shorter than this (bytes) are sent uncompressed. Default 1024. */
  deflateThreshold?: number | undefined;
  /** 'window' mode: the largest LZ77 window of a connection's own contexts, 9–15. Default 12 (4 KiB). */
  deflateWindowBits?: number | undefined;
  /** zlib memLevel of compressors, 1–9. Default 8. */
  deflateMemLevel?: number | undefined;
  /** zlib compression level, 0–9 (-1: zlib's default, 6). Default 6. */
  deflateLevel?: number | undefined;
  /**
   * Budget for the connections' own zlib contexts ('window' mode); when one
   * more connection's would pass it, that connection is accepted without the
   * extension. Default 256 MiB.
   */
  maxDeflateBytes?: number | undefined;
  logLevel?: LogLevel | undefined;
  /** Where log lines go. Default: process.stderr. */
  logger?: ((level: LogLevel, message: string) => void) | undefined;
}

export const DEFAULTS = {
  maxMessageSize: 16 * 1024 * 1024,
  minFragmentSize: 16,
  maxHeaderSize: 8 * 1024,
  maxRequestBodySize: 64 * 1024,
  readSlabSize: 64 * 1024 + 14, // 14: the largest frame header (RFC 6455 §5.2)
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 0,
  closeTimeoutMs: 5_000,
  pingIntervalMs: 0,
  slowMessageTimeoutMs: 10_000,
  minMessageRate: 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  backpressure: 'close' as BackpressurePolicy,
  keepAliveMs: 0,
  noDelay: true,
  protocols: [] as readonly string[],
  poolRetainedBytes: 64 * 1024 * 1024,
  deflate: 'off' as DeflateMode,
  deflateThreshold: 1024,
  deflateWindowBits: 12,
  deflateMemLevel: 8,
  deflateLevel: 6,
  maxDeflateBytes: 256 * 1024 * 1024,
  logLevel: 'warn' as LogLevel,
} as const;
