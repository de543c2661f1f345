import type { BufferPool } from '../../pool/buffer-pool.js';
import { writeFrameHeader } from '../../protocol/frame-header.js';
import { extrasOf, type ConnectionExtras } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { SendResult } from '../../api/send-result.js';
import type { SharedFrame } from './shared-frame.js';
import { TurnBatch, type BatchEntry } from './turn-batch.js';
import type { WriterEvents, WriterLimits } from './writer-events.js';

/** Largest frame header: 2 bytes, 8 of extended length, 4 of mask (RFC 6455 §5.2). */
const MAX_HEADER = 14;

/**
 * One connection's bytes on their way to the kernel: written at once when
 * the kernel takes them, else held (the buffer in flight) until the transport
 * reports completion, and whatever comes meanwhile copied into one outbox,
 * written as one when the in-flight write completes. So a connection has at
 * most one write in flight and at most two buffers, whatever the sender does,
 * within maxBufferedBytes. The writer and the turn's batch both end here.
 */
export class ConnectionOutput {
  bytesOut = 0;
  framesOut = 0;
  /** The header of a frame written straight from the caller's payload (writeDirect); the write is synchronous. */
  private readonly header = Buffer.allocUnsafeSlow(MAX_HEADER);
  /** Frames whose payload went out from the caller's buffer, and how many of their bytes the kernel took so. */
  framesDirect = 0;
  bytesDirect = 0;

  constructor(
    private readonly pool: BufferPool,
    private readonly events: WriterEvents,
    private readonly limits: WriterLimits,
  ) {}

