import { BufferPool } from '../pool/buffer-pool.js';
import { CloseCode } from '../protocol/close-code.js';
import { encodeClosePayload } from '../protocol/close-payload.js';
import { buildErrorResponse } from '../protocol/http-response.js';
import { MaskKeySource } from '../protocol/mask-key.js';
import { Opcode } from '../protocol/opcode.js';
import { receive, releaseProgress, type ReceiverConfig } from '../protocol/receiver.js';
import { State } from './connection-state.js';
import { Connection } from './connection.js';
import type { Handlers, HandshakeRequest } from './handlers.js';
import { ClientHandshake, type ClientRequest, type ClientResponse } from './client-handshake.js';
import { errnoName } from './errno.js';
import { ServerHandshake } from './handshake.js';
import type { Link } from './link.js';
import { logs, resolveOptions, type LogLevel, type ReactorOptions, type ResolvedOptions } from './options.js';
import { ReactorStats, type StatsSnapshot } from './stats.js';
import { Dispatch } from './dispatch.js';
import { FlowControl } from './flow-control.js';
import { Timeouts } from './timeouts.js';
import { Topics } from './topics.js';
import { SendResult, sideOf, Writer, type SendData, type SendResultValue } from './writer.js';

export type { SendData } from './writer.js';

const EMPTY = Buffer.alloc(0);

/**
 * The reactor owns every connection. Transports hand it bytes read into the
 * one shared slab; it runs the handshake and the receiver over them in place,
 * calls the shared handlers, and writes through the writer. Nothing a peer or
 * a handler does escapes as an exception: a broken peer is closed with its
 * close code, a throwing handler closes its connection with 1011 and is
 * reported through the `error` handler or the log.
 */
export class Reactor {
  readonly options: ResolvedOptions;
  readonly pool: BufferPool;
  /** The one read buffer of every socket. Its contents are valid until the next read. */
  readonly slab: Buffer;
  readonly stats = new ReactorStats();
  readonly topics = new Topics();
  readonly writer: Writer;
  private readonly receiverConfig: ReceiverConfig;
  private readonly handshake: ServerHandshake | ClientHandshake;
  /**
   * Told when a connection ends before it opened (client role: the connect
   * promise is rejected with `error`).
   */
  abandoned: ((conn: Connection, error: Error) => void) | undefined;
  readonly timeouts: Timeouts;
  private readonly flow: FlowControl;
  private readonly dispatch: Dispatch;
  private readonly connections: Connection[] = [];
  private emptyWaiters: (() => void)[] = [];
  private readonly debug: boolean;

  constructor(
    options: ReactorOptions,
    readonly handlers: Handlers<any>,
    /** 'client' masks what it sends, expects unmasked frames and runs the client handshake. */
    readonly role: 'server' | 'client' = 'server',
  ) {
    this.options = resolveOptions(options);
    this.debug = logs(this.options.logLevel, 'debug');
    this.pool = new BufferPool({ maxRetainedBytes: this.options.poolRetainedBytes, maxLentBytes: this.options.maxMemoryBytes });
    this.slab = Buffer.allocUnsafeSlow(this.options.readSlabSize);
    this.writer = new Writer(
      this.pool,
      {
        writeFailed: (conn, errno) => this.lost(conn, errno),
        flushed: (conn) => this.flushed(conn),
        overflow: (conn) => this.flow.overflow(conn),
        congested: (conn) => this.flow.congested(conn),
        starved: (conn, bytes) => this.flow.shed(conn, bytes),
      },
      { maxBufferedBytes: this.options.maxBufferedBytes, congestedBytes: Math.max(1, this.options.maxBufferedBytes >>> 2) },
      role === 'client' ? new MaskKeySource() : null,
    );
    this.receiverConfig = {
      expectMasked: role === 'server',
      allowedRsv: 0,
      maxPayloadLength: this.options.maxMessageSize,
      maxFragments: this.options.maxFragments,
      lender: this.pool,
    };
    this.handshake = role === 'server' ? new ServerHandshake(this) : new ClientHandshake(this);
    this.timeouts = new Timeouts(this);
    this.flow = new FlowControl(this, this.connections);
    this.dispatch = new Dispatch(this, this.debug);
  }

