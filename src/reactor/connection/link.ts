import type { TransportName } from '../../api/options.js';

/**
 * What the reactor needs from a transport, per connection. Transports (raw
 * libuv handles, or net/tls sockets) implement it once for all their
 * connections and call back into the reactor (`Reactor.onData`, `onEnd`,
 * `writer.complete`, ...). The reactor never touches a socket directly.
 *
 * Generic over the connection type so that this file imports no connection: the
 * connection holds its link, and the link takes connections.
 */
export interface Link<C> {
  /** 'handle' or 'socket', for stats and logs. */
  readonly name: TransportName;
  /**
   * Writes `buf[0..length)`. Returns how many bytes the kernel did not take at
   * once: 0 means all written and `buf` is free again; a positive count means
   * the transport holds `buf` until it calls `reactor.writer.complete(conn, status)`.
   * A negative number is a libuv error code and nothing is pending.
   */
  write(conn: C, buf: Buffer, length: number): number;
  /**
   * Writes `header` then `payload` now, as much of them as the kernel takes,
   * and queues nothing: returns the bytes taken (0 when it takes none or the
   * transport cannot write this way right now), or a negative errno when the
   * socket is dead. Neither buffer is referenced once it returns, so a large
   * payload can go out without first being copied (see the writer). Called
   * only with no write in flight. Optional: a transport without it copies.
   */
  tryWrite?(conn: C, header: Buffer, payload: Uint8Array): number;
  /**
   * Writes a latin1 string (an HTTP head: the 101, a refusal) with `write`'s
   * answer, but holds no buffer of ours: whatever the kernel does not take at
   * once, the transport copies. Called only with no write in flight.
   * Optional: a transport without it gets the head encoded into a pooled buffer.
   */
  writeLatin1?(conn: C, head: string): number;
  /** Stops reading this connection (backpressure, or after a close handshake ends). */
  pause(conn: C): void;
  resume(conn: C): void;
  /** Sends FIN once pending writes are out; reading goes on until EOF or destroy. */
  shutdown(conn: C): void;
  /** Closes the socket now. Pending writes complete later with an error status. */
  destroy(conn: C): void;
  /** The peer's address, `ip:port`, for logs and the upgrade request. */
  remoteAddress(conn: C): string;
}
