import type { BufferPool } from '../../pool/buffer-pool.js';
import { CloseCode, closeCodeClass } from '../../protocol/close-code.js';
import { encodeClosePayload } from '../../protocol/close-payload.js';
import { Opcode } from '../../protocol/opcode.js';
import { releaseProgress, type BufferLender } from '../../protocol/receiver.js';
import { extrasOf } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { channels } from '../../api/diagnostics.js';
import { errnoName } from '../connection/errno.js';
import { releaseHead } from '../http/head-buffer.js';
import { peerAddress } from '../connection/peer-address.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import type { Extension } from '../extensions/extension.js';
import type { Reporter } from '../observe/reporter.js';
import type { ReactorStats } from '../observe/stats.js';
import { ticks, type TimerWheel } from './timer-wheel.js';
import type { Topics } from '../topics/topics.js';
import type { Writer } from '../write/writer.js';
import type { ReactorContext, Role } from '../context.js';

/** Who hears of a connection's end: the close handler, and (client role) the connect that never opened. */
export interface EndHandlers {
  /** Handlers.close, once per connection that opened. */
  readonly close?: ((conn: ConnectionRecord, code: number, reason: string) => void) | undefined;
  /** A connection ended before it opened (client role: the connect promise is rejected with `error`). */
  readonly abandoned?: ((conn: ConnectionRecord, error: Error) => void) | undefined;
}

/**
 * How a connection ends, every way it can: the closing handshake we start
 * (§7.1.2) or answer, failing the connection (§7.1.7), FIN once the queued
 * writes are out, a dead socket, a drop. Every road leads to `finish`, which
 * runs once per connection: socket closed, buffers back to the pool, timers
 * and topics left, and the close handler called exactly once.
 *
 * The one place a Close frame is sent from is `sendClose`.
 */
export class Lifecycle {
  private readonly registry: ConnectionRegistry;
  private readonly wheel: TimerWheel<ConnectionRecord>;
  private readonly topics: Topics;
  private readonly stats: ReactorStats;
  private readonly reporter: Reporter;
  private readonly pool: BufferPool & BufferLender;
  private readonly role: Role;
  /** Ticks the peer has to answer our Close (closeTimeoutMs). */
  private readonly closeTicks: number;
  private readonly closeHandler: EndHandlers['close'];
  private readonly abandoned: EndHandlers['abandoned'];

  constructor(
    ctx: ReactorContext,
    private readonly writer: Writer,
    handlers: EndHandlers,
    /** The endpoint's extension, if any: what a connection that negotiated it holds is released when it ends. */
    private readonly extension: Extension | null,
  ) {
    ({
      registry: this.registry,
      wheel: this.wheel,
      topics: this.topics,
      stats: this.stats,
      reporter: this.reporter,
      pool: this.pool,
      role: this.role,
    } = ctx);
    this.closeTicks = ticks(ctx.options.closeTimeoutMs);
    this.closeHandler = handlers.close;
    this.abandoned = handlers.abandoned;
  }

  /**
   * Starts the closing handshake (§7.1.2) on the user's request. Throws on a
   * code or reason that may not be sent: that is a bug in the caller.
   */
  close(conn: ConnectionRecord, code: number = CloseCode.NormalClosure, reason = ''): void {
    const payload = encodeClosePayload(code, reason);
    const flags = conn.flags;
    if ((flags & (State.Closed | State.CloseSent)) !== 0) return;
    if ((flags & State.Open) === 0) {
      this.finish(conn); // no WebSocket yet: nothing to close politely
      return;
    }
    this.sendClose(conn, code, reason, payload);
    // A handshake begun, not ended: the close handler hears the peer's answer (closeReceived), or
    // 1006 if none comes (§7.1.5: no Close received), not the code we sent.
    const extras = conn.extras!;
    extras.closeCode = 0;
    extras.closeReason = '';
    this.wheel.schedule(conn, this.closeTicks);
  }

  /** Fails the connection (§7.1.7): Close with `code` unless one went already, read nothing more, end. */
  fail(conn: ConnectionRecord, code: number, reason: string): void {
    if ((conn.flags & State.Closed) !== 0) return;
    conn.flags |= State.CloseReceived; // read nothing more
    if ((conn.flags & (State.CloseSent | State.Open)) === State.Open)
      this.sendClose(conn, code, reason, encodeClosePayload(code, reason));
    else if ((conn.flags & State.Open) !== 0 && conn.extras!.closeCode === 0) {
      // Our Close went before (close()), unanswered: the connection is failed with this code now.
      conn.extras!.closeCode = code;
      conn.extras!.closeReason = reason;
    }
    this.endAfterFlush(conn);
  }

  /**
   * The peer's Close arrived (§5.5.1): echo its status code and reason unless
   * ours went first (§5.5.1 "typically echoes the status code it received";
   * ws echoes the reason too, and a peer that logs our answer should read its
   * own words); then (§7.1.1) the server closes TCP first, once the echo is
   * out. The reason came in a control frame, so it fits one (≤ 123 bytes).
   */
  closeReceived(conn: ConnectionRecord, code: number, reason: string): void {
    conn.flags |= State.CloseReceived;
    if ((conn.flags & State.CloseSent) === 0) {
      this.sendClose(conn, code, reason, encodeClosePayload(code, reason));
    } else {
      // Ours went first: report the peer's answer.
      const extras = extrasOf(conn);
      extras.closeCode = code;
      extras.closeReason = reason;
    }
    this.endAfterFlush(conn);
  }

