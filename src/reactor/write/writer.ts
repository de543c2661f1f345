import type { BufferPool } from '../../pool/buffer-pool.js';
import { frameHeaderLength, writeFrameHeader } from '../../protocol/frame-header.js';
import { MaskKeySource } from '../../protocol/mask-key.js';
import { isControlOpcode } from '../../protocol/opcode.js';
import { extrasOf, type ConnectionExtras } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { bytesOf, SendResult, type SendData } from '../../api/send-result.js';
import { encodeFrame } from './encode-frame.js';
import { SharedFrame } from './shared-frame.js';
import type { ReactorContext } from '../context.js';

/** What the writer reports back: to the reactor, which hands each event to the lifecycle or flow control. */
export interface WriterEvents {
  /** A write failed (EPIPE, ECONNRESET, ...): the connection is dead. */
  writeFailed(conn: ConnectionRecord, errno: number): void;
  /** Everything queued has been written. */
  flushed(conn: ConnectionRecord): void;
  /** A data frame would take the queue past maxBufferedBytes: apply the policy. */
  overflow(conn: ConnectionRecord): SendResult;
  /** The queue passed the point where reading this connection should pause. */
  congested(conn: ConnectionRecord): void;
  /** The memory budget refused `bytes`: free some (shed senders) if possible. */
  starved(conn: ConnectionRecord, bytes: number): void;
}

/** Who a shared frame goes to: the registry, or a topic's subscriber set (both walk safely while receivers leave). */
export interface Receivers {
  forEach(visit: (conn: ConnectionRecord) => void): void;
}

/** Limits the writer enforces per connection. */
export interface WriterLimits {
  readonly maxBufferedBytes: number;
  /** Queue size above which `congested` is reported. */
  readonly congestedBytes: number;
}

/**
 * Most bytes gathered for one corked connection before they are written
 * anyway: enough for many small frames, small enough that a handler sending
 * a lot to its own connection is still written as it goes.
 */
const CORK_LIMIT = 64 * 1024;

/**
 * Smallest payload written straight from the caller's buffer (header and
 * payload in one writev) instead of being copied into a pooled one: below
 * it, copying costs less than the extra system call's overhead.
 */
export const DIRECT_WRITE_MIN = 32 * 1024;

/** Largest frame header: 2 bytes, 8 of extended length, 4 of mask (RFC 6455 §5.2). */
const MAX_HEADER = 14;

/**
 * Frames go out by the shortest road: framed into one pooled buffer (header
 * and payload together, one write), written at once, and the buffer is back
 * in the pool before `send` returns when the kernel took it all. Only when
 * it did not is anything kept: the in-flight buffer until the transport
 * reports completion, and frames sent meanwhile in one outbox per connection,
 * written as one when the in-flight write completes. So a connection has at
 * most one write in flight and at most two buffers, whatever the sender does.
 */
export class Writer {
  bytesOut = 0;
  framesOut = 0;
  /**
   * The connection whose read is being handled, if any. Frames sent to it
   * meanwhile are gathered in `corkBuf` and written in one write when the
   * handling ends (`uncork`): one write(2) per read instead of one per
   * message, as uWebSockets.js does.
   */
  private corked: ConnectionRecord | null = null;
  private corkBuf: Buffer | null = null;
  private corkLength = 0;
  /** The header of a frame written straight from the caller's payload (writeDirect); the write is synchronous. */
  private readonly header = Buffer.allocUnsafeSlow(MAX_HEADER);
  /** Frames whose payload went out from the caller's buffer, and how many of their bytes the kernel took so. */
  framesDirect = 0;
  bytesDirect = 0;

  private readonly pool: BufferPool;
  private readonly limits: WriterLimits;
  /** The client role's: every frame is masked with a fresh key (§5.3); servers never mask. */
  private readonly maskKeys: MaskKeySource | null;

  constructor(
    ctx: ReactorContext,
    private readonly events: WriterEvents,
  ) {
    this.pool = ctx.pool;
    const max = ctx.options.maxBufferedBytes;
    this.limits = { maxBufferedBytes: max, congestedBytes: Math.max(1, max >>> 2) };
    this.maskKeys = ctx.role === 'client' ? new MaskKeySource() : null;
  }

