import type { BufferPool } from '../../pool/buffer-pool.js';
import { frameHeaderLength } from '../../protocol/frame-header.js';
import type { MaskKeySource } from '../../protocol/mask-key.js';
import { isControlOpcode } from '../../protocol/opcode.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { bytesOf, SendResult, type SendData } from '../../api/send-result.js';
import type { ConnectionOutput } from './connection-output.js';
import { DIRECT_WRITE_MIN, encodeFrame } from './encode-frame.js';
import { SharedFrame } from './shared-frame.js';
import { ARENA_LIMIT, TurnBatch } from './turn-batch.js';
import type { Receivers, WriterEvents, WriterLimits } from './writer-events.js';

/**
 * The writer's side of the turn batch (turn-batch.ts): what is sent to
 * other connections while reads are handled is framed once into the arena
 * and owed to each receiver, within each receiver's maxBufferedBytes, and
 * written once per receiver when the loop turn ends (`endTurn`, on
 * setImmediate: after the reads libuv delivered in this poll phase, in the
 * same loop iteration). A frame returns Written, as one gathered by the
 * cork does: it goes out at the turn's end whatever happens meanwhile.
 */
export class TurnWriter {
  /** Turns whose batch was written, and the writes they took (one per receiving connection). */
  batchesOut = 0;
  batchWrites = 0;
  private readonly batch: TurnBatch;
  private endScheduled = false;
  /** A shared frame already in this turn's arena, and where: a frame written to many is appended once. */
  private lastShared: SharedFrame | null = null;
  private lastSharedAt = 0;
  private readonly endTurnNow = (): void => this.endTurn();

  constructor(
    private readonly pool: BufferPool,
    private readonly out: ConnectionOutput,
    private readonly events: WriterEvents,
    private readonly limits: WriterLimits,
    /** The client role's: every frame is masked with a fresh key (§5.3). */
    private readonly maskKeys: MaskKeySource | null,
  ) {
    this.batch = new TurnBatch(pool);
  }

  /** Bytes the turn owes `conn`: gathered, not yet written. */
  owed(conn: ConnectionRecord): number {
    return this.batch.bytesFor(conn);
  }

  /** `conn` is gone: what the turn owed it is forgotten. */
  forget(conn: ConnectionRecord): void {
    conn.flags &= ~State.Batched;
    const entry = this.batch.remove(conn);
    if (entry !== undefined) this.batch.recycle(entry);
  }

  /** A frame for `conn` into the turn batch: framed once at the arena's end, `conn` owed its bytes. */
  frame(
    conn: ConnectionRecord,
    opcode: number,
    payload: SendData,
    bytes: Uint8Array | null,
    length: number,
    total: number,
    rsv: number,
  ): SendResult {
    if ((conn.flags & State.Closed) !== 0) return SendResult.Dropped;
    if (!isControlOpcode(opcode) && this.overBound(conn, total)) return this.events.overflow(conn);
    const at = this.reserve(conn, total);
    if (at < 0) return SendResult.Dropped;
    encodeFrame(this.batch.buffer, at, opcode, payload, bytes, length, rsv, this.maskKeys);
    this.out.framesOut++;
    this.owe(conn, at, at + total);
    return SendResult.Written;
  }

