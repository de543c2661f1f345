import { CloseCode } from '../../protocol/close-code.js';
import { releaseProgress } from '../../protocol/receiver.js';
import type { HandoverOptions } from '../../api/handover-options.js';
import { dropExtrasIfEmpty, extrasOf } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { TICK_MS, ticks } from '../lifecycle/timer-wheel.js';
import type { Reactor } from '../reactor.js';
import { restoreProgress, snapshotProgress, SNAPSHOT_LAYOUT, type ConnectionSnapshot } from './connection-snapshot.js';

/** Bits that describe this process's work in progress, not the connection: never carried. */
const TRANSIENT = State.Writing | State.Batched | State.ReadBlocked;
/** Anything but plain Open: a closing handshake, an end, an HTTP exchange, an upgrade deciding. */
const NOT_PLAIN_OPEN =
  State.Handshaking |
  State.CloseSent |
  State.CloseReceived |
  State.Closed |
  State.EndAfterFlush |
  State.UpgradeDeciding |
  State.Http |
  State.HttpAnswering;

/**
 * Whether a connection can leave now: `ready`; `wait` (a write is in flight,
 * or the upgrade is not finished: it may later); `ending` (closing, or plain
 * HTTP: it ends here); `unmovable` (its state cannot be carried: TLS, whose
 * session is OpenSSL's, as the transport knows (handover/endpoint.ts); it
 * closes with 1012). Every WebSocket connection of a plain socket can move,
 * permessage-deflate `window` ones with the window their inflater needs.
 */
export type Readiness = 'ready' | 'wait' | 'ending' | 'unmovable';

/**
 * Takes an open connection out of one reactor as a {@link ConnectionSnapshot}
 * and puts one into another (docs/guides/deploy-and-reload.md). The transports move the
 * descriptor; this moves everything else: the flags, the deadline, the
 * partial frame or message (a compressed one still compressed: it is inflated
 * once whole), topics, the subprotocol, the extension's state
 * (permessage-deflate `window`: the agreed bits and the inflater's window,
 * the compressor starting afresh) and `conn.data`.
 *
 * Writes are not carried: a connection leaves only once the kernel has
 * taken everything sent to it (nothing in flight, no outbox), so the bytes
 * the peer gets stay in order with what the new process sends.
 */
export class ConnectionHandover {
  constructor(
    private readonly reactor: Reactor,
    private readonly hooks: HandoverOptions,
  ) {}

  readiness(conn: ConnectionRecord): Readiness {
    const flags = conn.flags;
    if ((flags & (State.Handshaking | State.UpgradeDeciding)) !== 0 && (flags & State.Http) === 0)
      return (flags & (State.Closed | State.EndAfterFlush)) !== 0 ? 'ending' : 'wait';
    if ((flags & NOT_PLAIN_OPEN) !== 0 || (flags & State.Open) === 0) return 'ending';
    if ((flags & State.Batched) !== 0) this.reactor.writer.flushCork(conn); // what the turn owes it goes first
    return (conn.flags & (State.Writing | State.Closed)) !== 0 ? 'wait' : 'ready';
  }

