import { BufferPool } from '../pool/buffer-pool.js';
import { CloseCode } from '../protocol/close-code.js';
import { encodeClosePayload } from '../protocol/close-payload.js';
import { buildErrorResponse } from '../protocol/http-response.js';
import { MaskKeySource } from '../protocol/mask-key.js';
import { Opcode } from '../protocol/opcode.js';
import { closeCodeFor, ProtocolError, reasonFor, type ErrorKindValue } from '../protocol/protocol-error.js';
import { receive, releaseProgress, type ReceiverConfig, type ReceiverSink } from '../protocol/receiver.js';
import { State } from './connection-state.js';
import { Connection } from './connection.js';
import type { Handlers, HandshakeRequest } from './handlers.js';
import { ClientHandshake, type ClientRequest, type ClientResponse } from './client-handshake.js';
import { errnoName } from './errno.js';
import { ServerHandshake } from './handshake.js';
import type { Link } from './link.js';
import { logs, resolveOptions, type LogLevel, type ReactorOptions, type ResolvedOptions } from './options.js';
import { ReactorStats, type StatsSnapshot } from './stats.js';
import { TimerWheel } from './timer-wheel.js';
import { Topics } from './topics.js';
import { SendResult, sideOf, Writer, type SendData, type SendResultValue } from './writer.js';

export type { SendData } from './writer.js';

/** The wheel turns once a second: timeouts are coarse by design (one timer for all). */
const TICK_MS = 1000;
const EMPTY = Buffer.alloc(0);

/**
 * The reactor owns every connection. Transports hand it bytes read into the
 * one shared slab; it runs the handshake and the receiver over them in place,
 * calls the shared handlers, and writes through the writer. Nothing a peer or
 * a handler does escapes as an exception: a broken peer is closed with its
 * close code, a throwing handler closes its connection with 1011 and is
 * reported through the `error` handler or the log.
 */
export class Reactor implements ReceiverSink<Connection> {
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
  private readonly wheel: TimerWheel<Connection>;
  private readonly connections: Connection[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Ticks from the last read to the next heartbeat event (ping or idle); 0 when neither is on. */
  private readonly heartbeatTicks: number;
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
        overflow: (conn) => this.overflow(conn),
        congested: (conn) => this.congested(conn),
        starved: (conn, bytes) => this.shed(conn, bytes),
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
    this.wheel = new TimerWheel<Connection>(64, (conn) => this.expired(conn));
    const { pingIntervalMs, idleTimeoutMs } = this.options;
    this.heartbeatTicks = pingIntervalMs !== 0 ? ticks(pingIntervalMs) : idleTimeoutMs !== 0 ? ticks(idleTimeoutMs) : 0;
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
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.wheel.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
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
    this.wheel.schedule(conn, ticks(this.options.handshakeTimeoutMs));
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
      if (this.heartbeatTicks !== 0 && (flags & State.CloseSent) === 0) {
        // Anything from the peer proves it alive: push the heartbeat out (one store, lazily filed).
        conn.flags = flags & ~State.Pinged;
        this.wheel.schedule(conn, this.heartbeatTicks);
      }
      this.feed(conn, buf, start, end);
    } else if ((flags & State.Handshaking) !== 0) {
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

  // ——— the receiver's sink ———

  onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    this.stats.messagesIn++;
    if (this.debug) this.log('debug', `in ${isBinary ? 'binary' : 'text'} ${data.length} B from ${conn.remoteAddress}`);
    if ((conn.flags & State.CloseSent) !== 0) return; // closing: §7.1.2 data after our Close is discarded
    const handler = this.handlers.message;
    if (handler === undefined) return;
    try {
      handler(conn, data, isBinary);
    } catch (error) {
      this.handlerFailed(error, conn);
    }
  }

  onPing(conn: Connection, data: Buffer): void {
    if (this.debug) this.log('debug', `in ping ${data.length} B from ${conn.remoteAddress}`);
    // §5.5.2: answer with a Pong carrying the same application data, as soon as practical.
    if ((conn.flags & State.CloseSent) === 0) {
      if (this.debug) this.logOut(conn, 'pong', data);
      this.writer.writeFrame(conn, Opcode.Pong, data);
    }
    this.call(this.handlers.ping, conn, data);
  }

