import type { TransportName } from './options.js';
import type { SendData, SendResult } from './send-result.js';

/**
 * One WebSocket connection as your handlers see it: what you may call and
 * read, nothing of how the reactor keeps it. (The object behind it is the
 * reactor's own, a few plain fields; see docs/architecture.md.)
 *
 * `UserData` is what `data` holds. A server types it `YourData | undefined`
 * unless its `upgrade` hook returns data for every connection it accepts
 * (docs/api.md "Typing conn.data").
 */
export interface Connection<UserData = unknown> {
  /** Yours: returned by `upgrade`, handed to `handleUpgrade` or `connect`, or set in `open`. */
  data: UserData;
  /** Open and not closing: `send` will be accepted. (ws: `readyState === OPEN`.) */
  readonly isOpen: boolean;
  /** Bytes accepted by `send`, `publish` or `broadcast` that the kernel has not taken yet, what this loop turn gathers for its one write included. */
  readonly bufferedAmount: number;
  /** The subprotocol agreed in the handshake, or ''. */
  readonly protocol: string;
  /** The peer's `ip:port` (`[ip]:port` for IPv6). */
  readonly remoteAddress: string;
  /** What carries this connection: 'handle' (raw libuv handle) or 'socket' (net/tls, and every handleUpgrade). */
  readonly transport: TransportName;
  /**
   * Sends one message: a string as text, anything else as binary unless
   * `isBinary` says otherwise. Returns SendResult.Written (1), Queued (0,
   * backpressure: wait for `drain`) or Dropped (2): uWebSockets.js's numbers.
   */
  send(data: SendData, isBinary?: boolean): SendResult;
  /** Sends a Ping, at most 125 bytes. */
  ping(data?: SendData): SendResult;
  /** Sends an unsolicited Pong (a one-way heartbeat), at most 125 bytes. */
  pong(data?: SendData): SendResult;
  /** Starts the closing handshake; the socket goes when the peer answers or after closeTimeoutMs. */
  close(code?: number, reason?: string): void;
  /** Drops the connection now, without a closing handshake. */
  terminate(): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  isSubscribed(topic: string): boolean;
  /**
   * Sends to every subscriber of `topic` but this connection (as uWebSockets.js's
   * `ws.publish`), here and, with a topic bridge (lightws/redis), on every
   * other server. Returns how many local subscribers it went to.
   */
  publish(topic: string, data: SendData, isBinary?: boolean): number;
  /**
   * Stops reading this connection until `resume` (or until it closes: closing
   * reads the peer's Close). Meanwhile the heartbeat, idleTimeoutMs and the
   * slow-message clock do not judge it.
   */
  pause(): void;
  resume(): void;
}