  /** A connection class for one transport: the reactor and link sit on its prototype, not on each connection. */
  connectionClass(link: Link): new (handle: unknown) => Connection {
    const reactor = this;
    const Bound = class extends Connection {
      constructor(handle: unknown) {
        super(handle, undefined);
      }
    };
    Object.defineProperties(Bound.prototype, { reactor: { value: reactor }, link: { value: link } });
    return Bound;
  }

  /** Starts the one interval that drives every timeout. */
  start(): void {
    this.timeouts.start();
  }

  stop(): void {
    this.timeouts.stop();
  }

  // ——— called by transports ———

  /**
   * May one more connection be accepted? When not, the transport writes
   * `refusal` (a 503) and closes the socket before reading anything.
   */
  admit(): boolean {
    // Near the memory budget, a new connection would only take from the ones already served.
    if (this.connections.length < this.options.maxConnections && this.pool.lentBytes < 0.9 * this.options.maxMemoryBytes) return true;
    this.stats.connectionsRefused++;
    return false;
  }

  /** The whole HTTP response for a connection over maxConnections. */
  readonly refusal = buildErrorResponse(503, 'server at its connection limit', { 'Retry-After': '1' });

  /** A new TCP connection: register it and give it handshakeTimeoutMs to upgrade. */
  accept(conn: Connection): void {
    conn.index = this.connections.length;
    this.connections.push(conn);
    this.stats.accepted++;
    this.timeouts.handshaking(conn);
  }

  /** Client role: a TCP connection is up; send the upgrade request. */
  connected(conn: Connection, request: ClientRequest): void {
    this.accept(conn);
    (this.handshake as ClientHandshake).start(conn, request);
  }

  /** Ends a connection that failed before it opened, saying why. */
  abandon(conn: Connection, error: Error): void {
    this.finish(conn, error);
  }

  /** Bytes read into `buf[start..end)` for `conn`. */
  onData(conn: Connection, buf: Buffer, start: number, end: number): void {
    this.stats.bytesIn += end - start;
    const flags = conn.flags;
    if ((flags & State.Open) !== 0) {
      this.timeouts.heard(conn);
      this.writer.cork(conn);
      try {
        this.feed(conn, buf, start, end);
      } finally {
        this.writer.uncork();
      }
    } else if ((flags & (State.Handshaking | State.EndAfterFlush)) === State.Handshaking) {
      // (After a refused handshake the rest is read and dropped until the peer hangs up:
      // parsing it as another request would answer twice, and closing with unread data
      // would reset the connection before the peer has read our answer.)
      this.handshake.onData(conn, buf, start, end);
    }
  }

  /** The peer closed its side (EOF) or the read failed. */
  onEnd(conn: Connection, errno = 0): void {
    if ((conn.flags & State.Closed) !== 0) return;
    if (this.debug && errno !== 0) this.log('debug', `read error ${errno} on ${conn.remoteAddress}`);
    this.finish(conn, errno === 0 ? undefined : new Error(`read failed: ${errnoName(errno)}`));
  }

  /** The in-flight write finished (status < 0: failed or cancelled). */
  onWriteComplete(conn: Connection, status: number): void {
    this.writer.complete(conn, status);
  }

  // ——— used by connections and the server ———