  /**
   * A broadcast or publish while reads are handled: framed once into the
   * arena, and owed to every receiver (copied only into the outbox of one
   * already writing). -1 when it does not go through the batch (too large,
   * or the arena refused).
   */
  toMany(
    receivers: Receivers,
    opcode: number,
    data: SendData,
    except: ConnectionRecord | null,
    /** Called for each receiver before it is owed the frame (the writer flushes its cork). */
    beforeWrite: (conn: ConnectionRecord) => void,
  ): number {
    const isString = typeof data === 'string';
    const bytes = isString ? null : bytesOf(data);
    const length = isString ? Buffer.byteLength(data) : bytes!.length;
    const total = frameHeaderLength(length, this.maskKeys !== null) + length;
    if (total >= DIRECT_WRITE_MIN) return -1;
    let at = this.batch.reserve(total);
    if (at === -1) {
      this.endTurn();
      at = this.batch.reserve(total);
    }
    if (at < 0) return -1;
    encodeFrame(this.batch.buffer, at, opcode, data, bytes, length, 0, this.maskKeys);
    let count = 0;
    receivers.forEach((conn) => {
      const flags = conn.flags;
      if ((flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open || conn === except) return;
      count++;
      beforeWrite(conn);
      if ((conn.flags & State.Closed) !== 0) return;
      if (this.overBound(conn, total)) {
        this.events.overflow(conn);
        return;
      }
      this.out.framesOut++;
      if ((conn.flags & (State.Writing | State.Batched)) === State.Writing)
        this.out.queueBytes(conn, conn.extras!, this.batch.buffer.subarray(at, at + total));
      else this.owe(conn, at, at + total);
    });
    return count;
  }

  /** A shared frame for `conn` into the turn batch: copied into the arena once, however many it goes to. */
  shared(conn: ConnectionRecord, frame: SharedFrame): SendResult {
    if (this.overBound(conn, frame.length)) return this.events.overflow(conn);
    if (this.lastShared !== frame) {
      const at = this.reserve(conn, frame.length);
      if (at < 0) return SendResult.Dropped;
      frame.bytes.copy(this.batch.buffer, at);
      this.lastShared = frame;
      this.lastSharedAt = at;
    }
    this.out.framesOut++;
    this.owe(conn, this.lastSharedAt, this.lastSharedAt + frame.length);
    return SendResult.Written;
  }

  /**
   * Would `more` bytes take `conn` past maxBufferedBytes? What the turn owes
   * it is not held back from the kernel, only gathered: when it would tip
   * the bound, it is written now, and only what the kernel then leaves
   * queued counts. Looked up only when it could matter: a turn gathers at
   * most ARENA_LIMIT, below the default bound.
   */
  private overBound(conn: ConnectionRecord, more: number): boolean {
    const max = this.limits.maxBufferedBytes;
    let queued = conn.extras === null ? 0 : conn.extras.bufferedAmount();
    if (queued + ARENA_LIMIT + more <= max) return false;
    if (queued + this.batch.bytesFor(conn) + more <= max) return false;
    if ((conn.flags & State.Batched) !== 0) this.writeNow(conn);
    queued = conn.extras === null ? 0 : conn.extras.bufferedAmount();
    return queued + more > max;
  }

  /** Room for `length` bytes in the arena: when the turn is full it is written now and a new one begins. */
  private reserve(conn: ConnectionRecord, length: number): number {
    let at = this.batch.reserve(length);
    if (at === -1) {
      this.endTurn();
      at = this.batch.reserve(length);
    }
    if (at === -2) {
      this.events.starved(conn, length);
      at = this.batch.reserve(length);
    }
    return at;
  }

  private owe(conn: ConnectionRecord, start: number, end: number): void {
    this.batch.add(conn, start, end);
    conn.flags |= State.Batched;
    if (!this.endScheduled) {
      this.endScheduled = true;
      setImmediate(this.endTurnNow);
    }
  }

  /** What the turn owes `conn`, written now, ahead of what comes next for it (a large frame, a head, a FIN). */
  writeNow(conn: ConnectionRecord): void {
    conn.flags &= ~State.Batched;
    const entry = this.batch.remove(conn);
    if (entry === undefined) return;
    // The arena may still grow and move: this connection's bytes are copied out of it.
    this.out.writeGathered(conn, entry, this.batch.buffer);
    this.batch.recycle(entry);
  }

  /**
   * The loop turn's end: each connection the batch owes gets its bytes in
   * one write, straight from the arena when they are one range (the arena
   * is then held, like a shared frame, until the last such write is done).
   */
  endTurn(): void {
    this.endScheduled = false;
    this.lastShared = null;
    if (this.batch.empty) return;
    this.batchesOut++;
    let shared: SharedFrame | null = null;
    const arena = this.batch.drain((entry, arena) => {
      const conn = entry.conn!;
      if (!this.batch.owes(conn)) conn.flags &= ~State.Batched;
      if ((conn.flags & State.Closed) !== 0) return;
      this.batchWrites++;
      if (entry.more !== null || (conn.flags & State.Writing) !== 0) {
        this.out.writeGathered(conn, entry, arena);
        return;
      }
      shared ??= new SharedFrame(arena, arena.length, this.pool);
      this.out.writeSharedBytes(conn, shared, arena.subarray(entry.start, entry.end));
    });
    if (shared !== null) (shared as SharedFrame).release();
    else if (arena !== null) this.pool.release(arena);
  }
}