  /**
   * The snapshot of a `ready` connection, which then leaves this reactor: out
   * of the registry, its topics and the wheel, its buffers back in the pool,
   * marked closed (a reference the application keeps can send no more), and
   * no close handler. The caller has stopped reading it and moves its
   * handle. Null when `serialize` threw: the connection is then closed with 1012.
   */
  release(conn: ConnectionRecord): ConnectionSnapshot | null {
    const { ctx } = this.reactor;
    let data: unknown = conn.data;
    try {
      if (this.hooks.serialize !== undefined) data = this.hooks.serialize(conn.data, conn);
    } catch (error) {
      ctx.reporter.report(error, conn);
      this.refuse(conn);
      return null;
    }
    const now = ctx.wheel.now;
    const extras = conn.extras;
    const extension = (conn.flags & State.Extension) !== 0 ? this.reactor.extension : null;
    const snapshot: ConnectionSnapshot = {
      layout: SNAPSHOT_LAYOUT,
      flags: conn.flags & ~TRANSIENT,
      deadlineMs: conn.deadline === 0 ? 0 : Math.max(1, conn.deadline - now) * TICK_MS,
      data,
      topics: extras?.topics == null ? [] : [...extras.topics],
      protocol: extras?.protocol ?? '',
      progress: conn.progress === null ? null : snapshotProgress(conn.progress, now),
      extension: extension === null ? null : extension.snapshot(conn),
    };
    ctx.registry.remove(conn);
    ctx.wheel.cancel(conn);
    releaseProgress(conn, ctx.pool);
    ctx.topics.unsubscribeAll(conn);
    this.reactor.writer.discard(conn);
    extension?.release(conn);
    if (extras !== null) extras.protocol = '';
    dropExtrasIfEmpty(conn);
    ctx.stats.openNow--;
    conn.flags |= State.Closed; // no close handler: the connection lives on elsewhere
    return snapshot;
  }

  /**
   * Puts a connection back from its snapshot: one received from another
   * process (`adopted` true: `conn.data` restored and the `adopted` hook
   * called), or one of this reactor's own whose move failed. The transport
   * has attached its handle; the caller starts reading after this (unless
   * `conn.flags` says Paused). False when it could not be restored: it is
   * then closed with 1012.
   */
  restore(conn: ConnectionRecord, snapshot: ConnectionSnapshot, adopted: boolean): boolean {
    const { ctx } = this.reactor;
    if (snapshot.layout !== SNAPSHOT_LAYOUT) {
      // Written by other code (a reload across a layout change): of its fields only the fact that
      // the connection is an open WebSocket is sure, which is all a Close needs.
      conn.flags = State.Open;
      ctx.registry.add(conn);
      ctx.stats.openNow++;
      this.refuse(conn);
      return false;
    }
    conn.flags = snapshot.flags;
    ctx.registry.add(conn);
    ctx.stats.openNow++;
    if (snapshot.protocol !== '') extrasOf(conn).protocol = snapshot.protocol;
    for (const topic of snapshot.topics) ctx.topics.subscribe(conn, topic);
    if (snapshot.deadlineMs > 0) ctx.wheel.schedule(conn, ticks(snapshot.deadlineMs));
    let ok = true;
    if ((snapshot.flags & State.Extension) !== 0) {
      const extension = this.reactor.extension;
      // Not negotiable here (a reload that turned deflate off): the bit goes, as the end of a connection
      // that has it asks the extension to release its state. The connection closes with 1012.
      if (extension === null) conn.flags &= ~State.Extension;
      ok = extension !== null && extension.restore(conn, snapshot.extension);
    }
    if (ok && snapshot.progress !== null) {
      const progress = restoreProgress(snapshot.progress, ctx.pool, ctx.wheel.now);
      if (progress !== null) conn.progress = progress;
      else ok = false;
    }
    if (!adopted) return ok || (this.refuse(conn), false);
    try {
      conn.data = this.hooks.restore === undefined ? snapshot.data : this.hooks.restore(snapshot.data, conn);
    } catch (error) {
      ctx.reporter.report(error, conn);
      ok = false;
    }
    if (!ok) {
      this.refuse(conn);
      return false;
    }
    try {
      this.hooks.adopted?.(conn);
    } catch (error) {
      this.reactor.lifecycle.handlerFailed(error, conn);
      return false;
    }
    return true;
  }

  /** The connection has arrived in the other process: the `moved` hook, once. */
  moved(conn: ConnectionRecord): void {
    try {
      this.hooks.moved?.(conn);
    } catch (error) {
      this.reactor.ctx.reporter.report(error, conn);
    }
  }

  /** A connection that cannot move: Close 1012 (Service Restart) after what it was sent, then the usual end. */
  refuse(conn: ConnectionRecord): void {
    this.reactor.lifecycle.fail(conn, CloseCode.ServiceRestart, 'service restart');
  }
}