  send(conn: Connection, data: SendData, isBinary: boolean): SendResultValue {
    if ((conn.flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open) return SendResult.Dropped;
    this.stats.messagesOut++;
    if (this.debug) this.logOut(conn, isBinary ? 'binary' : 'text', data);
    return this.writer.writeFrame(conn, isBinary ? Opcode.Binary : Opcode.Text, data);
  }

  sendControl(conn: Connection, opcode: number, data: SendData = EMPTY): SendResultValue {
    if ((conn.flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open) return SendResult.Dropped;
    const length = typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBufferView | ArrayBuffer).byteLength;
    if (length > 125) throw new RangeError('a control frame carries at most 125 bytes (RFC 6455 §5.5)');
    if (this.debug) this.logOut(conn, opcode === Opcode.Ping ? 'ping' : 'pong', data);
    return this.writer.writeFrame(conn, opcode, data);
  }

  /** Frames once, writes the same bytes to every open connection. Returns how many it went to. */
  broadcast(data: SendData, isBinary: boolean): number {
    return this.writeToAll(this.connections, data, isBinary);
  }

  /** Frames once, writes to every subscriber of `topic`. Returns how many it went to. */
  publish(topic: string, data: SendData, isBinary: boolean): number {
    const subscribers = this.topics.get(topic);
    return subscribers === undefined ? 0 : this.writeToAll(subscribers, data, isBinary);
  }

  /** Starts the closing handshake (§7.1.2). */
  close(conn: Connection, code: number = CloseCode.NormalClosure, reason = ''): void {
    const payload = encodeClosePayload(code, reason); // throws on a code the caller may not send
    const flags = conn.flags;
    if ((flags & State.Closed) !== 0 || (flags & State.CloseSent) !== 0) return;
    if ((flags & State.Open) === 0) {
      this.terminate(conn); // no WebSocket yet: nothing to close politely
      return;
    }
    conn.flags |= State.CloseSent;
    const side = sideOf(conn);
    side.closeCode = code;
    side.closeReason = reason;
    if (this.debug) this.log('debug', `out close ${code} ${JSON.stringify(reason)} to ${conn.remoteAddress}`);
    this.writer.writeFrame(conn, Opcode.Close, payload);
    this.timeouts.closing(conn);
  }

  terminate(conn: Connection): void {
    if ((conn.flags & State.Closed) !== 0) return;
    this.finish(conn);
  }

  pause(conn: Connection): void {
    if ((conn.flags & (State.Paused | State.Closed)) !== 0) return;
    conn.flags |= State.Paused;
    conn.link.pause(conn);
  }

  resume(conn: Connection): void {
    if ((conn.flags & State.Paused) === 0 || (conn.flags & State.Closed) !== 0) return;
    conn.flags &= ~State.Paused;
    conn.link.resume(conn);
  }

  /** Sends Close (1001 by default) to every connection and drops those still handshaking. */
  closeAll(code: number = CloseCode.GoingAway, reason = 'server shutting down'): void {
    for (const conn of this.connections.slice()) this.close(conn, code, reason);
  }

  /**
   * Graceful end of everything: Close (`code`) to every connection, wait up to
   * `timeoutMs` for them to finish the closing handshake, drop the rest, stop
   * the timers. Resolves with how many closed in time and how many were dropped.
   */
  async shutdown(timeoutMs: number, code?: number, reason?: string): Promise<{ closed: number; terminated: number }> {
    const before = this.connections.length;
    this.closeAll(code, reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.whenEmpty(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    const terminated = this.connections.length;
    this.terminateAll();
    this.stop();
    return { closed: before - terminated, terminated };
  }

  terminateAll(): void {
    for (const conn of this.connections.slice()) this.terminate(conn);
  }

  /** Resolves when no connection is left. */
  whenEmpty(): Promise<void> {
    if (this.connections.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  get connectionCount(): number {
    return this.connections.length;
  }

  snapshot(): StatsSnapshot {
    return this.stats.snapshot(this.connections, this.writer, this.pool.stats(), this.topics.size);
  }

  // ——— used by the handshake ———

  /** Writes the 101 or error response (latin1). */
  writeHead(conn: Connection, head: string): void {
    this.writer.writeHead(conn, head);
  }

  /** The 101 is on its way (server) or has arrived (client): the connection is open. */
  opened(conn: Connection, request: HandshakeRequest | ClientResponse): void {
    // Writing the 101 can fail (the peer reset meanwhile): then the connection ended unopened.
    if ((conn.flags & State.Closed) !== 0) return;
    conn.flags = (conn.flags & ~(State.Handshaking | State.Upgrading)) | State.Open;
    this.stats.opened++;
    this.timeouts.opened(conn);
    this.dropSideIfEmpty(conn);
    const handler = this.handlers.open;
    if (handler === undefined) return;
    try {
      handler(conn, request as HandshakeRequest);
    } catch (error) {
      this.dispatch.handlerFailed(error, conn);
    }
  }

  /** Runs the receiver over bytes of an open connection. */
  feed(conn: Connection, buf: Buffer, start: number, end: number): void {
    if ((conn.flags & (State.Open | State.Closed | State.CloseReceived)) !== State.Open) return;
    receive(conn, buf, start, end, this.receiverConfig, this.dispatch);
    this.timeouts.received(conn);
  }

  /** Once the queued writes are out: FIN, then wait (closeTimeoutMs) for the peer to close. */
  endAfterFlush(conn: Connection): void {
    if ((conn.flags & State.Closed) !== 0) return;
    this.writer.flushCork(conn); // the Close frame may still be gathered: it must go before FIN
    conn.flags |= State.EndAfterFlush;
    this.timeouts.closing(conn);
    if ((conn.flags & State.Writing) === 0) conn.link.shutdown(conn);
  }

  /** Reports an error that must not reach the user's process as an exception. */
  report(error: unknown, conn: Connection | undefined): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const handler = this.handlers.error;
    if (handler !== undefined) {
      try {
        handler(err, conn);
        return;
      } catch (secondary) {
        this.log('error', `the error handler threw: ${(secondary as Error)?.stack ?? String(secondary)}`);
      }
    }
    this.log('error', err.stack ?? err.message);
  }

  log(level: LogLevel, message: string): void {
    if (logs(this.options.logLevel, level)) this.options.logger(level, message);
  }

  // ——— internals ———

  private writeToAll(receivers: Iterable<Connection>, data: SendData, isBinary: boolean): number {
    const count = this.writer.writeToMany(receivers, isBinary ? Opcode.Binary : Opcode.Text, data);
    this.stats.messagesOut += count;
    if (this.debug) this.log('debug', `out ${isBinary ? 'binary' : 'text'} message to ${count} connections`);
    return count;
  }

  private logOut(conn: Connection, kind: string, data: SendData): void {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBufferView | ArrayBuffer).byteLength;
    this.log('debug', `out ${kind} ${length} B to ${conn.remoteAddress}`);
  }

  /** Fails the connection (§7.1.7): Close with `code`, then end. */
  fail(conn: Connection, code: number, reason: string): void {
    if ((conn.flags & State.Closed) !== 0) return;
    conn.flags |= State.CloseReceived; // read nothing more
    if ((conn.flags & State.CloseSent) === 0 && (conn.flags & State.Open) !== 0) {
      conn.flags |= State.CloseSent;
      const side = sideOf(conn);
      side.closeCode = code;
      side.closeReason = reason;
      if (this.debug) this.log('debug', `out close ${code} ${JSON.stringify(reason)} to ${conn.remoteAddress}`);
      this.writer.writeFrame(conn, Opcode.Close, encodeClosePayload(code, reason));
    }
    this.endAfterFlush(conn);
  }

  /** A write failed: the socket is gone. */
  private lost(conn: Connection, errno: number): void {
    if (this.debug) this.log('debug', `write error ${errno} on ${conn.remoteAddress}`);
    this.finish(conn, new Error(`write failed: ${errnoName(errno)}`));
  }

  private flushed(conn: Connection): void {
    if ((conn.flags & State.EndAfterFlush) !== 0) {
      conn.link.shutdown(conn);
      return;
    }
    this.flow.drained(conn);
    this.dropSideIfEmpty(conn);
    this.dispatch.call(this.handlers.drain as ((conn: Connection, data: Buffer) => void) | undefined, conn, EMPTY);
  }

  /** The end of a connection: socket closed, buffers back, close handler called once. */
  finish(conn: Connection, error?: Error): void {
    if ((conn.flags & State.Closed) !== 0) return;
    const wasOpen = (conn.flags & State.Open) !== 0;
    conn.flags |= State.Closed;
    this.unregister(conn);
    this.timeouts.cancel(conn);
    releaseProgress(conn, this.receiverConfig);
    this.topics.unsubscribeAll(conn);
    this.writer.discard(conn);
    const side = conn.side;
    if (side?.head != null) {
      this.pool.release(side.head);
      side.head = null;
    }
    conn.link.destroy(conn);
    this.stats.closed++;
    if (!wasOpen) {
      this.abandoned?.(conn, error ?? new Error('connection closed before the WebSocket handshake completed'));
      return;
    }
    const code = side !== null && side.closeCode !== 0 ? side.closeCode : CloseCode.AbnormalClosure;
    const reason = side !== null && side.closeCode !== 0 ? side.closeReason : '';
    const handler = this.handlers.close;
    if (handler === undefined) return;
    try {
      handler(conn, code, reason);
    } catch (error) {
      this.stats.handlerErrors++;
      this.report(error, conn);
    }
  }

  private unregister(conn: Connection): void {
    const index = conn.index;
    if (index < 0) return;
    const last = this.connections.pop()!;
    if (last !== conn) {
      this.connections[index] = last;
      last.index = index;
    }
    conn.index = -1;
    if (this.connections.length === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }

  private dropSideIfEmpty(conn: Connection): void {
    if (conn.side !== null && conn.side.isEmpty()) conn.side = null;
  }
}

