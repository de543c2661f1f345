import { BufferPool } from '../pool/buffer-pool.js';
import { CloseCode } from '../protocol/close-code.js';
import { buildErrorResponse } from '../protocol/http-response.js';
import { MaskKeySource } from '../protocol/mask-key.js';
import { Opcode } from '../protocol/opcode.js';
import type { ReceiverConfig } from '../protocol/receiver.js';
import { ClientHandshake } from './handshake/client-handshake.js';
import { configuredExtension } from './extensions/configured-extension.js';
import type { Extension } from './extensions/extension.js';
import type { ClientRequest } from '../api/client-request.js';
import { State } from './connection/connection-state.js';
import { ConnectionRecord, type ConnectionOps } from './connection/connection-record.js';
import { FlowControl } from './write/flow-control.js';
import type { Handlers } from '../api/handlers.js';
import { HttpExchange } from './http/http-exchange.js';
import { Inbound } from './read/inbound.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import type { Link } from './connection/link.js';
import { renderMetrics } from './observe/metrics.js';
import { OpenConnections } from './connection/open-connections.js';
import type { EndpointOptions } from '../api/options.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { ConnectionRegistry } from './connection/registry.js';
import { Reporter } from './observe/reporter.js';
import type { RouteTable } from './http/route-table.js';
import { byteLengthOf, SendResult, type SendData } from '../api/send-result.js';
import { ServerHandshake, type RefusedRequest } from './handshake/server-handshake.js';
import type { ServerRequest } from './handshake/server-request.js';
import type { StatsSnapshot } from '../api/stats-snapshot.js';
import { drainAndEnd } from './lifecycle/shutdown.js';
import { ReactorStats } from './observe/stats.js';
import { Timeouts } from './lifecycle/timeouts.js';
import { ticks, TimerWheel } from './lifecycle/timer-wheel.js';
import { NO_REMOTE_STATS, type BridgeHost, type TopicBridge } from '../api/topic-bridge.js';
import { Topics } from './topics/topics.js';
import { Writer, type Receivers } from './write/writer.js';

const EMPTY = Buffer.alloc(0);
/** Frames a connection can be sent from the public API: open, and no Close sent or received. */
const SENDABLE = State.Open | State.CloseSent | State.Closed;

/**
 * The reactor owns every connection. Transports hand it bytes read into the
 * one shared slab; it runs the handshake and the receiver over them in place,
 * calls the shared handlers, and writes through the writer. Nothing a peer or
 * a handler does escapes as an exception: a broken peer is closed with its
 * close code, a throwing handler closes its connection with 1011 and is
 * reported through the `error` handler or the log.
 *
 * This class wires the parts together and is what the outside calls: the
 * transports (`admit`, `accept`, `onData`, `onEnd`, `writer.complete`),
 * each connection's methods (`ConnectionOps`), and the server and client.
 * The parts depend one way: handshakes → inbound → timeouts → lifecycle →
 * writer; see docs/architecture.md.
 */
export class Reactor implements ConnectionOps {
  readonly options: ResolvedOptions;
  readonly pool: BufferPool;
  /** The one read buffer of every socket. Its contents are valid until the next read. */
  readonly slab: Buffer;
  readonly stats = new ReactorStats();
  readonly topics = new Topics();
  readonly writer: Writer;
  readonly reporter: Reporter;
  readonly lifecycle: Lifecycle;
  private readonly registry = new ConnectionRegistry();
  /** The open connections, as `server.clients`. */
  readonly openConnections = new OpenConnections(this.registry, this.stats);
  private readonly wheel: TimerWheel<ConnectionRecord>;
  private readonly timeouts: Timeouts;
  private readonly flow: FlowControl;
  private readonly inbound: Inbound;
  private readonly handshake: ServerHandshake | ClientHandshake;
  /** Plain HTTP requests on the server's port (server role only). */
  readonly http: HttpExchange | undefined;
  /** Carries publishes to and from other servers; null (one check per publish) when there are none. */
  private bridge: TopicBridge | null = null;
  /** The extension the options enable (permessage-deflate), offered or accepted per connection; null when none. */
  readonly extension: Extension | null;
  /** The whole HTTP response for a connection over maxConnections. */
  readonly refusal = buildErrorResponse(503, 'server at its connection limit', { 'Retry-After': '1' });

