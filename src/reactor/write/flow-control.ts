import type { BackpressurePolicy } from '../../api/options.js';
import { CloseCode } from '../../protocol/close-code.js';
import { dropExtrasIfEmpty } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import type { Reporter } from '../observe/reporter.js';
import { SendResult } from '../../api/send-result.js';
import type { ReactorStats } from '../observe/stats.js';
import type { ReactorContext } from '../context.js';

/** Who keeps time by reading (the timeouts: slow-message clock, heartbeat): told when reading a connection stops and starts. */
export interface ReadClock {
  readStopped(conn: ConnectionRecord): void;
  readResumed(conn: ConnectionRecord): void;
}

/**
 * Reading and writing kept in step: the application's pause and resume,
 * what happens when writing outpaces a peer (the maxBufferedBytes policy,
 * pausing reads of a congested connection until its queue drains, then the
 * drain handler), and shedding under the global memory budget. The writer
 * reports; this decides.
 */
export class FlowControl {
  private readonly registry: ConnectionRegistry;
  private readonly stats: ReactorStats;
  private readonly reporter: Reporter;
  private readonly backpressure: BackpressurePolicy;

  constructor(
    ctx: ReactorContext,
    private readonly lifecycle: Lifecycle,
    /** Told when reading stops and starts again: the slow-message clock and the heartbeat stop with it. */
    private readonly clock: ReadClock,
    private readonly drainHandler: ((conn: ConnectionRecord) => void) | undefined,
  ) {
    ({ registry: this.registry, stats: this.stats, reporter: this.reporter } = ctx);
    this.backpressure = ctx.options.backpressure;
  }

  /** The application stops reading this connection (or the async upgrade hook runs). */
  pause(conn: ConnectionRecord): void {
    // Closing: the peer's Close must be read (lifecycle.ts, readToTheEnd), and nothing more reaches a handler.
    if ((conn.flags & (State.Paused | State.Closed | State.CloseSent | State.EndAfterFlush)) !== 0) return;
    conn.flags |= State.Paused;
    // Already stopped for backpressure: resume must still wait for both reasons to go.
    if ((conn.flags & State.ReadBlocked) === 0) this.stopReading(conn);
  }

  resume(conn: ConnectionRecord): void {
    if ((conn.flags & (State.Paused | State.Closed)) !== State.Paused) return;
    conn.flags &= ~State.Paused;
    if ((conn.flags & State.ReadBlocked) === 0) this.startReading(conn);
  }

  /** A send would pass maxBufferedBytes: drop it, or close the slow consumer (1008). */
  overflow(conn: ConnectionRecord): SendResult {
    if (this.backpressure === 'drop') {
      this.stats.sendsDropped++;
      return SendResult.Dropped;
    }
    this.stats.slowConsumersClosed++;
    this.lifecycle.fail(conn, CloseCode.PolicyViolation, 'send buffer full');
    return SendResult.Dropped;
  }

  /**
   * A plain HTTP response would take the queue past maxBufferedBytes. It
   * cannot be dropped (the answers after it would match the wrong requests),
   * so the connection goes, whatever the policy: counted as a slow consumer.
   */
  answersUnread(conn: ConnectionRecord): void {
    this.stats.slowConsumersClosed++;
    this.lifecycle.finish(conn, new Error('send buffer full: HTTP responses left unread'));
  }

  /** Its queue is high: stop reading this peer (it is not reading us) until the queue drains. */
  congested(conn: ConnectionRecord): void {
    if ((conn.flags & (State.ReadBlocked | State.Closed)) !== 0) return;
    conn.flags |= State.ReadBlocked;
    this.stats.readPauses++;
    if ((conn.flags & State.Paused) === 0) this.stopReading(conn);
  }

  private stopReading(conn: ConnectionRecord): void {
    conn.link.pause(conn);
    this.clock.readStopped(conn);
  }

  private startReading(conn: ConnectionRecord): void {
    conn.link.resume(conn);
    this.clock.readResumed(conn);
  }

  /**
   * Everything queued went to the kernel: FIN if the connection was ending;
   * else read it again (unless the application paused it) and tell `drain`.
   */
  flushed(conn: ConnectionRecord): void {
    if ((conn.flags & State.EndAfterFlush) !== 0) {
      this.lifecycle.flushedForEnd(conn);
      return;
    }
    if ((conn.flags & State.ReadBlocked) !== 0) {
      conn.flags &= ~State.ReadBlocked;
      if ((conn.flags & State.Paused) === 0) this.startReading(conn);
    }
    dropExtrasIfEmpty(conn);
    const handler = this.drainHandler;
    if (handler === undefined) return;
    try {
      handler(conn);
    } catch (error) {
      this.lifecycle.handlerFailed(error, conn);
    }
  }

  /**
   * The memory budget refused a buffer. Shed the connection with the most
   * queued (never `requester`, whose buffers are in use right now): its
   * memory is the most a single drop can win back.
   */
  shed(requester: ConnectionRecord, bytes: number): void {
    let largest = undefined as ConnectionRecord | undefined;
    let most = 0;
    this.registry.forEach((conn) => {
      const queued = conn.bufferedAmount;
      if (queued > most && conn !== requester) {
        most = queued;
        largest = conn;
      }
    });
    this.stats.memoryRefusals++;
    if (largest === undefined) return;
    this.stats.memoryShed++;
    this.reporter.log(
      'warn',
      `memory budget reached (${bytes} B wanted): dropping ${largest.remoteAddress}, the largest queue (${most} B)`,
    );
    this.lifecycle.finish(largest, new Error('shed: memory budget'));
  }
}
