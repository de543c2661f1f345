import type { BufferPool } from '../../pool/buffer-pool.js';
import { CloseCode } from '../../protocol/close-code.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { Lifecycle } from './lifecycle.js';
import type { ReactorStats } from '../observe/stats.js';
import { TICK_MS, ticks, type TimerWheel } from './timer-wheel.js';
import type { Writer } from '../write/writer.js';
import type { ReactorContext } from '../context.js';

/** Reading is stopped by either: the application's pause, or a queue the peer does not read. */
const READ_STOPPED = State.Paused | State.ReadBlocked;
/** Our Close or our last answer is out: the deadline is the close timeout's. */
const ENDING = State.CloseSent | State.EndAfterFlush;

/** The options that set the deadlines. */
export interface TimeoutSettings {
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly slowMessageTimeoutMs: number;
  readonly minMessageRate: number;
}

/**
 * Every timeout of every connection but the closing one (the lifecycle sets
 * that), on one timer wheel driven by one interval: the handshake deadline,
 * heartbeats (ping after pingIntervalMs of silence, drop after
 * idleTimeoutMs), and the slow-message guard. None but the handshake and
 * close deadlines is judged while reading is stopped (readStopped/readResumed,
 * told by flow control). Each connection has a single
 * deadline; what it means is read from the connection's state when it
 * expires, so no connection ever has more than one entry or any closure.
 */
export class Timeouts {
  private timer: NodeJS.Timeout | undefined;
  private readonly handshakeTicks: number;
  /** Ticks from the last read to the next heartbeat event (ping or idle); 0 when neither is on. */
  private readonly heartbeatTicks: number;
  /** The slow-message grace in ticks; 0 = guard off. */
  private readonly slowTicks: number;

  private readonly wheel: TimerWheel<ConnectionRecord>;
  private readonly stats: ReactorStats;
  private readonly settings: TimeoutSettings;
  private readonly pool: BufferPool;

  constructor(
    ctx: ReactorContext,
    private readonly lifecycle: Lifecycle,
    private readonly writer: Writer,
  ) {
    ({ wheel: this.wheel, stats: this.stats, options: this.settings, pool: this.pool } = ctx);
    const { handshakeTimeoutMs, pingIntervalMs, idleTimeoutMs, slowMessageTimeoutMs } = this.settings;
    this.handshakeTicks = ticks(handshakeTimeoutMs);
    this.heartbeatTicks = pingIntervalMs !== 0 ? ticks(pingIntervalMs) : idleTimeoutMs !== 0 ? ticks(idleTimeoutMs) : 0;
    this.slowTicks = slowMessageTimeoutMs === 0 ? 0 : ticks(slowMessageTimeoutMs);
  }

