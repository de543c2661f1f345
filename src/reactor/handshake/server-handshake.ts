import type { BufferPool } from '../../pool/buffer-pool.js';
import { findHeadEnd } from '../../protocol/http-head-end.js';
import { parseRequestHead } from '../../protocol/http-head.js';
import { isUpgradeAttempt, parseUpgradeRequest, REQUEST_SINGLETONS } from '../../protocol/upgrade-request.js';
import { REQUEST_PREFIX_INVALID, scanRequestPrefix } from '../../protocol/http-request-prefix.js';
import { buildErrorResponse, buildSwitchingProtocols, type ExtraHeaders } from '../../protocol/http-response.js';
import { checkOrigin, type OriginPolicy } from '../../protocol/origin.js';
import { hostAllowed } from '../../protocol/allowed-hosts.js';
import { selectSubprotocol } from '../../protocol/subprotocol.js';
import type { Extension } from '../extensions/extension.js';
import { extrasOf, type ConnectionExtras } from '../connection/connection-extras.js';
import { AWAITING_ANSWER, State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { FlowControl } from '../write/flow-control.js';
import type { Handlers, HandshakeRequest, UpgradeDecision } from '../../api/handlers.js';
import { appendHead, releaseHead, takeHead } from '../http/head-buffer.js';
import type { HeldReads, HttpExchange } from '../http/http-exchange.js';
import type { Inbound } from '../read/inbound.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Reporter } from '../observe/reporter.js';
import type { RouteTable } from '../http/route-table.js';
import { ServerRequest } from './server-request.js';
import { reportRefusal, type RefusedRequest } from './refusal-report.js';
import { isTls } from '../connection/peer-address.js';
import type { ReactorStats } from '../observe/stats.js';
import type { Writer } from '../write/writer.js';
import type { ReactorContext } from '../context.js';

/** Held requests wait while any of these is set: an answer awaited, a body, the answers unread (ReadBlocked), the end. */
const NOT_NOW = AWAITING_ANSWER | State.HttpBody | State.ReadBlocked | State.Closed | State.EndAfterFlush;

/** The answer to bytes that no HTTP request can begin with. */
const NOT_HTTP = 'not an HTTP request (RFC 7230 §3)';

/** The parts an upgrade goes through. */
export interface ServerHandshakeParts {
  readonly writer: Writer;
  readonly lifecycle: Lifecycle;
  readonly flow: FlowControl;
  readonly inbound: Inbound<HandshakeRequest>;
  readonly http: HttpExchange;
  readonly extension: Extension | null;
}

/** The options the server handshake applies. */
export interface ServerHandshakeSettings {
  readonly maxHeaderSize: number;
  readonly checkOrigin?: OriginPolicy | undefined;
  readonly allowedHosts?: readonly string[] | undefined;
  readonly protocols: readonly string[];
}

/**
 * The server side of the opening handshake (RFC 6455 §4.2) on the reactor.
 *
 * A request that arrives whole is parsed where it lies in the read slab.
 * Only one that arrives in pieces is gathered, into a pooled buffer bounded
 * by maxHeaderSize, which goes back as soon as the head is complete. Bytes
 * after the head (a client that sends its first frames without waiting for
 * the 101) go straight to the receiver once the connection is open.
 */
export class ServerHandshake implements HeldReads {
  private readonly settings: ServerHandshakeSettings;
  private readonly pool: BufferPool;
  private readonly stats: ReactorStats;
  private readonly reporter: Reporter;
  private readonly writer: Writer;
  private readonly lifecycle: Lifecycle;
  private readonly flow: FlowControl;
  private readonly inbound: Inbound<HandshakeRequest>;
  /** Plain HTTP requests (no upgrade) go here. */
  private readonly http: HttpExchange;
  /** The extension to negotiate (RFC 6455 §9.1); null when none is enabled. */
  private readonly extension: Extension | null;

  constructor(
    ctx: ReactorContext,
    parts: ServerHandshakeParts,
    private readonly upgradeHook: Handlers['upgrade'],
    /** A server with routes: the request path picks the handlers, and the upgrade hook is the route's. */
    private readonly routes: RouteTable | undefined,
  ) {
    ({ options: this.settings, pool: this.pool, stats: this.stats, reporter: this.reporter } = ctx);
    ({
      writer: this.writer,
      lifecycle: this.lifecycle,
      flow: this.flow,
      inbound: this.inbound,
      http: this.http,
      extension: this.extension,
    } = parts);
  }

  onData(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    this.read(conn, buf, start, end);
    this.readHeld(conn);
  }

  /**
   * Reads the requests that arrived behind a plain request and were held
   * while it was answered: here, in a loop, rather than from inside the
   * answer, so that any number of them costs no stack. Also when the
   * answers queued for a peer that stopped reading have drained (ReadBlocked).
   */
  readHeld(conn: ConnectionRecord): void {
    while ((conn.flags & (State.Pipelined | NOT_NOW)) === State.Pipelined) {
      conn.flags &= ~State.Pipelined;
      const held = takeHead(conn);
      if (held === null) return;
      try {
        this.read(conn, held.buf, 0, held.length);
      } finally {
        this.pool.release(held.buf);
      }
    }
  }

  /** Request heads in `buf[start..end)`, one after another while each is a plain request answered at once. */
  private read(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    while (start >= 0 && start < end) start = this.readHead(conn, buf, start, end);
  }

  /** One head (or part of one) from `buf[start..end)`. Returns where the next request begins in `buf`, or -1. */
  private readHead(conn: ConnectionRecord, buf: Buffer, start: number, end: number): number {
    const max = this.settings.maxHeaderSize;
    const flags = conn.flags;
    if ((flags & AWAITING_ANSWER) !== 0) {
      this.keep(conn, buf, start, end); // read before the pause took effect: hold for the receiver (or the next request)
      return -1;
    }
    if ((flags & (State.Handshaking | State.EndAfterFlush)) !== State.Handshaking) return -1; // answered and ending
    if ((flags & State.HttpBody) !== 0) return this.http.body(conn, buf, start, end, this);
    if ((flags & (State.ReadBlocked | State.Pipelined)) !== 0) {
      // The peer is not reading the answers so far (or bytes are held before these): parse
      // nothing more until they drain, or each request it pipelines would queue one more answer.
      this.keep(conn, buf, start, end);
      conn.flags |= State.Pipelined;
      return -1;
    }
    // A head that arrives whole (nearly every one) needs no extras: none is made for it.
    const extras = conn.extras;
    if (extras === null || extras.head === null) {
      const headEnd = findHeadEnd(buf, start, end, start);
      if (headEnd >= 0) {
        if (headEnd - start > max) return this.refused(conn, 431, 'request header fields too large');
        return this.process(conn, buf, start, headEnd, end);
      }
      const gathering = extrasOf(conn);
      if (!this.mayBeHttp(gathering, buf, start, end)) return this.refused(conn, 400, NOT_HTTP);
      if (end - start >= max) return this.refused(conn, 431, 'request header fields too large');
      this.keep(conn, buf, start, end);
      gathering.headScan = gathering.headLength;
      return -1;
    }
    // Continue a head that arrived in pieces: copy no more than the bound allows.
    const take = Math.min(end - start, max - extras.headLength);
    this.keep(conn, buf, start, start + take);
    const headEnd = findHeadEnd(extras.head, 0, extras.headLength, extras.headScan);
    if (headEnd < 0) {
      if (!this.mayBeHttp(extras, buf, start, start + take)) return this.refused(conn, 400, NOT_HTTP);
      if (extras.headLength >= max) return this.refused(conn, 431, 'request header fields too large');
      extras.headScan = extras.headLength;
      return -1;
    }
    // The head is complete. Whatever followed it is the start of the frame
    // stream (or the body, or the next request): gather it behind the head so it is one range, in order.
    if (start + take < end) this.keep(conn, buf, start + take, end);
    const whole = takeHead(conn)!;
    try {
      const next = this.process(conn, whole.buf, 0, headEnd, whole.length);
      // A plain request answered at once: what followed it is in `whole`, which goes back now. Hold it.
      if (next >= 0 && next < whole.length) {
        this.keep(conn, whole.buf, next, whole.length);
        conn.flags |= State.Pipelined;
      }
    } finally {
      this.pool.release(whole.buf);
    }
    return -1;
  }

  /**
   * Answers an upgrade request that was not valid or not welcome, then
   * closes. Logged at info with what is known of the request.
   */
  refuse(
    conn: ConnectionRecord,
    status: number,
    message: string,
    headers?: ExtraHeaders,
    request?: RefusedRequest,
  ): void {
    this.stats.handshakesRefused++;
    releaseHead(this.pool, conn);
    let response: string;
    let sent = status;
    try {
      response = buildErrorResponse(status, message, headers);
    } catch (error) {
      this.userCodeFailed(error, conn); // bad headers from the upgrade hook
      response = buildErrorResponse(500, 'internal error');
      sent = 500;
    }
    this.stats.refusalsByStatus[sent]!++; // a status, 100–599: in range (stats.ts)
    reportRefusal(this.reporter, conn, sent, message, request);
    this.writer.writeHead(conn, response);
    this.lifecycle.endAfterFlush(conn);
  }

  /** `refuse`, for the readers above: nothing more to read in this buffer. */
  private refused(conn: ConnectionRecord, status: number, message: string): number {
    this.refuse(conn, status, message);
    return -1;
  }

  /**
   * Parses the head `buf[start..headEnd)` and decides; `buf[headEnd..end)`
   * is what followed it. A plain request goes to the HTTP exchange; returns
   * where the next request begins when that one was answered at once, else -1.
   */
  private process(conn: ConnectionRecord, buf: Buffer, start: number, headEnd: number, end: number): number {
    // The upgrade, the common case, reads only the fields its rules need. Anything else (a plain
    // request, or a refusal that is logged with its URL and Origin) is parsed again with every field.
    const result = parseUpgradeRequest(buf, start, headEnd, this.settings, ServerRequest);
    if (!result.ok) {
      const head = parseRequestHead(buf, start, headEnd, REQUEST_SINGLETONS);
      if (!head.ok) return this.refused(conn, head.status, head.message);
      if (!isUpgradeAttempt(head.headers)) return this.http.request(conn, head, buf, start, headEnd, end, this);
      this.refuse(conn, result.status, result.message, result.headers, {
        url: head.target,
        origin: head.headers.get('origin'),
      });
      return -1;
    }
    this.upgrade(conn, result, buf, headEnd, end, undefined);
    return -1;
  }

  /**
   * Decides on a valid upgrade request: origin, route, the upgrade hook, then
   * the 101 or a refusal. `buf[start..end)` is what followed the head. Also
   * the entry for a request node:http already parsed (handleUpgrade), whose
   * caller may be told when it opens (`opened`, after the open handler).
   */
  upgrade(
    conn: ConnectionRecord,
    parsed: ServerRequest,
    buf: Buffer,
    start: number,
    end: number,
    opened: ((conn: ConnectionRecord) => void) | undefined,
  ): void {
    const settings = this.settings;
    const request = ServerRequest.from(parsed, conn);
    // A name this server is not (DNS rebinding): 421 before the origin, which such a page controls.
    if (!hostAllowed(request.host, settings.allowedHosts))
      return this.refuse(conn, 421, 'host not allowed', undefined, request);
    let allowed = false;
    try {
      allowed = checkOrigin(request.origin, request.host, settings.checkOrigin, request, isTls(conn));
    } catch (error) {
      this.userCodeFailed(error, conn);
    }
    if (!allowed) return this.refuse(conn, 403, 'origin not allowed', undefined, request);
    // Closing: a plain HTTP connection kept for the drain may still ask to upgrade.
    if (this.http.draining) return this.refuse(conn, 503, 'server shutting down', { 'Retry-After': '5' }, request);
    let hook = this.upgradeHook;
    const routes = this.routes;
    if (routes !== undefined) {
      const route = routes.select(request.url);
      if (route < 0 || !routes.takesUpgrades(route))
        return this.refuse(conn, 404, 'no WebSocket endpoint at this path', undefined, request);
      routes.assign(conn, route);
      hook = routes.upgradeHook(route);
    }
    const protocol = selectSubprotocol(settings.protocols, request.protocols);
    let decision: UpgradeDecision<unknown> | Promise<UpgradeDecision<unknown>> = undefined;
    if (hook !== undefined) {
      try {
        decision = hook(request);
      } catch (error) {
        this.userCodeFailed(error, conn);
        return this.refuse(conn, 500, 'internal error', undefined, request);
      }
    }
    if (isPromise(decision)) {
      // Hold what followed the head, stop reading, and decide when the hook does.
      this.keep(conn, buf, start, end);
      conn.flags |= State.UpgradeDeciding;
      this.flow.pause(conn);
      decision.then(
        (settled) => this.decide(conn, request, settled, protocol, opened),
        (error: unknown) => {
          this.userCodeFailed(error, conn);
          if ((conn.flags & State.Closed) !== 0) return;
          this.settled(conn);
          this.refuse(conn, 500, 'internal error', undefined, request);
        },
      );
      return;
    }
    if (!this.accept(conn, request, decision, protocol)) return;
    if (opened !== undefined) this.inbound.afterOpen(conn, opened);
    if (start < end) this.inbound.read(conn, buf, start, end);
  }

  /** User code failed before the open (hook, checkOrigin): a handler error, reported with conn.data unset. */
  private userCodeFailed(error: unknown, conn: ConnectionRecord): void {
    this.stats.handlerErrors++;
    this.reporter.report(error, conn);
  }

  /** The async upgrade hook settled: accept or refuse, then replay what was read meanwhile. */
  private decide(
    conn: ConnectionRecord,
    request: HandshakeRequest,
    decision: UpgradeDecision<unknown>,
    protocol: string | undefined,
    opened: ((conn: ConnectionRecord) => void) | undefined,
  ): void {
    if ((conn.flags & State.Closed) !== 0) return; // timed out or gone while the hook ran
    this.settled(conn);
    if (!this.accept(conn, request, decision, protocol)) return;
    if (opened !== undefined) this.inbound.afterOpen(conn, opened);
    const held = takeHead(conn);
    if (held === null) return;
    try {
      this.inbound.read(conn, held.buf, 0, held.length);
    } finally {
      this.pool.release(held.buf);
    }
  }

  /**
   * The hook has settled: read again before its decision is carried out. The
   * open handler may pause the connection, which must hold; a refused peer's
   * FIN must be read, or the connection waits out closeTimeoutMs.
   */
  private settled(conn: ConnectionRecord): void {
    conn.flags &= ~State.UpgradeDeciding;
    this.flow.resume(conn);
  }

  /** Sends the 101 and opens the connection; false when the decision was a refusal. */
  private accept(
    conn: ConnectionRecord,
    request: HandshakeRequest,
    decision: UpgradeDecision<unknown>,
    fallback: string | undefined,
  ): boolean {
    if (decision != null && decision.reject !== undefined) {
      this.refuse(conn, decision.reject, decision.message ?? 'upgrade refused', decision.headers, request);
      return false;
    }
    const protocol = decision?.protocol ?? fallback;
    if (protocol !== undefined && !request.protocols.includes(protocol)) {
      this.userCodeFailed(
        new Error(`upgrade hook chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`),
        conn,
      );
      this.refuse(conn, 500, 'internal error', undefined, request);
      return false;
    }
    // An offer we decline never fails the handshake: the 101 then goes without the extension (§9.1; RFC 7692 §5).
    const extensions = this.extension?.respond(conn, request.extensions);
    let response: string;
    try {
      response = buildSwitchingProtocols({ key: request.key, protocol, extensions, headers: decision?.headers });
    } catch (error) {
      this.userCodeFailed(error, conn);
      this.refuse(conn, 500, 'internal error', undefined, request);
      return false;
    }
    if (protocol !== undefined) extrasOf(conn).protocol = protocol;
    if (decision?.data !== undefined) conn.data = decision.data;
    this.writer.writeHead(conn, response);
    this.inbound.opened(conn, request);
    return true;
  }

  /**
   * Can the head so far, plus `buf[start..end)`, still become a valid
   * request? Only asked while the head is incomplete (a whole one is parsed
   * at once); each byte is looked at once, however the head trickles in.
   */
  private mayBeHttp(extras: ConnectionExtras, buf: Buffer, start: number, end: number): boolean {
    extras.headSyntax = scanRequestPrefix(buf, start, end, extras.headSyntax);
    return extras.headSyntax !== REQUEST_PREFIX_INVALID;
  }

  private keep(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    appendHead(this.pool, conn, buf, start, end);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
