import { BufferPool } from '../pool/buffer-pool.js';
import { CloseCode } from '../protocol/close-code.js';
import { buildErrorResponse } from '../protocol/http-response.js';
import { Opcode } from '../protocol/opcode.js';
import type { ClientResponse } from '../api/client-request.js';
import type { ConnectionHandlers, HandshakeRequest } from '../api/handlers.js';
import type { EndpointOptions } from '../api/options.js';
import { byteLengthOf, SendResult, type SendData } from '../api/send-result.js';
import type { StatsSnapshot } from '../api/stats-snapshot.js';
import { NO_REMOTE_STATS, type BridgeHost, type TopicBridge } from '../api/topic-bridge.js';
import type { ReactorContext, Role } from './context.js';
import { configuredExtension } from './extensions/configured-extension.js';
import type { Extension } from './extensions/extension.js';
import { State } from './connection/connection-state.js';
import { ConnectionRecord, type ConnectionOps } from './connection/connection-record.js';
import type { Link } from './connection/link.js';
import { OpenConnections } from './connection/open-connections.js';
import { ConnectionRegistry } from './connection/registry.js';
import { Lifecycle, type EndHandlers } from './lifecycle/lifecycle.js';
import { drainAndEnd } from './lifecycle/shutdown.js';
import { Timeouts } from './lifecycle/timeouts.js';
import { TimerWheel } from './lifecycle/timer-wheel.js';
import { renderMetrics } from './observe/metrics.js';
import { Reporter } from './observe/reporter.js';
import { ReactorStats } from './observe/stats.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { Inbound } from './read/inbound.js';
import { Topics, type TopicEvents } from './topics/topics.js';
import { FlowControl } from './write/flow-control.js';
import { keeping, Writer, type Receivers, type WriterEvents } from './write/writer.js';

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
 * This class builds the parts, once and in order, on one context
 * (context.ts), and is what the outside calls: the transports (`admit`,
 * `accept`, `onData`, `onEnd`, `writer.complete`), each connection's methods
 * (`ConnectionOps`), and the server and client. What the parts report up
 * (WriterEvents, TopicEvents, a wheel entry expiring) comes back here and
 * goes to the part that acts on it. The role's subclass adds its handshake:
 * server-reactor.ts (and plain HTTP), client-reactor.ts. The parts depend
 * one way: handshakes → inbound → timeouts → lifecycle → writer; see
 * docs/architecture.md.
 */