  onPong(conn: Connection, data: Buffer): void {
    if (this.debug) this.log('debug', `in pong ${data.length} B from ${conn.remoteAddress}`);
    this.call(this.handlers.pong, conn, data);
  }

  onClose(conn: Connection, code: number, reason: string): void {
    if (this.debug) this.log('debug', `in close ${code} ${JSON.stringify(reason)} from ${conn.remoteAddress}`);
    conn.flags |= State.CloseReceived;
    const side = sideOf(conn);
    side.closeCode = code;
    side.closeReason = reason;
    // §5.5.1: echo the status code, then (§7.1.1) the server closes TCP first.
    if ((conn.flags & State.CloseSent) === 0) {
      conn.flags |= State.CloseSent;
      this.writer.writeFrame(conn, Opcode.Close, code === CloseCode.NoStatusReceived ? EMPTY : encodeClosePayload(code));
    }
    this.endAfterFlush(conn);
  }

  onError(conn: Connection, kind: ErrorKindValue): void {
    this.stats.protocolErrors++;
    const code = closeCodeFor(kind);
    if (logs(this.options.logLevel, 'info')) this.log('info', `${new ProtocolError(kind).message} from ${conn.remoteAddress}: closing with ${code}`);
    this.fail(conn, code, reasonFor(kind));
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
    this.wheel.schedule(conn, ticks(this.options.closeTimeoutMs));
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
    const buf = this.pool.borrow(head.length);
    const length = buf.write(head, 0, 'latin1');
    this.writer.writeRaw(conn, buf, length);
    this.pool.release(buf);
  }

  /** The 101 is on its way (server) or has arrived (client): the connection is open. */
  opened(conn: Connection, request: HandshakeRequest | ClientResponse): void {
    conn.flags = (conn.flags & ~(State.Handshaking | State.Upgrading)) | State.Open;
    this.stats.opened++;
    if (this.heartbeatTicks !== 0) this.wheel.schedule(conn, this.heartbeatTicks);
    else this.wheel.cancel(conn);
    this.dropSideIfEmpty(conn);
    const handler = this.handlers.open;
    if (handler === undefined) return;
    try {
      handler(conn, request as HandshakeRequest);
    } catch (error) {
      this.handlerFailed(error, conn);
    }
  }

  /** Runs the receiver over bytes of an open connection. */
  feed(conn: Connection, buf: Buffer, start: number, end: number): void {
    if ((conn.flags & (State.Open | State.Closed | State.CloseReceived)) !== State.Open) return;
    receive(conn, buf, start, end, this.receiverConfig, this);
  }

  /** Once the queued writes are out: FIN, then wait (closeTimeoutMs) for the peer to close. */
  endAfterFlush(conn: Connection): void {
    if ((conn.flags & State.Closed) !== 0) return;
    conn.flags |= State.EndAfterFlush;
    this.wheel.schedule(conn, ticks(this.options.closeTimeoutMs));
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
    const frame = this.writer.frameShared(isBinary ? Opcode.Binary : Opcode.Text, data);
    let count = 0;
    try {
      for (const conn of receivers) {
        if ((conn.flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open) continue;
        this.writer.writeShared(conn, frame);
        count++;
      }
    } finally {
      frame.release();
    }
    this.stats.messagesOut += count;
    if (this.debug) this.log('debug', `out ${isBinary ? 'binary' : 'text'} ${frame.length} B frame to ${count} connections`);
    return count;
  }

  private logOut(conn: Connection, kind: string, data: SendData): void {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBufferView | ArrayBuffer).byteLength;
    this.log('debug', `out ${kind} ${length} B to ${conn.remoteAddress}`);
  }

