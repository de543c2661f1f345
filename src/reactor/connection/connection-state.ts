/**
 * Bits of `ConnectionRecord.flags`. One small integer instead of a field per
 * boolean keeps an idle connection a few words long. Other bits of the same
 * word: the route index below, the deflate window (deflate-extension.ts);
 * test/reactor/connection/flag-bits.test.ts checks that none overlap. A new
 * allocation elsewhere: export it and add it there.
 */
export const State = {
  /** Accepted; the HTTP upgrade request is not complete yet. */
  Handshaking: 1 << 0,
  /** 101 sent: messages flow. */
  Open: 1 << 1,
  /** We sent a Close frame (§5.5.1): no more data frames go out. */
  CloseSent: 1 << 2,
  /** The peer's Close frame arrived: nothing more is read. */
  CloseReceived: 1 << 3,
  /** The socket is gone; the close handler has run or is running. */
  Closed: 1 << 4,
  /** Reads are stopped (paused by backpressure or done reading). */
  Paused: 1 << 5,
  /** Shut down (FIN) once the pending writes are out. */
  EndAfterFlush: 1 << 6,
  /** A write is in flight in the transport. */
  Writing: 1 << 7,
  /** The upgrade hook is still deciding (async): reads are paused, and what was read meanwhile is held. */
  UpgradeDeciding: 1 << 8,
  /** Reads stopped because this connection's queued writes are high (backpressure), until they drain. */
  ReadBlocked: 1 << 9,
  /** A heartbeat ping is out and nothing has come back since. */
  Pinged: 1 << 10,
  /**
   * An extension was negotiated (RFC 6455 §9; reactor/extensions/): its RSV
   * bits may mark a message, and it transforms this connection's messages.
   * Bits 12–14 are the extension's own (EXTENSION_SHIFT).
   */
  Extension: 1 << 11,
  /**
   * The connection carries plain HTTP requests (http-exchange.ts): kept open
   * between them (keep-alive) and through a drain, counted in `stats().http`.
   * Cleared if it upgrades.
   */
  Http: 1 << 15,
  /** A plain request's head is in and its body is being gathered (extras.requestLength says how long head and body are together). */
  HttpBody: 1 << 16,
  /** Bytes read behind an answered plain request wait in the head buffer, to be read as the next request. */
  Pipelined: 1 << 17,
  /** The request handler is still answering a plain request (async): reads are paused, and what was read meanwhile is held. */
  HttpAnswering: 1 << 18,
  /** Frames sent to it this loop turn wait in the writer's turn batch, to go out in one write when the turn ends. */
  Batched: 1 << 19,
} as const;

/** Someone else's answer is awaited (the upgrade hook's or the request handler's): nothing read is acted on until it comes. */
export const AWAITING_ANSWER = State.UpgradeDeciding | State.HttpAnswering;

/**
 * Bits 12–14 of `ConnectionRecord.flags` belong to the negotiated extension, for
 * what it agreed with this peer, so an idle connection needs no field for it
 * (permessage-deflate: which shared compressor's window it needs). Every
 * other bit of `flags` is allocated here too, so none is handed out twice.
 */
export const EXTENSION_SHIFT = 12;
export const EXTENSION_MASK = 7 << EXTENSION_SHIFT;

/**
 * Bits 20–29 of `ConnectionRecord.flags` hold the index of the connection's route
 * (route-table.ts) on a server with routes: which handlers it belongs to
 * costs no field. State bits stay below bit 20; bit 29 is the highest that
 * keeps flags a positive small integer (Smi) under pointer compression.
 */
export const ROUTE_SHIFT = 20;
export const MAX_ROUTES = 1 << 10;