  start(): void {
    if (this.timer !== undefined) return;
    const pool = this.pool;
    this.timer = setInterval(() => {
      try {
        this.wheel.tick();
      } finally {
        this.writer.endHeartbeats();
      }
      pool.tick(); // a quiet pool gives back what a burst left retained
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new TCP connection has handshakeTimeoutMs to upgrade. */
  handshaking(conn: ConnectionRecord): void {
    this.wheel.schedule(conn, this.handshakeTicks);
  }

  /** Open: from now on only heartbeats (if any) watch it. */
  opened(conn: ConnectionRecord): void {
    if (this.heartbeatTicks !== 0) this.wheel.schedule(conn, this.heartbeatTicks);
    else this.wheel.cancel(conn);
  }

  /** Anything from the peer proves it alive: push the heartbeat out (one store, lazily filed). */
  heard(conn: ConnectionRecord): void {
    if (this.heartbeatTicks === 0 || (conn.flags & State.CloseSent) !== 0) return;
    conn.flags &= ~State.Pinged;
    this.wheel.schedule(conn, this.heartbeatTicks);
  }

  /** After the receiver ran: stamp a message that just began, or check one in progress. */
  received(conn: ConnectionRecord): void {
    const progress = conn.progress;
    if (progress === null || this.slowTicks === 0) return;
    progress.heardAt = this.wheel.now;
    if (progress.startedAt === 0) {
      // Make sure the wheel looks at it when the grace ends, even if the peer goes silent.
      progress.startedAt = this.wheel.now;
      if (conn.deadline === 0 || conn.deadline > this.wheel.now + this.slowTicks)
        this.wheel.schedule(conn, this.slowTicks);
      // Reading stopped while this read was handled (its echoes filled the queue, or the handler paused it).
      if ((conn.flags & READ_STOPPED) !== 0) progress.pausedAt = this.wheel.now;
    } else {
      this.checkMessageRate(conn);
    }
  }

  /**
   * Reading this peer stopped (flow control, or the application's pause): the
   * clock of a message in progress stops with it. What we do not read cannot
   * be the sender's slowness; a peer that does not read is the backpressure
   * policy's to judge.
   */
  readStopped(conn: ConnectionRecord): void {
    const progress = conn.progress;
    if (progress !== null && progress.startedAt !== 0 && progress.pausedAt === 0) progress.pausedAt = this.wheel.now;
  }

  /**
   * Reading again: the message in progress has its time back, as if the pause
   * never happened, and the heartbeat starts afresh. While reading was stopped
   * the peer's Pong (or anything else) waited unread in the kernel, so the
   * silence was ours, not the peer's; the deadline left unjudged meanwhile
   * (see expired) is armed again from now.
   */
  readResumed(conn: ConnectionRecord): void {
    const progress = conn.progress;
    if (progress !== null && progress.pausedAt !== 0) {
      const paused = this.wheel.now - progress.pausedAt;
      progress.startedAt += paused;
      progress.heardAt += paused;
      progress.pausedAt = 0;
    }
    // Only an open connection's deadline is the heartbeat's or the slow-message guard's to set again.
    if ((conn.flags & (State.Open | ENDING | State.Closed)) !== State.Open) return;
    // A short pause that the deadline did not meet leaves it as it was (so a pause/resume storm does
    // not keep a dead peer forever); one due before the unread bytes can be read is pushed out.
    if (conn.deadline > this.wheel.now + 1) return;
    conn.flags &= ~State.Pinged;
    const inProgress = progress !== null && progress.startedAt !== 0 && this.slowTicks !== 0;
    if (inProgress) this.wheel.schedule(conn, 1);
    else if (this.heartbeatTicks !== 0) this.wheel.schedule(conn, this.heartbeatTicks);
  }

  /** A deadline passed (the wheel calls this): what it means depends on where the connection is. */
  expired(conn: ConnectionRecord): void {
    const flags = conn.flags;
    if ((flags & State.Closed) !== 0) return;
    if ((flags & (State.Handshaking | ENDING)) !== 0) {
      // Ending (our Close or our answer is out, no word back), else still in the HTTP phase:
      // a plain HTTP connection (a keep-alive gone quiet, a slow request) or an upgrade.
      const ending = (flags & ENDING) !== 0;
      if (ending) this.stats.closeTimeouts++;
      else if ((flags & State.Http) !== 0) this.stats.httpTimeouts++;
      else this.stats.handshakeTimeouts++;
      this.lifecycle.finish(conn, (flags & State.Handshaking) !== 0 ? new Error('handshake timed out') : undefined);
      return;
    }
    // Reading is stopped (backpressure or conn.pause()): the peer may have answered and we have not
    // looked, so neither silence nor a slow message is judged. Nothing stays armed; readResumed re-arms.
    if ((flags & READ_STOPPED) !== 0) return;
    const progress = conn.progress;
    if (progress !== null && this.slowTicks !== 0) {
      // A message in progress: check its rate every second, until the peer has been
      // quiet for as long as the heartbeat allows; then the heartbeat decides, as for
      // any silent peer (a half-sent frame must not hold its buffer past idleTimeoutMs).
      if (!this.checkMessageRate(conn)) return;
      if (this.heartbeatTicks === 0 || this.wheel.now - progress.heardAt < this.heartbeatTicks) {
        this.wheel.schedule(conn, 1);
        return;
      }
    }
    if (this.heartbeatTicks === 0) return; // a spent slow-message check: nothing else is armed
    const { pingIntervalMs: ping, idleTimeoutMs: idle } = this.settings;
    if (ping !== 0 && (idle === 0 || (flags & State.Pinged) === 0)) {
      // Quiet for pingIntervalMs: ask. Anything that comes back clears Pinged.
      conn.flags |= State.Pinged;
      this.stats.pingsSent++;
      this.writer.writeHeartbeatPing(conn);
      this.wheel.schedule(conn, idle === 0 ? ticks(ping) : ticks(idle - ping));
      return;
    }
    this.stats.idleTimeouts++;
    if ((flags & State.Pinged) !== 0) {
      this.lifecycle.finish(conn, new Error('no answer to ping: peer gone')); // dead: no point in a closing handshake
      return;
    }
    this.lifecycle.close(conn, CloseCode.GoingAway, 'idle timeout');
  }

  /**
   * Slowloris guard: past the grace, a message in progress must have averaged
   * minMessageRate. False (and the connection failed with 1008) when it has not.
   */
  private checkMessageRate(conn: ConnectionRecord): boolean {
    const progress = conn.progress;
    if (progress === null || progress.startedAt === 0) return true;
    const elapsed = (progress.pausedAt === 0 ? this.wheel.now : progress.pausedAt) - progress.startedAt;
    if (elapsed < this.slowTicks) return true;
    const received = progress.frameLength + progress.messageLength;
    if (received >= elapsed * (TICK_MS / 1000) * this.settings.minMessageRate) return true;
    this.stats.slowMessagesClosed++;
    this.lifecycle.fail(conn, CloseCode.PolicyViolation, 'message arriving too slowly');
    return false;
  }
}