  /** Frames `payload` with `opcode` (and `rsv`, the RSV bits of a message an extension transformed: see Rsv) and writes or queues it. */
  writeFrame(conn: ConnectionRecord, opcode: number, payload: SendData, rsv = 0): SendResult {
    const isString = typeof payload === 'string';
    const bytes = isString ? null : bytesOf(payload);
    const length = isString ? Buffer.byteLength(payload) : bytes!.length;
    const masked = this.maskKeys !== null;
    const total = frameHeaderLength(length, masked) + length;
    if (conn === this.corked && (conn.flags & State.Writing) === 0) {
      if (this.corkLength + total > CORK_LIMIT && this.corkLength > 0) this.flushCork();
      if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped; // that write failed: the socket is gone
      if ((conn.flags & State.Writing) === 0 && total <= CORK_LIMIT) {
        const buf = (this.corkBuf ??= this.borrow(conn, CORK_LIMIT));
        if (buf === null) return SendResult.Dropped;
        encodeFrame(buf, this.corkLength, opcode, payload, bytes, length, rsv, this.maskKeys);
        this.corkLength += total;
        this.framesOut++;
        return SendResult.Written;
      }
    }
    const extras = conn.extras;
    const queued = extras !== null && (conn.flags & State.Writing) !== 0;
    if (
      !queued &&
      bytes !== null &&
      length >= DIRECT_WRITE_MIN &&
      this.maskKeys === null &&
      conn.link.tryWrite !== undefined
    ) {
      return this.writeDirect(conn, opcode, bytes, length, rsv);
    }
    // Control frames (close, pong) are never refused: they are small and end or answer things.
    if (queued && !isControlOpcode(opcode) && extras.bufferedAmount() + total > this.limits.maxBufferedBytes)
      return this.events.overflow(conn);
    const buf = queued ? this.reserveOutbox(conn, extras, total) : this.borrow(conn, total);
    if (buf === null) return SendResult.Dropped;
    const at = queued ? extras.outboxLength : 0;
    encodeFrame(buf, at, opcode, payload, bytes, length, rsv, this.maskKeys);
    this.framesOut++;
    if (!queued) return this.writeOwned(conn, buf, total);
    extras.outboxLength += total;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  /**
   * Writes an HTTP head (the 101, an error, a plain response), encoded as
   * latin1 straight into the buffer that is written (or queued), and the
   * body of a plain response after it, in the same write.
   */
  writeHead(conn: ConnectionRecord, head: string, body?: Uint8Array): SendResult {
    if (conn === this.corked) this.flushCork(); // keep this connection's bytes in order
    if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped; // that write failed: the socket is gone
    const headLength = head.length; // latin1: one byte per character
    const length = headLength + (body === undefined ? 0 : body.length);
    const extras = conn.extras;
    const queued = extras !== null && (conn.flags & State.Writing) !== 0;
    const buf = queued ? this.reserveOutbox(conn, extras, length) : this.borrow(conn, length);
    if (buf === null) return SendResult.Dropped;
    const at = queued ? extras.outboxLength : 0;
    buf.write(head, at, headLength, 'latin1');
    if (body !== undefined) buf.set(body, at + headLength);
    if (!queued) return this.writeOwned(conn, buf, length);
    extras.outboxLength += length;
    return SendResult.Queued;
  }

  /** Builds a frame to send to many connections. The caller calls `release()` when its loop ends. */
  frameShared(opcode: number, payload: SendData, rsv = 0): SharedFrame {
    const isString = typeof payload === 'string';
    const bytes = isString ? null : bytesOf(payload);
    const length = isString ? Buffer.byteLength(payload) : bytes!.length;
    const total = frameHeaderLength(length, this.maskKeys !== null) + length;
    const buf = this.pool.borrow(total);
    encodeFrame(buf, 0, opcode, payload, bytes, length, rsv, this.maskKeys);
    return new SharedFrame(buf, total, this.pool);
  }

  /**
   * Frames once and writes the same bytes to every open receiver (broadcast,
   * publish) but `except` (the sender of `conn.publish`). Returns how many it went to.
   */
  writeToMany(receivers: Receivers, opcode: number, data: SendData, except: ConnectionRecord | null = null): number {
    const frame = this.frameShared(opcode, data);
    let count = 0;
    try {
      receivers.forEach((conn) => {
        if ((conn.flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open || conn === except) return;
        this.writeShared(conn, frame);
        count++;
      });
    } finally {
      frame.release();
    }
    return count;
  }

  /** Writes a shared frame: the same bytes for every receiver, copied only into a busy connection's outbox. */
  writeShared(conn: ConnectionRecord, frame: SharedFrame): SendResult {
    if (conn === this.corked) this.flushCork(); // keep this connection's frames in order
    if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped; // that write failed: the socket is gone
    this.framesOut++;
    if ((conn.flags & State.Writing) !== 0) return this.queueShared(conn, conn.extras!, frame);
    const pending = conn.link.write(conn, frame.bytes, frame.length);
    if (pending === 0) {
      this.bytesOut += frame.length;
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
    this.bytesOut += frame.length - pending;
    conn.flags |= State.Writing;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  /** The transport finished the in-flight write (status < 0: it failed or was cancelled). */
  complete(conn: ConnectionRecord, status: number): void {
    const extras = conn.extras!;
    this.bytesOut += extras.inflightPending;
    this.releaseInflight(extras);
    conn.flags &= ~State.Writing;
    if (status < 0 || (conn.flags & State.Closed) !== 0) {
      this.discard(conn);
      if ((conn.flags & State.Closed) === 0) this.events.writeFailed(conn, status);
      return;
    }
    const outbox = extras.outbox;
    if (outbox !== null) {
      const length = extras.outboxLength;
      extras.outbox = null;
      extras.outboxLength = 0;
      if (this.writeOwned(conn, outbox, length) !== SendResult.Written) return;
    }
    this.events.flushed(conn);
  }

  /** Starts gathering what is sent to `conn` while its read is handled. */
  cork(conn: ConnectionRecord): void {
    this.corked = conn;
  }

  /** Ends the gathering: everything sent to the corked connection goes out in one write. */
  uncork(): void {
    if (this.corkLength > 0) this.flushCork();
    if (this.corkBuf !== null) {
      this.pool.release(this.corkBuf);
      this.corkBuf = null;
    }
    this.corked = null;
  }

  /** Writes what is gathered for the corked connection now (before a shutdown, or when the cork is full). */
  flushCork(conn?: ConnectionRecord): void {
    if (this.corkLength === 0 || (conn !== undefined && conn !== this.corked)) return;
    const target = this.corked!;
    const buf = this.corkBuf!;
    const length = this.corkLength;
    this.corkBuf = null;
    this.corkLength = 0;
    if ((target.flags & State.Closed) !== 0) {
      this.pool.release(buf);
      return;
    }
    this.writeOwned(target, buf, length);
  }

  /** Returns every buffer a dead connection holds that no transport still uses. */
  discard(conn: ConnectionRecord): void {
    if (conn === this.corked && this.corkLength > 0) {
      this.pool.release(this.corkBuf!);
      this.corkBuf = null;
      this.corkLength = 0;
    }
    const extras = conn.extras;
    if (extras === null) return;
    if (extras.outbox !== null) {
      this.pool.release(extras.outbox);
      extras.outbox = null;
      extras.outboxLength = 0;
    }
  }

  /**
   * A large frame with nothing in flight: header and payload go to the
   * kernel together from where they are (the payload is not copied), and
   * only what the kernel does not take is copied into a pooled buffer and
   * written as usual, because the caller may reuse its buffer (or it is the
   * read slab) as soon as `send` returns.
   */
  private writeDirect(
    conn: ConnectionRecord,
    opcode: number,
    payload: Uint8Array,
    length: number,
    rsv: number,
  ): SendResult {
    const header = this.header;
    const headerLength = writeFrameHeader(header, 0, true, opcode, length, false, 0, rsv);
    const total = headerLength + length;
    const taken = conn.link.tryWrite!(conn, header.subarray(0, headerLength), payload);
    if (taken < 0) {
      this.events.writeFailed(conn, taken);
      return SendResult.Dropped;
    }
    const rest = total - taken;
    // Nothing sent yet: the memory budget may still refuse the frame whole, as for any other.
    // Part of it sent: the rest must follow whatever the budget says, or the stream is broken.
    const buf = taken === 0 ? this.borrow(conn, rest) : rest === 0 ? null : this.pool.borrow(rest);
    if (taken === 0 && buf === null) return SendResult.Dropped;
    this.framesOut++;
    this.framesDirect++;
    this.bytesDirect += taken;
    this.bytesOut += taken;
    if (buf === null) return SendResult.Written;
    if (taken < headerLength) {
      header.copy(buf, 0, taken, headerLength);
      buf.set(payload, headerLength - taken);
    } else {
      buf.set(taken === headerLength ? payload : payload.subarray(taken - headerLength), 0);
    }
    return this.writeOwned(conn, buf, rest);
  }

  /** A write owns `buf` (pooled): release now if done, else hold it as in flight. */
  private writeOwned(conn: ConnectionRecord, buf: Buffer, length: number): SendResult {
    const pending = conn.link.write(conn, buf, length);
    if (pending === 0) {
      this.pool.release(buf);
      this.bytesOut += length;
      return SendResult.Written;
    }
    if (pending < 0) {
      this.pool.release(buf);
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
  private queueShared(conn: ConnectionRecord, extras: ConnectionExtras, frame: SharedFrame): SendResult {
    if (extras.bufferedAmount() + frame.length > this.limits.maxBufferedBytes) return this.events.overflow(conn);
    const buf = this.reserveOutbox(conn, extras, frame.length);
    if (buf === null) return SendResult.Dropped;
    frame.bytes.copy(buf, extras.outboxLength);
    extras.outboxLength += frame.length;
    this.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  private checkCongestion(conn: ConnectionRecord, extras: ConnectionExtras): void {
    if ((conn.flags & State.ReadBlocked) === 0 && extras.bufferedAmount() >= this.limits.congestedBytes)
      this.events.congested(conn);
  }

  /** A pooled buffer within the memory budget; on refusal, ask for memory to be freed and try once more. */
  private borrow(conn: ConnectionRecord, size: number): Buffer | null {
    const buf = this.pool.tryBorrow(size);
    if (buf !== null) return buf;
    this.events.starved(conn, size);
    return this.pool.tryBorrow(size);
  }

  private releaseInflight(extras: ConnectionExtras): void {
    if (extras.inflight !== null) this.pool.release(extras.inflight);
    else if (extras.inflightShared !== null) extras.inflightShared.release();
    extras.inflight = null;
    extras.inflightShared = null;
    extras.inflightPending = 0;
  }

  /** Makes room for `more` bytes at the end of the outbox; null when the memory budget says no. */
  private reserveOutbox(conn: ConnectionRecord, extras: ConnectionExtras, more: number): Buffer | null {
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