  /** Writes `bytes`, which lie in `frame`'s buffer: kept by reference (no copy) if the kernel does not take them all. */
  writeSharedBytes(conn: ConnectionRecord, frame: SharedFrame, bytes: Buffer): SendResult {
    const pending = conn.link.write(conn, bytes, bytes.length);
    if (pending === 0) {
      this.bytesOut += bytes.length;
      return SendResult.Written;
    }
    if (pending < 0) {
      this.events.writeFailed(conn, pending);
      return SendResult.Dropped;
    }
    frame.retain();
    const extras = extrasOf(conn);
    extras.inflightShared = frame;
    extras.inflightPending = pending;
    this.bytesOut += bytes.length - pending;
    conn.flags |= State.Writing;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  /** An entry's ranges copied into one buffer: written as one, or appended to the outbox of a connection already writing. */
  writeGathered(conn: ConnectionRecord, entry: BatchEntry, arena: Buffer): void {
    const extras = conn.extras;
    if (extras !== null && (conn.flags & State.Writing) !== 0) {
      const buf = this.reserveOutbox(conn, extras, entry.bytes);
      if (buf === null) return;
      TurnBatch.gather(entry, arena, buf.subarray(extras.outboxLength));
      extras.outboxLength += entry.bytes;
      this.checkCongestion(conn, extras);
      return;
    }
    const buf = this.pool.borrow(entry.bytes); // already counted against the budget when gathered
    TurnBatch.gather(entry, arena, buf);
    this.writeOwned(conn, buf, entry.bytes);
  }

  /**
   * A large frame with nothing in flight: header and payload go to the
   * kernel together from where they are (the payload is not copied), and
   * only what the kernel does not take is copied into a pooled buffer and
   * written as usual, because the caller may reuse its buffer (or it is the
   * read slab) as soon as `send` returns. Except when the payload lies in
   * the message buffer its handler was handed (an echo of a message that
   * came in over several reads): that buffer is the pool's, and the pool
   * lends it again only once this write and the handler are both done with
   * it (`share`), so the rest is written from it as it is.
   */
  writeDirect(conn: ConnectionRecord, opcode: number, payload: Uint8Array, length: number, rsv: number): SendResult {
    const header = this.header;
    const headerLength = writeFrameHeader(header, 0, true, opcode, length, false, 0, rsv);
    const total = headerLength + length;
    const taken = conn.link.tryWrite!(conn, header.subarray(0, headerLength), payload);
    if (taken < 0) {
      this.events.writeFailed(conn, taken);
      return SendResult.Dropped;
    }
    const rest = total - taken;
    if (rest !== 0 && taken >= headerLength) {
      const shared = this.pool.share(payload);
      if (shared !== null) {
        this.countDirect(taken);
        const from = payload.byteOffset + taken - headerLength;
        const view = Buffer.from(shared.buffer, from, rest); // a view: no copy
        return this.settle(conn, shared, rest, conn.link.write(conn, view, rest));
      }
    }
    // Nothing sent yet: the memory budget may still refuse the frame whole, as for any other.
    // Part of it sent: the rest must follow whatever the budget says, or the stream is broken.
    const buf = taken === 0 ? this.borrow(conn, rest) : rest === 0 ? null : this.pool.borrow(rest);
    if (taken === 0 && buf === null) return SendResult.Dropped;
    this.countDirect(taken);
    if (buf === null) return SendResult.Written;
    if (taken < headerLength) {
      header.copy(buf, 0, taken, headerLength);
      buf.set(payload, headerLength - taken);
    } else {
      buf.set(taken === headerLength ? payload : payload.subarray(taken - headerLength), 0);
    }
    return this.writeOwned(conn, buf, rest);
  }

  /** A frame went out by writeDirect, `taken` of its bytes at once. */
  private countDirect(taken: number): void {
    this.framesOut++;
    this.framesDirect++;
    this.bytesDirect += taken;
    this.bytesOut += taken;
  }

  /** A write owns `buf` (pooled): release now if done, else hold it as in flight. */
  writeOwned(conn: ConnectionRecord, buf: Buffer, length: number): SendResult {
    return this.settle(conn, buf, length, conn.link.write(conn, buf, length));
  }

  /** A latin1 head written from its string (Link.writeLatin1): what the kernel did not take, the transport holds. */
  writeString(conn: ConnectionRecord, head: string): SendResult {
    return this.settle(conn, null, head.length, conn.link.writeLatin1!(conn, head));
  }

  /**
   * `length` bytes written (from `buf`, or a view of it), `pending` of them
   * not yet taken: `buf` (ours, if any) back now, or held as in flight.
   */
  private settle(conn: ConnectionRecord, buf: Buffer | null, length: number, pending: number): SendResult {
    if (pending === 0) {
      if (buf !== null) this.pool.release(buf);
      this.bytesOut += length;
      return SendResult.Written;
    }
    if (pending < 0) {
      if (buf !== null) this.pool.release(buf);
      this.events.writeFailed(conn, pending);
      return SendResult.Dropped;
    }
    const extras = extrasOf(conn);
    extras.inflight = buf;
    extras.inflightPending = pending;
    this.bytesOut += length - pending;
    conn.flags |= State.Writing;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  /** A shared frame for a connection with a write in flight: copied into its outbox, within maxBufferedBytes. */
  queueShared(conn: ConnectionRecord, extras: ConnectionExtras, frame: SharedFrame): SendResult {
    return this.queueBytes(conn, extras, frame.bytes);
  }

  /** Bytes for a connection with a write in flight: copied into its outbox, within maxBufferedBytes. */
  queueBytes(conn: ConnectionRecord, extras: ConnectionExtras, bytes: Buffer): SendResult {
    if (extras.bufferedAmount() + bytes.length > this.limits.maxBufferedBytes) return this.events.overflow(conn);
    const buf = this.reserveOutbox(conn, extras, bytes.length);
    if (buf === null) return SendResult.Dropped;
    bytes.copy(buf, extras.outboxLength);
    extras.outboxLength += bytes.length;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  checkCongestion(conn: ConnectionRecord, extras: ConnectionExtras): void {
    if ((conn.flags & State.ReadBlocked) === 0 && extras.bufferedAmount() >= this.limits.congestedBytes)
      this.events.congested(conn);
  }

  /** A pooled buffer within the memory budget; on refusal, ask for memory to be freed and try once more. */
  borrow(conn: ConnectionRecord, size: number): Buffer | null {
    const buf = this.pool.tryBorrow(size);
    if (buf !== null) return buf;
    this.events.starved(conn, size);
    return this.pool.tryBorrow(size);
  }

  releaseInflight(extras: ConnectionExtras): void {
    if (extras.inflight !== null) this.pool.release(extras.inflight);
    else if (extras.inflightShared !== null) extras.inflightShared.release();
    extras.inflight = null;
    extras.inflightShared = null;
    extras.inflightPending = 0;
  }

  /** Makes room for `more` bytes at the end of the outbox; null when the memory budget says no. */
  reserveOutbox(conn: ConnectionRecord, extras: ConnectionExtras, more: number): Buffer | null {
    const needed = extras.outboxLength + more;
    if (extras.outbox === null) {
      extras.outbox = this.borrow(conn, needed);
    } else if (needed > extras.outbox.length) {
      const grown =
        this.pool.tryGrow(extras.outbox, extras.outboxLength, Math.max(needed, 2 * extras.outbox.length)) ??
        (this.events.starved(conn, needed), this.pool.tryGrow(extras.outbox, extras.outboxLength, needed));
      if (grown === null) return null;
      extras.outbox = grown;
    }
    return extras.outbox;
  }
}