  constructor(
    options: EndpointOptions,
    handlers: Handlers,
    /** 'client' masks what it sends, expects unmasked frames and runs the client handshake. */
    readonly role: 'server' | 'client' = 'server',
    /** A server with routes: `handlers` are then the table's dispatchers. */
    routes?: RouteTable,
  ) {
    const o = (this.options = resolveOptions(options));
    this.reporter = new Reporter(o.logLevel, o.logger, handlers.error);
    this.pool = new BufferPool({ maxRetainedBytes: o.poolRetainedBytes, maxLentBytes: o.maxMemoryBytes });
    this.slab = Buffer.allocUnsafeSlow(o.readSlabSize);
    // The writer reports to parts built after it; its events look them up when they happen.
    this.writer = new Writer(
      this.pool,
      {
        writeFailed: (conn, errno) => this.lifecycle.lost(conn, errno, 'write'),
        flushed: (conn) => this.flow.flushed(conn),
        overflow: (conn) => this.flow.overflow(conn),
        congested: (conn) => this.flow.congested(conn),
        starved: (conn, bytes) => this.flow.shed(conn, bytes),
      },
      { maxBufferedBytes: o.maxBufferedBytes, congestedBytes: Math.max(1, o.maxBufferedBytes >>> 2) },
      role === 'client' ? new MaskKeySource() : null,
    );
    this.wheel = new TimerWheel<ConnectionRecord>(64, (conn) => this.timeouts.expired(conn));
    const extension = (this.extension = configuredExtension(o, role, this.pool, this.writer, (conn, code, reason) => this.lifecycle.fail(conn, code, reason)));
    this.lifecycle = new Lifecycle(this.registry, this.writer, this.wheel, this.topics, this.stats, this.reporter, this.pool, handlers.close, ticks(o.closeTimeoutMs), role, extension);
    this.flow = new FlowControl(this.registry, this.lifecycle, this.stats, this.reporter, o.backpressure, handlers.drain);
    this.timeouts = new Timeouts(this.wheel, this.lifecycle, this.writer, this.stats, o);
    const receiverConfig: ReceiverConfig = {
      expectMasked: role === 'server',
      allowedRsv: 0, // none without an extension (§5.2); Inbound adds the extension's on connections that negotiated it
      maxPayloadLength: o.maxMessageSize,
      minFragmentSize: o.minFragmentSize,
      lender: this.pool,
    };
    this.inbound = new Inbound(receiverConfig, this.lifecycle, this.timeouts, this.writer, this.stats, this.reporter, handlers, role, extension);
    if (role === 'server') {
      const http = new HttpExchange(o, this.pool, this.writer, this.lifecycle, this.flow, this.timeouts, this.stats, this.reporter, handlers.request, routes, () => this.metrics());
      const handshake = new ServerHandshake(o, this.pool, this.writer, this.lifecycle, this.flow, this.inbound, this.stats, this.reporter, handlers.upgrade, routes, http, extension);
      http.readHeld = (conn) => handshake.readHeld(conn);
      this.http = http;
      this.handshake = handshake;
    } else {
      this.handshake = new ClientHandshake(this.pool, this.writer, this.lifecycle, this.inbound, extension);
    }
  }

  /** A connection class for one transport: the reactor and link sit on its prototype, not on each connection. */
  connectionClass(link: Link<ConnectionRecord>): new (handle: unknown) => ConnectionRecord {
    const Bound = class extends ConnectionRecord {
      constructor(handle: unknown) {
        super(handle, undefined);
      }
    };
    Object.defineProperties(Bound.prototype, { ops: { value: this }, link: { value: link } });
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
    if (this.registry.size < this.options.maxConnections && this.pool.lentBytes < 0.9 * this.options.maxMemoryBytes) return true;
    this.stats.connectionsRefused++;
    return false;
  }

