import type { BufferPool } from '../pool/buffer-pool.js';
import type { Connection } from './connection.js';
import { sideOf } from './writer.js';

/**
 * Appends bytes of an HTTP head that arrived in pieces to the connection's
 * pooled head buffer (`side.head[0..headLength)`), growing it as needed.
 * Used by both handshakes; the caller bounds how much it appends.
 */
export function appendHead(pool: BufferPool, conn: Connection, buf: Buffer, start: number, end: number): void {
  if (start >= end) return;
  const side = sideOf(conn);
  const needed = side.headLength + (end - start);
  if (side.head === null) side.head = pool.borrow(needed);
  else if (needed > side.head.length) side.head = pool.grow(side.head, side.headLength, needed);
  buf.copy(side.head, side.headLength, start, end);
  side.headLength = needed;
}

/** Gives the head buffer back (refused, failed or finished connection). */
export function releaseHead(pool: BufferPool, conn: Connection): void {
  const side = conn.side;
  if (side?.head == null) return;
  pool.release(side.head);
  side.head = null;
  side.headLength = 0;
  side.headScan = 0;
}
