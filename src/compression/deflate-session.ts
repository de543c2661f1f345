import type { InflateWindow } from './inflate-window.js';
import type { ZlibContext } from './zlib-context.js';

/**
 * A connection's own zlib state, for the directions that use context
 * takeover (lightws `window` mode, RFC 7692 §7.1.1): each context is created
 * when that direction first carries a compressed message, and the memory
 * both may take is reserved against the budget from the handshake on.
 * Directions without context takeover use the reactor's shared contexts and
 * are not here; a connection with neither holds no session at all.
 */
export class DeflateSession {
  sendContext: ZlibContext | null = null;
  receiveContext: ZlibContext | null = null;
  /**
   * A server's copy of what `receiveContext`'s window holds (inflate-window.ts),
   * from the first message inflated on: what a handover carries.
   */
  receiveWindow: InflateWindow | null = null;

  constructor(
    /** Window bits of our compressor (9–15), or 0 when sending uses the shared one. */
    readonly sendBits: number,
    /** Window bits of our decompressor (9–15), or 0 when receiving uses the shared one. */
    readonly receiveBits: number,
    /** Bytes reserved against the budget for both (and the receive window's copy); released when the connection ends. */
    readonly reservedBytes: number,
  ) {}
}

/**
 * A session as a handover carries it to the new process (plain values, for
 * structured clone). The send direction needs nothing more than its bits:
 * each message we send ends at a sync flush, on a byte boundary, so the
 * peer's inflater reads a fresh compressor's blocks after the old one's. The
 * receive direction needs the window the peer's compressor may still refer
 * back into.
 */
export interface DeflateSessionSnapshot {
  sendBits: number;
  receiveBits: number;
  /** The last (up to) 2^receiveBits bytes inflated, oldest first; empty when none yet. */
  window: Uint8Array;
}
