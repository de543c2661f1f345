import type { BufferPool } from '../../pool/buffer-pool.js';
import { extrasOf } from '../connection/connection-extras.js';
import type { ConnectionRecord } from '../connection/connection-record.js';

/**
 * Appends bytes of an HTTP head that arrived in pieces to the connection's
 * pooled head buffer (`extras.head[0..headLength)`), growing it as needed.
 * Used by both handshakes; the caller bounds how much it appends.
 */
export function appendHead(pool: BufferPool, conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
  if (start >= end) return;
  const extras = extrasOf(conn);
  const needed = extras.headLength + (end - start);
  if (extras.head === null) extras.head = pool.borrow(needed);
  else if (needed > extras.head.length) extras.head = pool.grow(extras.head, extras.headLength, needed);
  buf.copy(extras.head, extras.headLength, start, end);
  extras.headLength = needed;
}

/**
 * Takes the gathered head bytes out of the connection: the caller now owns
 * the pooled buffer (and releases it). Null when nothing was gathered.
 */
export function takeHead(conn: ConnectionRecord): { buf: Buffer; length: number } | null {
  const extras = conn.extras;
  if (extras === null || extras.head === null) return null;
  const taken = { buf: extras.head, length: extras.headLength };
  extras.head = null;
  extras.headLength = 0;
  extras.headScan = 0;
  extras.headSyntax = 0;
  extras.requestLength = 0;
  return taken;
}

/** Gives the head buffer back (refused, failed or finished connection). */
export function releaseHead(pool: BufferPool, conn: ConnectionRecord): void {
  const taken = takeHead(conn);
  if (taken !== null) pool.release(taken.buf);
}