  /** Fails the connection (§7.1.7): Close with `code`, then end. */
  private fail(conn: Connection, code: number, reason: string): void {
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

  private handlerFailed(error: unknown, conn: Connection): void {
    this.stats.handlerErrors++;
    this.report(error, conn);
    this.fail(conn, CloseCode.InternalError, 'internal error');
  }

  private call(handler: ((conn: Connection, data: Buffer) => void) | undefined, conn: Connection, data: Buffer): void {
    if (handler === undefined) return;
    try {
      handler(conn, data);
    } catch (error) {
      this.handlerFailed(error, conn);
    }
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
    if ((conn.flags & State.ReadBlocked) !== 0) {
      conn.flags &= ~State.ReadBlocked;
      if ((conn.flags & State.Paused) === 0) conn.link.resume(conn);
    }
    this.dropSideIfEmpty(conn);
    this.call(this.handlers.drain as ((conn: Connection, data: Buffer) => void) | undefined, conn, EMPTY);
  }

  /** A send would pass maxBufferedBytes: drop it, or close the slow consumer (1008). */
  private overflow(conn: Connection): SendResultValue {
    if (this.options.backpressure === 'drop') {
      this.stats.sendsDropped++;
      return SendResult.Dropped;
    }
    this.stats.slowConsumersClosed++;
    this.fail(conn, CloseCode.PolicyViolation, 'send buffer full');
    return SendResult.Dropped;
  }

  /** Its queue is high: stop reading this peer (it is not reading us) until the queue drains. */
  private congested(conn: Connection): void {
    if ((conn.flags & (State.ReadBlocked | State.Closed)) !== 0) return;
    conn.flags |= State.ReadBlocked;
    this.stats.readPauses++;
    if ((conn.flags & State.Paused) === 0) conn.link.pause(conn);
  }

  /**
   * The memory budget refused a buffer. Shed the connection with the most
   * queued (never `requester`, whose buffers are in use right now): its
   * memory is the most a single drop can win back.
   */
  private shed(requester: Connection, bytes: number): void {
    let largest: Connection | undefined;
    let most = 0;
    for (const conn of this.connections) {
      const queued = conn.bufferedAmount;
      if (queued > most && conn !== requester) {
        most = queued;
        largest = conn;
      }
    }
    this.stats.memoryRefusals++;
    if (largest === undefined) return;
    this.stats.memoryShed++;
    this.log('warn', `memory budget reached (${bytes} B wanted): dropping ${largest.remoteAddress}, the largest queue (${most} B)`);
    this.finish(largest, new Error('shed: memory budget'));
  }

  /** A timeout from the wheel: handshake, close handshake, heartbeat, or idle. */
  private expired(conn: Connection): void {
    const flags = conn.flags;
    if ((flags & State.Closed) !== 0) return;
    if ((flags & (State.Handshaking | State.CloseSent | State.EndAfterFlush)) !== 0) {
      const handshaking = (flags & State.Handshaking) !== 0;
      if (handshaking) this.stats.handshakeTimeouts++;
      this.finish(conn, handshaking ? new Error('handshake timed out') : undefined);
      return;
    }
    const ping = this.options.pingIntervalMs;
    const idle = this.options.idleTimeoutMs;
    if (ping !== 0 && (idle === 0 || (flags & State.Pinged) === 0)) {
      // Quiet for pingIntervalMs: ask. Anything that comes back clears Pinged.
      conn.flags |= State.Pinged;
      this.stats.pingsSent++;
      this.writer.writeFrame(conn, Opcode.Ping, EMPTY);
      this.wheel.schedule(conn, idle === 0 ? ticks(ping) : ticks(idle - ping));
      return;
    }
    this.stats.idleTimeouts++;
    if ((flags & State.Pinged) !== 0) {
      this.finish(conn, new Error('no answer to ping: peer gone')); // dead: no point in a closing handshake
      return;
    }
    this.close(conn, CloseCode.GoingAway, 'idle timeout');
  }

  /** The end of a connection: socket closed, buffers back, close handler called once. */
  private finish(conn: Connection, error?: Error): void {
    if ((conn.flags & State.Closed) !== 0) return;
    const wasOpen = (conn.flags & State.Open) !== 0;
    conn.flags |= State.Closed;
    this.unregister(conn);
    this.wheel.cancel(conn);
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

function ticks(ms: number): number {
  return Math.max(1, Math.ceil(ms / TICK_MS));
}
