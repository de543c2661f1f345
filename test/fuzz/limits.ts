/**
 * The fuzz harness's limits: the ones the child server runs with, which the
 * generator aims at and the oracle checks against, and the HTTP statuses a
 * broken handshake may get.
 */

export interface Limits {
  maxMessageSize: number;
  /** Past FREE_FRAGMENTS, a message's fragments must average this many bytes. */
  minFragmentSize: number;
  maxHeaderSize: number;
  /** Not a server limit: the most fragments the generator cuts one message into. */
  fragmentsPerMessage: number;
}

/** Fragments any message may have before minFragmentSize applies (the server's rule, restated). */
export const FREE_FRAGMENTS = 1024;

export const LIMITS: Limits = {
  maxMessageSize: 64 * 1024,
  minFragmentSize: 16,
  maxHeaderSize: 8 * 1024,
  fragmentsPerMessage: 16,
};

/**
 * The child's options: small limits so violations are cheap, short timeouts
 * so silent peers end quickly. The timeouts are still long enough that the
 * client's own event-loop lag (a loaded CI machine) cannot fire them while it
 * is delivering: the wheel turns once a second, so idle 5 s fires 4-5 s after
 * the last read.
 */
export const SERVER_OPTIONS = {
  maxMessageSize: LIMITS.maxMessageSize,
  minFragmentSize: LIMITS.minFragmentSize,
  maxHeaderSize: LIMITS.maxHeaderSize,
  handshakeTimeoutMs: 6000,
  idleTimeoutMs: 5000,
  closeTimeoutMs: 2000,
  // A frame or message still incomplete after the grace is failed (1008) at the first check: the
  // rate is far above anything a stalled peer reaches, so stalls end fast and deterministically.
  slowMessageTimeoutMs: 6000,
  minMessageRate: 1 << 20,
  maxConnections: 4096,
  maxMemoryBytes: 1 << 30,
};

/** Statuses a broken handshake may get (503 only if the server is over its limits, which the fuzzer never reaches). */
export const HTTP_REFUSALS: ReadonlySet<number> = new Set([400, 403, 405, 426, 431, 505]);
