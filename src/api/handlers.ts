import type { IncomingMessage } from 'node:http';
import type { ExtraHeaders } from '../protocol/http-response.js';
import type { UpgradeRequest } from '../protocol/upgrade-request.js';
import type { Connection } from './connection.js';
import type { RequestHandler } from './request-handler.js';

/** The upgrade request as handlers see it: the parsed head plus where it came from. */
export interface HandshakeRequest extends UpgradeRequest {
  /** `ip:port` of the peer, looked up when first read: read it while the connection is open. */
  readonly remoteAddress: string;
  /**
   * The node:http request given to `server.handleUpgrade`, as your framework
   * left it (Express's `req`, a session, passport's `user`, ...): ws's `req`.
   * Undefined for connections accepted by `listen`.
   */
  readonly httpRequest?: IncomingMessage | undefined;
}

/** Refuse the upgrade with an HTTP status (401, 403, 429, 503, ...). */
export interface UpgradeRefusal {
  readonly reject: number;
  readonly message?: string | undefined;
  readonly headers?: ExtraHeaders | undefined;
}

/** Accept the upgrade, optionally with user data, a subprotocol and extra response headers. */
export interface UpgradeAcceptance<UserData> {
  readonly reject?: undefined;
  readonly data?: UserData;
  /** Must be one the client offered; overrides the `protocols` option's choice. */
  readonly protocol?: string | undefined;
  readonly headers?: ExtraHeaders | undefined;
}

export type UpgradeDecision<UserData> = UpgradeAcceptance<UserData> | UpgradeRefusal | void;

/** Accept with data: what an upgrade hook that gives every connection its data returns. */
export interface UpgradeAcceptanceWithData<UserData> extends UpgradeAcceptance<UserData> {
  readonly data: UserData;
}

/** The decisions of an upgrade hook that never accepts without data, so that `conn.data` is never undefined. */
export type DataUpgradeDecision<UserData> = UpgradeAcceptanceWithData<UserData> | UpgradeRefusal;

/**
 * The handlers of an open connection's life, in either role: plain functions
 * shared by every connection, no per-connection listeners. `open` is given
 * `OpenInfo`: the upgrade request (server) or the server's response (client).
 * `data` buffers are BORROWED: they point into the shared read slab or a
 * pooled buffer and are valid only until the handler returns. Copy what you
 * keep (`Buffer.from(data)`) — as with uWebSockets.js.
 */
export interface ConnectionHandlers<UserData, OpenInfo> {
  open?(conn: Connection<UserData>, info: OpenInfo): void;
  /** `data` is valid only until this returns. Sending it back is safe; do not write into it once sent. */
  message?(conn: Connection<UserData>, data: Buffer, isBinary: boolean): void;
  /** Once per connection, after the socket is gone. `code` is the peer's close code, ours when we failed it, or 1006. */
  close?(conn: Connection<UserData>, code: number, reason: string): void;
  /** A Ping arrived; the Pong has already been sent (§5.5.2). `data` is borrowed. */
  ping?(conn: Connection<UserData>, data: Buffer): void;
  /** `data` is borrowed. */
  pong?(conn: Connection<UserData>, data: Buffer): void;
  /** Everything buffered by `send` has gone to the kernel. */
  drain?(conn: Connection<UserData>): void;
  /**
   * A handler threw, or a connection failed: reported here, never thrown into your process, and
   * counted in `stats().handlerErrors` when it was your code. `conn` is undefined when no
   * connection is concerned (a listening socket's error). Its `data` may be undefined even where
   * the other handlers see `UserData`: `error` also hears of connections that never opened (an
   * `upgrade` hook or `checkOrigin` that threw or rejected, a `request` handler that failed).
   */
  error?(error: Error, conn: Connection<UserData | undefined> | undefined): void;
}

/** A server's handlers: those of every connection, `open` given the upgrade request, and the two that only a server has. */
export interface Handlers<UserData = unknown> extends ConnectionHandlers<UserData, HandshakeRequest> {
  /**
   * A plain HTTP request on the WebSocket port (no `Upgrade: websocket`):
   * answer it, or return nothing for a 404. Without this handler such a
   * request gets 426 Upgrade Required. Server role only.
   */
  request?: RequestHandler;
  /** Decide on an upgrade before the 101 is sent. May return a promise (reading waits). */
  upgrade?(request: HandshakeRequest): UpgradeDecision<UserData> | Promise<UpgradeDecision<UserData>>;
}