export abstract class Reactor<OpenInfo extends HandshakeRequest | ClientResponse = HandshakeRequest | ClientResponse>
  implements ConnectionOps, WriterEvents, TopicEvents
{
  /** What every part shares (context.ts): built first, never changed. */
  readonly ctx: ReactorContext;
  readonly options: ResolvedOptions;
  readonly pool: BufferPool;
  /** The one read buffer of every socket. Its contents are valid until the next read. */
  readonly slab: Buffer;
  readonly stats: ReactorStats;
  readonly topics: Topics;
  readonly reporter: Reporter;
  private readonly registry: ConnectionRegistry;
  /** The open connections, as `server.clients`. */
  readonly openConnections: OpenConnections;
  readonly writer: Writer;
  readonly lifecycle: Lifecycle;
  protected readonly flow: FlowControl;
  protected readonly timeouts: Timeouts;
  protected readonly inbound: Inbound<OpenInfo>;
  /** Reads the opening handshake of a connection not yet open: the role's own. */
  protected abstract readonly handshake: {
    onData(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void;
  };
  /** Carries publishes to and from other servers; null (one check per publish) when there are none. */
  private bridge: TopicBridge | null = null;
  /** A reloading cluster worker's: who this server's own publishes reach here (cluster/cluster-bridge.ts). */
  localOnly: ((conn: ConnectionRecord) => boolean) | null = null;
  /** The extension the options enable (permessage-deflate), offered or accepted per connection; null when none. */
  readonly extension: Extension | null;
  /** The whole HTTP response for a connection over maxConnections. */
  readonly refusal = buildErrorResponse(503, 'server at its connection limit', { 'Retry-After': '1' });

  /**
   * Builds every part once, in the order they depend on each other: the context, the writer, the
   * lifecycle, deflate, timeouts, flow control, inbound; the role's subclass then adds its handshake (and HTTP).
   */
  constructor(
    options: EndpointOptions,
    handlers: ConnectionHandlers<unknown, OpenInfo> & Pick<EndHandlers, 'abandoned'>,
    role: Role,
  ) {
    const o = (this.options = resolveOptions(options));
    this.slab = Buffer.allocUnsafeSlow(o.readSlabSize);
    this.ctx = {
      role,
      options: o,
      pool: (this.pool = new BufferPool({ maxRetainedBytes: o.poolRetainedBytes, maxLentBytes: o.maxMemoryBytes })),
      stats: (this.stats = new ReactorStats()),
      registry: (this.registry = new ConnectionRegistry()),
      reporter: (this.reporter = new Reporter(o.logLevel, o.logger, handlers.error)),
      topics: (this.topics = new Topics(this)),
      wheel: new TimerWheel<ConnectionRecord>(64, (conn) => this.timeouts.expired(conn)),
    };
    this.openConnections = new OpenConnections(this.registry, this.stats);
    this.writer = new Writer(this.ctx, this);
    // The extension fails a connection through the lifecycle, which releases what the extension holds: the one pair
    // of parts that call each other, so the extension's `fail` is looked up when a failure happens.
    this.extension = configuredExtension(o, role, this.pool, this.writer, (conn, code, reason) =>
      this.lifecycle.fail(conn, code, reason),
    );
    this.lifecycle = new Lifecycle(this.ctx, this.writer, handlers, this.extension);
    this.timeouts = new Timeouts(this.ctx, this.lifecycle, this.writer);
    this.flow = new FlowControl(this.ctx, this.lifecycle, this.timeouts, handlers.drain);
    this.inbound = new Inbound(this.ctx, this.lifecycle, this.timeouts, this.writer, handlers, this.extension);
  }

  get role(): Role {
    return this.ctx.role;
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

  /** May one more connection be accepted? When not, the transport writes `refusal` (a 503) and closes the socket before reading anything. */
  admit(): boolean {
    // Near the memory budget, a new connection would only take from the ones already served.
    if (this.registry.size < this.options.maxConnections && this.pool.lentBytes < 0.9 * this.options.maxMemoryBytes)
      return true;
    this.stats.connectionsRefused++;
    return false;
  }

  /** A new TCP connection: register it and give it handshakeTimeoutMs to upgrade. */
  accept(conn: ConnectionRecord): void {
    this.registry.add(conn);
    this.stats.accepted++;
    this.timeouts.handshaking(conn);
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
      this.writer.cork(null); // nothing to gather for this one, but what it sends others waits for the turn's end
      try {
        this.handshake.onData(conn, buf, start, end);
      } finally {
        this.writer.uncork();
      }
    }
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

  owed(conn: ConnectionRecord): number {
    return this.writer.owed(conn);
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
    const count =
      subscribers === undefined ? 0 : this.writeToAll(keeping(subscribers, this.localOnly), data, isBinary, except);
    this.bridge?.published(topic, data, isBinary);
    return count;
  }

  /** A broadcast to every open connection here, then through the bridge to every other server's. */
  broadcastEverywhere(data: SendData, isBinary: boolean): number {
    const count = this.writeToAll(keeping(this.registry, this.localOnly), data, isBinary);
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
    bridge.attached(host);
    for (const topic of topics.names()) bridge.topicOpened(topic);
  }

  /** Unplugs `bridge` (if it is the one attached); publishes stay local from then on. */
  detachBridge(bridge: TopicBridge): void {
    if (this.bridge !== bridge) return;
    this.bridge = null;
    bridge.detached();
  }

  /**
   * Graceful end of everything (shutdown.ts): Close (`code`, 1001 by
   * default) to every WebSocket, drop those still handshaking, wait up to
   * `timeoutMs`, drop the rest, stop the timers. Resolves with how many
   * closed in time and how many were dropped.
   */
  async shutdown(
    timeoutMs: number,
    code: number = CloseCode.GoingAway,
    reason = 'server shutting down',
  ): Promise<{ closed: number; terminated: number }> {
    const result = await drainAndEnd(
      this.registry,
      this.lifecycle,
      this.stats,
      () => this.beginDrain(),
      timeoutMs,
      code,
      reason,
    );
    this.stop();
    this.extension?.close();
    return result;
  }

  /** The first step of a shutdown, before the Close frames: the server stops serving plain HTTP as usual. */
  protected beginDrain(): void {}

  // ——— what the parts report up (WriterEvents, TopicEvents), handed to the part that acts on it ———

  writeFailed(conn: ConnectionRecord, errno: number): void {
    this.lifecycle.lost(conn, errno, 'write');
  }

  flushed(conn: ConnectionRecord): void {
    this.flow.flushed(conn);
  }

  overflow(conn: ConnectionRecord): SendResult {
    return this.flow.overflow(conn);
  }

  congested(conn: ConnectionRecord): void {
    this.flow.congested(conn);
  }

  starved(conn: ConnectionRecord, bytes: number): void {
    this.flow.shed(conn, bytes);
  }

  topicOpened(topic: string): void {
    this.bridge?.topicOpened(topic);
  }

  topicClosed(topic: string): void {
    this.bridge?.topicClosed(topic);
  }

  /** This server's metrics in the Prometheus text format (0.0.4). */
  metrics(): string {
    return renderMetrics([{ labels: {}, stats: this.snapshot() }]);
  }

  get connectionCount(): number {
    return this.registry.size;
  }

  snapshot(): StatsSnapshot {
    return this.stats.snapshot(
      this.registry,
      this.writer,
      this.pool.stats(),
      this.topics.size,
      this.bridge?.stats() ?? { ...NO_REMOTE_STATS },
      this.extension,
    );
  }

  /** Frames once, writes to each of `receivers` but `except`; nothing to the bridge. Returns how many. */
  writeToAll(receivers: Receivers, data: SendData, isBinary: boolean, except: ConnectionRecord | null = null): number {
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    const extension = this.extension;
    const count =
      extension === null
        ? this.writer.writeToMany(receivers, opcode, data, except)
        : extension.writeToMany(receivers, opcode, data, byteLengthOf(data), except);
    this.stats.messagesOut += count;
    if (this.reporter.debug)
      this.reporter.log('debug', `out ${isBinary ? 'binary' : 'text'} message to ${count} connections`);
    return count;
  }

  private logOut(conn: ConnectionRecord, kind: string, data: SendData): void {
    this.reporter.log('debug', `out ${kind} ${byteLengthOf(data)} B to ${conn.remoteAddress}`);
  }
}
