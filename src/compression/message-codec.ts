import { DEFLATE_TAIL } from '../protocol/permessage-deflate.js';
import { ErrorKind, type ErrorKindValue } from '../protocol/protocol-error.js';
import type { BufferLender } from '../protocol/receiver.js';
import { Z_SYNC_FLUSH, type ZlibContext } from './zlib-context.js';

/**
 * One message through a zlib context, RFC 7692 §7.2: compressed with a sync
 * flush whose 4-octet tail is then removed (§7.2.1), inflated with that tail
 * appended (§7.2.2). Output goes into buffers lent by the pool, grown by
 * doubling, so a message costs no garbage and its memory is budgeted.
 */

/** Where a codec call leaves its result: a pooled buffer and how much of it is used. */
export class CodecOutput {
  buf: Buffer | null = null;
  length = 0;
}

const TAIL = DEFLATE_TAIL as Uint8Array;

/**
 * Compresses `input[start, end)` into a pooled buffer (`out.buf[0, out.length)`),
 * the trailing 00 00 FF FF removed. Returns false when the memory budget
 * refused a buffer or zlib failed (then out.buf is null).
 */
export function deflateMessage(
  ctx: ZlibContext,
  input: Uint8Array,
  start: number,
  end: number,
  lender: BufferLender,
  out: CodecOutput,
): boolean {
  // Deflate rarely grows data by more than a few bytes per 16 KiB block; JSON shrinks 5–10×.
  let buf = lender.tryBorrow(end - start + ((end - start) >>> 4) + 64);
  out.buf = null;
  if (buf === null) return false;
  let used = 0;
  let pos = start;
  let left = end - start;
  for (;;) {
    const free = ctx.process(Z_SYNC_FLUSH, input, pos, left, buf, used, buf.length - used);
    if (free < 0) {
      lender.release(buf);
      return false;
    }
    pos += left - ctx.availIn;
    left = ctx.availIn;
    used = buf.length - free;
    if (free > 0) break; // all input read and the flush complete
    const grown = lender.tryGrow(buf, used, 2 * buf.length);
    if (grown === null) {
      lender.release(buf);
      return false;
    }
    buf = grown;
  }
  out.buf = buf;
  out.length = used - TAIL.length;
  return true;
}

/**
 * Inflates the compressed message `input[start, end)` into a pooled buffer
 * (`out.buf[0, out.length)`), producing at most `maxSize + 1` bytes: a message
 * that inflates past `maxSize` is refused (MessageTooBig) as soon as it does,
 * however far it would have gone (a zip bomb costs `maxSize` of output, not
 * its inflated size). Returns 0, or the error kind: InvalidCompressedData
 * for a corrupt stream, MessageTooBig, MemoryBudgetExceeded; out.buf is null then.
 */
export function inflateMessage(
  ctx: ZlibContext,
  input: Uint8Array,
  start: number,
  end: number,
  lender: BufferLender,
  maxSize: number,
  out: CodecOutput,
): 0 | ErrorKindValue {
  out.buf = lender.tryBorrow(Math.min(maxSize + 1, Math.max(1024, 4 * (end - start))));
  out.length = 0;
  if (out.buf === null) return ErrorKind.MemoryBudgetExceeded;
  let error = inflateInto(ctx, input, start, end - start, lender, maxSize, out, false);
  if (error === 0) error = inflateInto(ctx, TAIL, 0, TAIL.length, lender, maxSize, out, true);
  if (error !== 0 && out.buf !== null) {
    lender.release(out.buf);
    out.buf = null;
  }
  return error;
}

/** Feeds `input[pos, pos + left)` to the inflater, growing `out.buf` as needed. */
function inflateInto(
  ctx: ZlibContext,
  input: Uint8Array,
  pos: number,
  left: number,
  lender: BufferLender,
  maxSize: number,
  out: CodecOutput,
  isTail: boolean,
): 0 | ErrorKindValue {
  const limit = maxSize + 1;
  for (;;) {
    const buf = out.buf!;
    const room = Math.min(buf.length, limit) - out.length;
    const free = ctx.process(Z_SYNC_FLUSH, input, pos, left, buf, out.length, room);
    if (free < 0) return ErrorKind.InvalidCompressedData;
    pos += left - ctx.availIn;
    left = ctx.availIn;
    out.length += room - free;
    if (out.length > maxSize) return ErrorKind.MessageTooBig;
    if (free > 0) {
      if (left === 0) return 0;
      // Input left over with room to spare: the stream ended (a block with BFINAL set). The
      // sync-flush tail we append after it is not read, which is fine; message data after the
      // end is not a valid message. The context cannot go on after its end either way.
      ctx.reset();
      return isTail ? 0 : ErrorKind.InvalidCompressedData;
    }
    const grown = lender.tryGrow(buf, out.length, Math.min(limit, 2 * buf.length));
    if (grown === null) return ErrorKind.MemoryBudgetExceeded;
    out.buf = grown;
  }
}