  /** The one place a Close frame goes out: no data frame may follow it (§5.5.1). */
  private sendClose(conn: ConnectionRecord, code: number, reason: string, payload: Buffer): void {
    conn.flags |= State.CloseSent;
    readToTheEnd(conn);
    const extras = extrasOf(conn);
    extras.closeCode = code;
    extras.closeReason = reason;
    if (this.reporter.debug)
      this.reporter.log('debug', `out close ${code} ${JSON.stringify(reason)} to ${conn.remoteAddress}`);
    this.writer.writeFrame(conn, Opcode.Close, payload);
  }

  /** Once the queued writes are out: FIN, then wait (closeTimeoutMs) for the peer to close. */
  endAfterFlush(conn: ConnectionRecord): void {
    if ((conn.flags & State.Closed) !== 0) return;
    this.writer.flushCork(conn); // the Close frame may still be gathered: it must go before FIN
    conn.flags |= State.EndAfterFlush;
    readToTheEnd(conn);
    this.wheel.schedule(conn, this.closeTicks);
    if ((conn.flags & State.Writing) === 0) conn.link.shutdown(conn);
  }

  /** Everything queued went out after an `endAfterFlush`: send the FIN now. */
  flushedForEnd(conn: ConnectionRecord): void {
    conn.link.shutdown(conn);
  }

  terminate(conn: ConnectionRecord): void {
    this.finish(conn);
  }

  /** A read or write failed: the socket is gone. */
  lost(conn: ConnectionRecord, errno: number, syscall: 'read' | 'write'): void {
    if ((conn.flags & State.Closed) !== 0) return;
    if (this.reporter.debug) this.reporter.log('debug', `${syscall} error ${errno} on ${conn.remoteAddress}`);
    this.finish(conn, new Error(`${syscall} failed: ${errnoName(errno)}`));
  }

  /** A handler threw: report it and close its connection with 1011. */
  handlerFailed(error: unknown, conn: ConnectionRecord): void {
    this.stats.handlerErrors++;
    this.reporter.report(error, conn);
    this.fail(conn, CloseCode.InternalError, 'internal error');
  }

  /** The end of a connection: socket closed, buffers back, close handler called once. */
  finish(conn: ConnectionRecord, error?: Error): void {
    const flags = conn.flags;
    if ((flags & State.Closed) !== 0) return;
    const wasOpen = (flags & State.Open) !== 0;
    conn.flags |= State.Closed;
    // What the close handler hears: read now, while the socket can still say who the peer was.
    const extras = conn.extras;
    const reported = extras !== null && extras.closeCode !== 0;
    const code = reported ? extras.closeCode : CloseCode.AbnormalClosure;
    const reason = reported ? extras.closeReason : '';
    const observed = wasOpen && channels.close.hasSubscribers;
    const remoteAddress = wasOpen && (this.reporter.debug || observed) ? peerAddress(conn) : '';
    // Counted before the registry lets go, so that a shutdown waiting on the registry (whenAtMost) sees them.
    this.stats.closed++;
    if ((flags & State.Http) !== 0) this.stats.httpNow--;
    if (wasOpen) this.stats.openNow--;
    this.registry.remove(conn);
    this.wheel.cancel(conn);
    releaseProgress(conn, this.pool);
    this.topics.unsubscribeAll(conn);
    this.writer.discard(conn);
    releaseHead(this.pool, conn);
    if ((flags & State.Extension) !== 0) this.extension!.release(conn);
    conn.link.destroy(conn);
    if (!wasOpen) {
      this.abandoned?.(conn, error ?? new Error('connection closed before the WebSocket handshake completed'));
      return;
    }
    this.stats.closesByClass[closeCodeClass(code)]!++; // one of CLOSE_CODE_CLASSES: in range
    if (this.reporter.debug)
      this.reporter.log(
        'debug',
        `closed ${remoteAddress}: ${code} ${JSON.stringify(reason)}${error === undefined ? '' : ` (${error.message})`}`,
      );
    if (observed) channels.close.publish({ conn, code, reason, role: this.role, remoteAddress });
    const handler = this.closeHandler;
    if (handler === undefined) return;
    try {
      handler(conn, code, reason);
    } catch (thrown) {
      this.stats.handlerErrors++;
      this.reporter.report(thrown, conn);
    }
  }
}

/**
 * The application's pause ends with the connection: once we close, the peer's
 * Close (or its FIN) must be read, or closeTimeoutMs would judge a peer that
 * answered at once as one that never did. Nothing read from now on reaches a
 * handler (§7.1.2: data after our Close is discarded). A connection whose
 * reading stopped for backpressure stays stopped: its peer is not reading our
 * Close either, and closeTimeoutMs bounds it.
 */
function readToTheEnd(conn: ConnectionRecord): void {
  if ((conn.flags & (State.Open | State.Paused | State.ReadBlocked)) !== (State.Open | State.Paused)) return;
  conn.flags &= ~State.Paused;
  conn.link.resume(conn);
}