  /** A new TCP connection: register it and give it handshakeTimeoutMs to upgrade. */
  accept(conn: ConnectionRecord): void {
    this.registry.add(conn);
    this.stats.accepted++;
    this.timeouts.handshaking(conn);
  }

  /** Client role: a TCP connection is up; send the upgrade request. */
  connected(conn: ConnectionRecord, request: ClientRequest): void {
    this.accept(conn);
    (this.handshake as ClientHandshake).start(conn, request);
  }

  /** Bytes read into `buf[start..end)` for `conn`. */
  onData(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    this.stats.bytesIn += end - start;
    const flags = conn.flags;
    if ((flags & State.Open) !== 0) {
      this.timeouts.heard(conn);
      this.writer.cork(conn);
      try {
        this.inbound.read(conn, buf, start, end);
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

  /**
   * A request node:http already parsed (handleUpgrade): decided like one read
   * from the socket; `head` is what followed it; `opened` is told when it opens.
   */
  upgradeParsed(conn: ConnectionRecord, request: ServerRequest, head: Buffer, opened: ((conn: ConnectionRecord) => void) | undefined): void {
    (this.handshake as ServerHandshake).upgrade(conn, request, head, 0, head.length, opened);
  }

  /** Answers an upgrade request that was not valid (handleUpgrade's own checks), then closes. */
  refuseUpgrade(conn: ConnectionRecord, status: number, message: string, headers?: Readonly<Record<string, string>>, request?: RefusedRequest): void {
    (this.handshake as ServerHandshake).refuse(conn, status, message, headers, request);
  }

  /** The peer closed its side (EOF, errno 0) or the read failed. */
  onEnd(conn: ConnectionRecord, errno = 0): void {
    if (errno === 0) this.lifecycle.finish(conn);
    else this.lifecycle.lost(conn, errno, 'read');
  }

  // ——— each connection's methods (ConnectionOps) ———

  send(conn: ConnectionRecord, data: SendData, isBinary: boolean): SendResult {
    if ((conn.flags & SENDABLE) !== State.Open) return SendResult.Dropped;
    this.stats.messagesOut++;
    if (this.reporter.debug) this.logOut(conn, isBinary ? 'binary' : 'text', data);
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    if ((conn.flags & State.Extension) !== 0) {
      const sent = this.extension!.send(conn, opcode, data, byteLengthOf(data));
      if (sent !== undefined) return sent;
    }
    return this.writer.writeFrame(conn, opcode, data);
  }

  sendControl(conn: ConnectionRecord, opcode: number, data: SendData = EMPTY): SendResult {
    if ((conn.flags & SENDABLE) !== State.Open) return SendResult.Dropped;
    if (byteLengthOf(data) > 125) throw new RangeError('a control frame carries at most 125 bytes (RFC 6455 §5.5)');
    if (this.reporter.debug) this.logOut(conn, opcode === Opcode.Ping ? 'ping' : 'pong', data);
    return this.writer.writeFrame(conn, opcode, data);
  }

  close(conn: ConnectionRecord, code?: number, reason?: string): void {
    this.lifecycle.close(conn, code, reason);
  }

  terminate(conn: ConnectionRecord): void {
    this.lifecycle.terminate(conn);
  }

  subscribe(conn: ConnectionRecord, topic: string): void {
    this.topics.subscribe(conn, topic);
  }

  unsubscribe(conn: ConnectionRecord, topic: string): void {
    this.topics.unsubscribe(conn, topic);
  }

  pause(conn: ConnectionRecord): void {
    this.flow.pause(conn);
  }

  resume(conn: ConnectionRecord): void {
    this.flow.resume(conn);
  }

  // ——— the server's and client's ———

  /** Frames once, writes the same bytes to every open connection. Returns how many it went to. */
  broadcast(data: SendData, isBinary: boolean): number {
    return this.writeToAll(this.registry, data, isBinary);
  }

  /**
   * Frames once, writes to every local subscriber of `topic` but `except`,
   * then hands the publish to the bridge, if any. Returns how many local
   * subscribers it went to.
   */
  publish(topic: string, data: SendData, isBinary: boolean, except: ConnectionRecord | null = null): number {
    if (typeof topic !== 'string') throw new TypeError('topic must be a string');
    const subscribers = this.topics.get(topic);
    const count = subscribers === undefined ? 0 : this.writeToAll(subscribers, data, isBinary, except);
    this.bridge?.published(topic, data, isBinary);
    return count;
  }

  /** A broadcast to every open connection here, then through the bridge to every other server's. */
  broadcastEverywhere(data: SendData, isBinary: boolean): number {
    const count = this.broadcast(data, isBinary);
    this.bridge?.broadcast(data, isBinary);
    return count;
  }

  /**
   * Plugs in a topic bridge: it hears of every topic gaining its first
   * subscriber and losing its last (those already subscribed at once), and
   * of every publish. One bridge at a time.
   */
  attachBridge(bridge: TopicBridge): void {
    if (this.bridge !== null) throw new Error('a topic bridge is already attached to this server; detach it first');
    const topics = this.topics;
    const host: BridgeHost = {
      deliver: (topic, data, isBinary) => {
        const subscribers = topics.get(topic);
        return subscribers === undefined ? 0 : this.writeToAll(subscribers, data, isBinary);
      },
      deliverToAll: (data, isBinary) => this.broadcast(data, isBinary),
      topics: () => topics.names(),
      log: (level, message) => this.reporter.log(level, message),
    };
    this.bridge = bridge;
    topics.events = { opened: (topic) => bridge.topicOpened(topic), closed: (topic) => bridge.topicClosed(topic) };
    bridge.attached(host);
    for (const topic of topics.names()) bridge.topicOpened(topic);
  }

  /** Unplugs `bridge` (if it is the one attached); publishes stay local from then on. */
  detachBridge(bridge: TopicBridge): void {
    if (this.bridge !== bridge) return;
    this.bridge = null;
    this.topics.events = null;
    bridge.detached();
  }

  /**
   * Graceful end of everything (shutdown.ts): Close (`code`, 1001 by
   * default) to every WebSocket, drop those still handshaking, wait up to
   * `timeoutMs`, drop the rest, stop the timers. Resolves with how many
   * closed in time and how many were dropped.
   */
  async shutdown(timeoutMs: number, code: number = CloseCode.GoingAway, reason = 'server shutting down'): Promise<{ closed: number; terminated: number }> {
    const result = await drainAndEnd(this.registry, this.lifecycle, this.stats, this.http, timeoutMs, code, reason);
    this.stop();
    this.extension?.close();
    return result;
  }

  /** This server's metrics in the Prometheus text format (0.0.4). */
  metrics(): string {
    return renderMetrics([{ labels: {}, stats: this.snapshot() }]);
  }

  get connectionCount(): number {
    return this.registry.size;
  }

  snapshot(): StatsSnapshot {
    return this.stats.snapshot(this.registry, this.writer, this.pool.stats(), this.topics.size, this.bridge?.stats() ?? { ...NO_REMOTE_STATS }, this.extension);
  }

  private writeToAll(receivers: Receivers, data: SendData, isBinary: boolean, except: ConnectionRecord | null = null): number {
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    const extension = this.extension;
    const count = extension === null ? this.writer.writeToMany(receivers, opcode, data, except) : extension.writeToMany(receivers, opcode, data, byteLengthOf(data), except);
    this.stats.messagesOut += count;
    if (this.reporter.debug) this.reporter.log('debug', `out ${isBinary ? 'binary' : 'text'} message to ${count} connections`);
    return count;
  }

  private logOut(conn: ConnectionRecord, kind: string, data: SendData): void {
    this.reporter.log('debug', `out ${kind} ${byteLengthOf(data)} B to ${conn.remoteAddress}`);
  }
}
