import type { BufferPool } from '../../pool/buffer-pool.js';
import { frameHeaderLength } from '../../protocol/frame-header.js';
import { MaskKeySource } from '../../protocol/mask-key.js';
import { isControlOpcode, Opcode } from '../../protocol/opcode.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { bytesOf, SendResult, type SendData } from '../../api/send-result.js';
import { ConnectionOutput } from './connection-output.js';
import { DIRECT_WRITE_MIN, encodeFrame } from './encode-frame.js';
import { SharedFrame } from './shared-frame.js';
import { TurnWriter } from './turn-writer.js';
import type { Receivers, WriterEvents, WriterLimits } from './writer-events.js';
import type { ReactorContext } from '../context.js';

const NO_PAYLOAD = Buffer.alloc(0);

export type { Receivers, WriterEvents, WriterLimits } from './writer-events.js';
export { keeping } from './writer-events.js';
export { DIRECT_WRITE_MIN } from './encode-frame.js';

/**
 * Most bytes gathered for one corked connection before they are written
 * anyway: enough for many small frames, small enough that a handler sending
 * a lot to its own connection is still written as it goes.
 */
const CORK_LIMIT = 64 * 1024;

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
  /**
   * The connection whose read is being handled, if any. Frames sent to it
   * meanwhile are gathered in `corkBuf` and written in one write when the
   * handling ends (`uncork`): one write(2) per read instead of one per
   * message, as uWebSockets.js does.
   */
  private corked: ConnectionRecord | null = null;
  private corkBuf: Buffer | null = null;
  private corkLength = 0;
  /** Reads are being handled: what is sent to other connections goes to the turn batch (turn-writer.ts). */
  private reading = false;
  private readonly flushIfCorked = (conn: ConnectionRecord): void => {
    if (conn === this.corked) this.flushCork();
  };

  private readonly pool: BufferPool;
  private readonly limits: WriterLimits;
  /** The client role's: every frame is masked with a fresh key (§5.3); servers never mask. */
  private readonly maskKeys: MaskKeySource | null;
  /** Each connection's bytes to the kernel: the write in flight and the outbox. */
  private readonly out: ConnectionOutput;
  /** What the loop turn sends to other connections than the one being read. */
  private readonly turn: TurnWriter;
  /** This tick's shared heartbeat Ping (see writeHeartbeatPing). */
  private heartbeat: SharedFrame | null = null;

  constructor(
    ctx: ReactorContext,
    private readonly events: WriterEvents,
  ) {
    this.pool = ctx.pool;
    const max = ctx.options.maxBufferedBytes;
    this.limits = { maxBufferedBytes: max, congestedBytes: Math.max(1, max >>> 2) };
    this.maskKeys = ctx.role === 'client' ? new MaskKeySource() : null;
    this.out = new ConnectionOutput(this.pool, events, this.limits);
    this.turn = new TurnWriter(this.pool, this.out, events, this.limits, this.maskKeys);
  }

  /** Does a frame for `conn` go to the turn batch? Yes when it already has frames there, or reads are handled and it is not the one read. */
  private batches(conn: ConnectionRecord): boolean {
    const flags = conn.flags;
    return (flags & State.Batched) !== 0 || (this.reading && conn !== this.corked && (flags & State.Writing) === 0);
  }

  /** Frames `payload` with `opcode` (and `rsv`, the RSV bits of a message an extension transformed: see Rsv) and writes or queues it. */
  writeFrame(conn: ConnectionRecord, opcode: number, payload: SendData, rsv = 0): SendResult {
    const isString = typeof payload === 'string';
    const bytes = isString ? null : bytesOf(payload);
    const length = isString ? Buffer.byteLength(payload) : bytes!.length;
    const masked = this.maskKeys !== null;
    const total = frameHeaderLength(length, masked) + length;
    if (this.batches(conn)) {
      if (total < DIRECT_WRITE_MIN) return this.turn.frame(conn, opcode, payload, bytes, length, total, rsv);
      if ((conn.flags & State.Batched) !== 0) this.turn.writeNow(conn); // a large frame goes after what is gathered
    }
    if (conn === this.corked && (conn.flags & State.Writing) === 0) {
      if (this.corkLength + total > CORK_LIMIT && this.corkLength > 0) this.flushCork();
      if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped; // that write failed: the socket is gone
      if ((conn.flags & State.Writing) === 0 && total <= CORK_LIMIT) {
        const buf = (this.corkBuf ??= this.out.borrow(conn, CORK_LIMIT));
        if (buf === null) return SendResult.Dropped;
        encodeFrame(buf, this.corkLength, opcode, payload, bytes, length, rsv, this.maskKeys);
        this.corkLength += total;
        this.out.framesOut++;
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
      return this.out.writeDirect(conn, opcode, bytes, length, rsv);
    }
    // Control frames (close, pong) are never refused: they are small and end or answer things.
    if (queued && !isControlOpcode(opcode) && extras.bufferedAmount() + total > this.limits.maxBufferedBytes)
      return this.events.overflow(conn);
    const buf = queued ? this.out.reserveOutbox(conn, extras, total) : this.out.borrow(conn, total);
    if (buf === null) return SendResult.Dropped;
    const at = queued ? extras.outboxLength : 0;
    encodeFrame(buf, at, opcode, payload, bytes, length, rsv, this.maskKeys);
    this.out.framesOut++;
    if (!queued) return this.out.writeOwned(conn, buf, total);
    extras.outboxLength += total;
    this.out.checkCongestion(conn, extras);
    return SendResult.Queued;
  }

  /**
   * Writes an HTTP head (the 101, an error, a plain response), encoded as
   * latin1 straight into the buffer that is written (or queued), and the
   * body of a plain response after it, in the same write.
   */
  writeHead(conn: ConnectionRecord, head: string, body?: Uint8Array): SendResult {
    this.flushCork(conn); // keep this connection's bytes in order
    if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped; // that write failed: the socket is gone
    const headLength = head.length; // latin1: one byte per character
    const length = headLength + (body === undefined ? 0 : body.length);
    const extras = conn.extras;
    const queued = extras !== null && (conn.flags & State.Writing) !== 0;
    // The string itself goes to the kernel (every upgrade's 101): no pooled buffer to fill and give back.
    if (!queued && body === undefined && conn.link.writeLatin1 !== undefined) return this.out.writeString(conn, head);
    const buf = queued ? this.out.reserveOutbox(conn, extras, length) : this.out.borrow(conn, length);
    if (buf === null) return SendResult.Dropped;
    const at = queued ? extras.outboxLength : 0;
    buf.write(head, at, headLength, 'latin1');
    if (body !== undefined) buf.set(body, at + headLength);
    if (!queued) return this.out.writeOwned(conn, buf, length);
    extras.outboxLength += length;
    this.out.checkCongestion(conn, extras); // pipelined answers the peer does not read stop its reading, as frames do
    return SendResult.Queued;
  }

  /**
   * A heartbeat's empty Ping. A server's pings of one wheel tick share one
   * frame (`endHeartbeats` lets it go), written as is to every connection
   * that has nothing else in flight: a million connections ping ~33,000 times
   * a second, and each ping framed on its own cost a pooled buffer's view per
   * write, garbage that the bursts of a tick promoted to the old generation.
   * Anything else (a client, whose every frame has its own mask; a connection
   * with writes queued or gathered) goes the way of any control frame.
   */
  writeHeartbeatPing(conn: ConnectionRecord): SendResult {
    if (
      this.maskKeys !== null ||
      this.reading ||
      conn === this.corked ||
      (conn.flags & (State.Writing | State.Batched | State.Closed)) !== 0
    )
      return this.writeFrame(conn, Opcode.Ping, NO_PAYLOAD);
    const frame = (this.heartbeat ??= this.frameShared(Opcode.Ping, NO_PAYLOAD));
    this.out.framesOut++;
    return this.out.writeSharedBytes(conn, frame, frame.bytes);
  }

  /** The tick's heartbeats are out: the shared Ping goes back to the pool once no write holds it. */
  endHeartbeats(): void {
    this.heartbeat?.release();
    this.heartbeat = null;
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
    if (this.reading) {
      const count = this.turn.toMany(receivers, opcode, data, except, this.flushIfCorked);
      if (count >= 0) return count;
    }
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
    const flags = conn.flags;
    if (
      frame.length < DIRECT_WRITE_MIN &&
      ((flags & State.Batched) !== 0 || (this.reading && (flags & State.Writing) === 0))
    )
      return this.turn.shared(conn, frame);
    this.out.framesOut++;
    if ((conn.flags & State.Writing) !== 0) return this.out.queueShared(conn, conn.extras!, frame);
    return this.out.writeSharedBytes(conn, frame, frame.bytes);
  }

  /** The transport finished the in-flight write (status < 0: it failed or was cancelled). */
  complete(conn: ConnectionRecord, status: number): void {
    const extras = conn.extras!;
    this.out.bytesOut += extras.inflightPending;
    this.out.releaseInflight(extras);
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
      if (this.out.writeOwned(conn, outbox, length) !== SendResult.Written) return;
    }
    this.events.flushed(conn);
  }

  /** Starts gathering what is sent to `conn` while its read is handled. */
  cork(conn: ConnectionRecord | null): void {
    this.corked = conn;
    this.reading = true;
  }

  /** Ends the gathering: everything sent to the corked connection goes out in one write. */
  uncork(): void {
    if (this.corkLength > 0) this.flushCork();
    if (this.corkBuf !== null) {
      this.pool.release(this.corkBuf);
      this.corkBuf = null;
    }
    this.corked = null;
    this.reading = false;
  }

  /** Writes what is gathered for the corked connection now (before a shutdown, or when the cork is full). */
  flushCork(conn?: ConnectionRecord): void {
    if (this.corkLength > 0 && (conn === undefined || conn === this.corked)) {
      const target = this.corked!;
      const buf = this.corkBuf!;
      const length = this.corkLength;
      this.corkBuf = null;
      this.corkLength = 0;
      if ((target.flags & State.Closed) !== 0) this.pool.release(buf);
      else this.out.writeOwned(target, buf, length);
    }
    // Then what the turn owes it: gathered after the cork's frames (a connection owed in the turn is corked no more).
    if (conn !== undefined && (conn.flags & State.Batched) !== 0) this.turn.writeNow(conn);
  }

  /** Bytes the loop turn owes `conn` (sent, gathered, written at the turn's end): part of its bufferedAmount. */
  owed(conn: ConnectionRecord): number {
    return (conn.flags & State.Batched) === 0 ? 0 : this.turn.owed(conn);
  }

  /** Returns every buffer a dead connection holds that no transport still uses. */
  discard(conn: ConnectionRecord): void {
    if ((conn.flags & State.Batched) !== 0) this.turn.forget(conn);
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

  /** The loop turn's end: what the turn batch owes each connection goes out (called on setImmediate; tests call it). */
  endTurn(): void {
    this.turn.endTurn();
  }

  get bytesOut(): number {
    return this.out.bytesOut;
  }
  get framesOut(): number {
    return this.out.framesOut;
  }
  get framesDirect(): number {
    return this.out.framesDirect;
  }
  get bytesDirect(): number {
    return this.out.bytesDirect;
  }
  get batchesOut(): number {
    return this.turn.batchesOut;
  }
  get batchWrites(): number {
    return this.turn.batchWrites;
  }
}
