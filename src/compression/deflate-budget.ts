/**
 * The memory a zlib context holds, estimated before it is created, and the
 * budget every connection's contexts are counted against (`maxDeflateBytes`).
 *
 * Measured on Node 20 and 24 (x86-64, resident bytes per context over 2,000
 * contexts, each used once): Node's bundled zlib (Chromium's) always gives a
 * deflate context a 64 KiB hash table (its SIMD hashing fixes hash_bits at
 * 15), so memLevel and windowBits matter less than zlib's manual says:
 * deflate 87 KB (windowBits 9, memLevel 1), 93 KB (10, 4), 226 KB (15, 8);
 * inflate 25 KB (10) to 58 KB (15) on Node 20, 43–77 KB on Node 24. The
 * estimates below are upper bounds of those figures, so a budget holds.
 */

/** Resident bytes of a raw deflate context with these settings. */
export function deflateContextBytes(windowBits: number, memLevel: number): number {
  // window (2 × 2^w) + prev (2 × 2^w) + 64 KiB hash + pending (4 × 2^(memLevel+6)) + state and JS stream
  return (1 << (windowBits + 2)) + (1 << 16) + (1 << (memLevel + 8)) + 24 * 1024;
}

/** Resident bytes of a raw inflate context with this window. */
export function inflateContextBytes(windowBits: number): number {
  // window 2^w + inflate_state (~7 KB) + Node's allocations and JS stream, Node 24's larger
  return (1 << windowBits) + 44 * 1024;
}

/** A server's copy of a raw inflater's window (inflate-window.ts, what a handover carries): 2^w bytes. */
export function inflateWindowCopyBytes(windowBits: number): number {
  return 1 << windowBits;
}

/** What the contexts of every connection may hold at once; shared contexts are counted but never refused. */
export class DeflateBudget {
  /** Bytes reserved by connections' own (context takeover) contexts. */
  reserved = 0;
  /** Bytes of the contexts shared by all connections (a few per reactor). */
  shared = 0;
  /** Connections that would have passed the budget, accepted without the extension. */
  declined = 0;

  constructor(readonly max: number) {}

  /** Would `bytes` more fit? */
  fits(bytes: number): boolean {
    return this.reserved + bytes <= this.max;
  }

  /** Reserves `bytes` if they fit; false (counted) when they do not. */
  tryReserve(bytes: number): boolean {
    if (!this.fits(bytes)) {
      this.declined++;
      return false;
    }
    this.reserved += bytes;
    return true;
  }

  release(bytes: number): void {
    this.reserved -= bytes;
  }
}
