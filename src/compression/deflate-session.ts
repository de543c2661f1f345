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

  constructor(
    /** Window bits of our compressor (9–15), or 0 when sending uses the shared one. */
    readonly sendBits: number,
    /** Window bits of our decompressor (9–15), or 0 when receiving uses the shared one. */
    readonly receiveBits: number,
    /** Bytes reserved against the budget for both; released when the connection ends. */
    readonly reservedBytes: number,
  ) {}
}
