/**
 * The buffer an incomplete frame's payload is gathered in (receiver.ts): how
 * large to borrow it, given the length the header claims and what has
 * actually arrived.
 *
 * The payload alone goes in it (the header is kept decoded beside it), so a
 * 1 MiB payload fits the pool's largest class and reuses a warm buffer.
 * Larger ones are the pool's fresh exact allocations.
 */

/** Where borrowed buffers come from: the reactor's pool (structural, so this layer imports no pool). */
export interface BufferLender {
  /** A buffer of at least `size` bytes, or null when the memory budget says no. */
  tryBorrow(size: number): Buffer | null;
  /** A buffer of at least `size` bytes holding `buf[0..used)`; `buf` goes back. Null on budget. */
  tryGrow(buf: Buffer, used: number, size: number): Buffer | null;
  release(buf: Buffer): void;
}

/** The receiver's lender: whole messages are handed out to their handler from it, and back. */
export interface MessageLender extends BufferLender {
  /**
   * `buf` is now a message handler's data, until `handBack(buf)` when the
   * handler returned. Meanwhile a write of that data may share the buffer
   * instead of copying it (the pool's `share`); it is lent again only once
   * both are done with it.
   */
  handOut(buf: Buffer): void;
  /** The handler returned: `buf` goes back, or stays with the write that shares it until written. */
  handBack(buf: Buffer): void;
}

/** A claimed payload up to this is borrowed whole at once: one copy, no regrowth. */
export const WHOLE_FRAME_LIMIT = 64 * 1024;

/**
 * Past WHOLE_FRAME_LIMIT, at most this many times the bytes that have
 * arrived are reserved: a header that only claims 16 MiB and sends a byte
 * gets 64 KiB, and a real large frame is copied into place once or twice
 * (1 MiB: none after the first read; 16 MiB: once, at 1 MiB) instead of at
 * every doubling.
 */
export const GROWTH = 16;

/**
 * A buffer for a payload of `total` bytes of which `needed` have arrived:
 * `frame` (holding `used` bytes) grown, or a new one when it is null. Sized
 * by the claimed length within the GROWTH bound; when the memory budget
 * refuses that, just what is needed. Null when even that is refused.
 */
export function borrowPayload(
  lender: BufferLender,
  frame: Buffer | null,
  used: number,
  total: number,
  needed: number,
): Buffer | null {
  let size = total <= WHOLE_FRAME_LIMIT ? total : Math.min(total, Math.max(WHOLE_FRAME_LIMIT, GROWTH * needed));
  // Within an eighth of the whole, take the whole: else the last bytes would cost another copy.
  if (size + (size >>> 3) >= total) size = total;
  const buf = frame === null ? lender.tryBorrow(size) : lender.tryGrow(frame, used, size);
  if (buf !== null || size === needed) return buf;
  return frame === null ? lender.tryBorrow(needed) : lender.tryGrow(frame, used, needed);
}
