import type { BufferPool } from '../../pool/buffer-pool.js';
import { findHeadEnd } from '../../protocol/http-head-end.js';
import { parseRequestHead, type ParsedRequestHead } from '../../protocol/http-head.js';
import { buildResponseHead, buildUpgradeRequired, CONTINUE, hasNoBody } from '../../protocol/http-plain-response.js';
import { checkPlainRequest, requestPath, type PlainRequestHead } from '../../protocol/http-request.js';
import { buildErrorResponse, type ExtraHeaders } from '../../protocol/http-response.js';
import { REQUEST_SINGLETONS } from '../../protocol/upgrade-request.js';
import type { MetricsText } from '../../api/stats-snapshot.js';
import { BuiltinRoutes } from './builtin-routes.js';
import { hostAllowed } from '../../protocol/allowed-hosts.js';
import { dropExtrasIfEmpty, extrasOf } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { channels } from '../../api/diagnostics.js';
import type { FlowControl } from '../write/flow-control.js';
import { appendHead, takeHead } from './head-buffer.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Reporter } from '../observe/reporter.js';
import type { HttpRequest, HttpResponse, RequestHandler } from '../../api/request-handler.js';
import type { RouteTable } from './route-table.js';
import { bytesOf } from '../../api/send-result.js';
import type { ReactorStats } from '../observe/stats.js';
import type { Timeouts } from '../lifecycle/timeouts.js';
import type { Writer } from '../write/writer.js';
import type { ReactorContext } from '../context.js';

/** The parts a plain request goes through. */
export interface HttpParts {
  readonly writer: Writer;
  readonly lifecycle: Lifecycle;
  readonly flow: FlowControl;
  readonly timeouts: Timeouts;
}

/**
 * Who reads the requests held behind one answered late (the server
 * handshake): given with each request, so the exchange needs no link back.
 */
export interface HeldReads {
  readHeld(conn: ConnectionRecord): void;
}

/** The options plain requests are served by. */
export interface HttpSettings {
  readonly maxRequestBodySize: number;
  /** A response body larger than this is a 500: it would be one write bigger than any send may queue. */
  readonly maxBufferedBytes: number;
  readonly healthPath?: string | undefined;
  readonly metricsPath?: string | undefined;
  /** Host names answered (normalized); undefined: any. */
  readonly allowedHosts?: readonly string[] | undefined;
}

const EMPTY = Buffer.alloc(0);
const NOT_FOUND: HttpResponse = Object.freeze({ status: 404, body: 'Not Found\n' });
const INTERNAL_ERROR: HttpResponse = Object.freeze({ status: 500, body: 'Internal Server Error\n' });
/** A Host this server does not answer to (allowedHosts; RFC 9110 §15.5.20): DNS rebinding meets it. */
const MISDIRECTED: HttpResponse = Object.freeze({ status: 421, body: 'Misdirected Request\n' });
/** No handler serves plain requests here: 426, and the connection closes. */
const UPGRADE_REQUIRED: HttpResponse = Object.freeze({ status: 426 });

/**
 * Plain HTTP requests on the WebSocket port (RFC 7230, RFC 7231): a request
 * without `Upgrade: websocket` goes to the built-in paths (health, metrics),
 * then to the `request` handler (the route's, on a server with routes), and
 * without one gets 426 Upgrade Required. One response per request, in order;
 * the connection stays for the next request unless the client asked to
 * close (keep-alive, RFC 7230 §6.3), and is held to the handshake's bounds
 * all along: the head size, handshakeTimeoutMs from its accept or from the
 * last response, and a body of at most maxRequestBodySize.
 *
 * Nothing here is kept per connection but what the handshake keeps: the head
 * buffer (gathering a head, a body, or requests pipelined behind one being
 * answered) and flag bits. An idle WebSocket never meets any of it.
 */
export class HttpExchange {
  /** Set when `close()` begins: health answers 503, and every response closes its connection. */
  draining = false;
  private readonly builtins: BuiltinRoutes;
  private readonly settings: HttpSettings;
  private readonly pool: BufferPool;
  private readonly stats: ReactorStats;
  private readonly reporter: Reporter;
  private readonly writer: Writer;
  private readonly lifecycle: Lifecycle;
  private readonly flow: FlowControl;
  private readonly timeouts: Timeouts;
  private dateSecond = -1;
  private dateText = '';

  constructor(
    ctx: ReactorContext,
    parts: HttpParts,
    private readonly handler: RequestHandler | undefined,
    private readonly routes: RouteTable | undefined,
    /** What metricsPath serves: the reactor's own metrics, or the one it was told to serve instead (a cluster's). */
    metrics: MetricsText,
  ) {
    ({ options: this.settings, pool: this.pool, stats: this.stats, reporter: this.reporter } = ctx);
    ({ writer: this.writer, lifecycle: this.lifecycle, flow: this.flow, timeouts: this.timeouts } = parts);
    this.builtins = new BuiltinRoutes(
      this.settings.healthPath,
      this.settings.metricsPath,
      metrics,
      () => this.draining,
    );
  }

  /**
   * The head `buf[start..headEnd)` of a plain request is in, parsed as
   * `head`; `buf[headEnd..end)` followed it. Returns where the next request
   * begins in `buf` when this one was answered at once and the connection
   * goes on, else -1 (answered and closing, waiting for the body, or the
   * handler is still at it).
   */
  request(
    conn: ConnectionRecord,
    head: ParsedRequestHead,
    buf: Buffer,
    start: number,
    headEnd: number,
    end: number,
    held: HeldReads,
  ): number {
    if ((conn.flags & State.Http) === 0) {
      conn.flags |= State.Http;
      this.stats.httpNow++;
    }
    const checked = checkPlainRequest(head, this.settings.maxRequestBodySize);
    if (!checked.ok) {
      this.refuse(conn, head.method, head.target, checked.status, checked.message, checked.headers);
      return -1;
    }
    const bodyEnd = headEnd + checked.bodyLength;
    if (bodyEnd <= end) return this.dispatch(conn, checked, copyOf(buf, headEnd, bodyEnd), buf, bodyEnd, end, held);
    // The body is still on its way: gather head and body together in the head buffer
    // (bounded: maxHeaderSize + maxRequestBodySize), and remember how long they are.
    if (checked.expectContinue) this.writer.writeHead(conn, CONTINUE);
    appendHead(this.pool, conn, buf, start, end);
    extrasOf(conn).requestLength = bodyEnd - start;
    conn.flags |= State.HttpBody;
    return -1;
  }

  /** More of a body (State.HttpBody) in `buf[start..end)`. Returns where the next request begins in `buf`, or -1. */
  body(conn: ConnectionRecord, buf: Buffer, start: number, end: number, held: HeldReads): number {
    const extras = conn.extras!;
    const total = extras.requestLength;
    const take = Math.min(end - start, total - extras.headLength);
    appendHead(this.pool, conn, buf, start, start + take);
    if (extras.headLength < total) return -1;
    conn.flags &= ~State.HttpBody;
    const whole = takeHead(conn)!;
    try {
      // The head was parsed when it arrived; parsing it once more here is cheaper than a
      // field for the parsed request, which every connection's extras would carry.
      const headEnd = findHeadEnd(whole.buf, 0, total, 0);
      const head = parseRequestHead(whole.buf, 0, headEnd, REQUEST_SINGLETONS) as ParsedRequestHead;
      const checked = checkPlainRequest(head, this.settings.maxRequestBodySize) as PlainRequestHead;
      return this.dispatch(conn, checked, copyOf(whole.buf, headEnd, total), buf, start + take, end, held);
    } finally {
      this.pool.release(whole.buf);
    }
  }

  /** Answers a whole request; `buf[next..end)` is what followed it. */
  private dispatch(
    conn: ConnectionRecord,
    request: PlainRequestHead,
    body: Buffer,
    buf: Buffer,
    next: number,
    end: number,
    held: HeldReads,
  ): number {
    const answer = this.answer(conn, request, body);
    if (!isPromise(answer)) return this.respond(conn, request, answer) ? next : -1;
    // Nothing more is read (or answered) until this one is: hold what followed, pause, wait.
    if (next < end) {
      appendHead(this.pool, conn, buf, next, end);
      conn.flags |= State.Pipelined;
    }
    conn.flags |= State.HttpAnswering;
    this.flow.pause(conn);
    answer
      .then((response) => {
        if ((conn.flags & State.Closed) !== 0) return; // timed out or gone meanwhile
        conn.flags &= ~State.HttpAnswering;
        this.flow.resume(conn);
        if (conn.extras?.head != null) conn.flags |= State.Pipelined; // read before the pause took effect
        if (this.respond(conn, request, response)) held.readHeld(conn);
      })
      .catch((error: unknown) => this.reporter.report(error, conn));
    return -1;
  }

  /** Who answers: a built-in path, the handler, or nobody (426). Never throws; a failing handler is a 500. */
  private answer(
    conn: ConnectionRecord,
    request: PlainRequestHead,
    body: Buffer,
  ): HttpResponse | Promise<HttpResponse> {
    if (!hostAllowed(request.headers.get('host'), this.settings.allowedHosts)) return MISDIRECTED;
    const path = requestPath(request.url);
    const builtin = this.builtins.answer(path, request.method);
    if (builtin !== undefined) return builtin;
    let handler = this.handler;
    const routes = this.routes;
    if (routes !== undefined) {
      const route = routes.select(request.url);
      if (route < 0) return NOT_FOUND;
      handler = routes.requestHandler(route);
    }
    if (handler === undefined) return UPGRADE_REQUIRED;
    const { method, url, httpVersion, headers } = request;
    const seen: HttpRequest = { method, url, httpVersion, headers, body, remoteAddress: '' };
    // Lazy: a getpeername syscall per request is measurable, and most handlers never ask.
    Object.defineProperty(seen, 'remoteAddress', { get: () => conn.remoteAddress, enumerable: true });
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(seen);
    } catch (error) {
      this.handlerFailed(error, conn);
      return INTERNAL_ERROR;
    }
    if (!isPromise(result)) return result ?? NOT_FOUND;
    return result.then(
      (response) => response ?? NOT_FOUND,
      (error: unknown) => {
        this.handlerFailed(error, conn);
        return INTERNAL_ERROR;
      },
    );
  }

  /** The request handler threw, rejected or answered what cannot be sent: counted with the handlers' errors. */
  private handlerFailed(error: unknown, conn: ConnectionRecord): void {
    this.stats.handlerErrors++;
    this.reporter.report(error, conn);
  }

  /** Writes the response. True when the connection goes on to its next request. */
  private respond(conn: ConnectionRecord, request: PlainRequestHead, response: HttpResponse): boolean {
    if (response === UPGRADE_REQUIRED) {
      this.writer.writeHead(conn, buildUpgradeRequired(this.date()));
      this.answered(conn, request, 426, 0);
      this.lifecycle.endAfterFlush(conn);
      return false;
    }
    const close = !request.keepAlive || this.draining;
    let status: number;
    let head: string;
    let bytes: Uint8Array;
    try {
      status = response.status ?? 200;
      const body = response.body;
      bytes = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body, 'utf8') : bytesOf(body);
      if (bytes.length > this.settings.maxBufferedBytes)
        throw new RangeError(`a response body of ${bytes.length} bytes is over maxBufferedBytes`);
      head = buildResponseHead({
        status,
        headers: response.headers,
        contentLength: bytes.length,
        contentType:
          body === undefined
            ? undefined
            : typeof body === 'string'
              ? 'text/plain; charset=utf-8'
              : 'application/octet-stream',
        connection: close ? 'close' : request.httpVersion === '1.0' ? 'keep-alive' : undefined,
        date: this.date(),
      });
    } catch (error) {
      this.handlerFailed(error, conn); // the handler's answer cannot be sent as it is
      return this.respond(conn, request, INTERNAL_ERROR);
    }
    const withBody = request.method !== 'HEAD' && !hasNoBody(status) && bytes.length > 0;
    // Answers count against maxBufferedBytes as frames do. One cannot be dropped (those after it would
    // answer the wrong requests), so a peer that leaves that much unread loses the connection.
    const queued = conn.bufferedAmount;
    if (queued > 0 && queued + head.length + (withBody ? bytes.length : 0) > this.settings.maxBufferedBytes) {
      this.flow.answersUnread(conn);
      return false;
    }
    this.writer.writeHead(conn, head, withBody ? bytes : undefined);
    this.answered(conn, request, status, withBody ? bytes.length : 0);
    if (close) {
      this.lifecycle.endAfterFlush(conn);
      return false;
    }
    if ((conn.flags & State.Closed) !== 0) return false; // the write failed
    this.timeouts.handshaking(conn); // the next request has handshakeTimeoutMs from now
    dropExtrasIfEmpty(conn);
    return true;
  }

  /** A request that cannot be served as sent (400, 411, 413, 417): answered, and the connection closed. */
  private refuse(
    conn: ConnectionRecord,
    method: string,
    url: string,
    status: number,
    message: string,
    headers: ExtraHeaders | undefined,
  ): void {
    this.writer.writeHead(conn, buildErrorResponse(status, message, headers));
    this.answered(conn, { method, url }, status, 0);
    this.lifecycle.endAfterFlush(conn);
  }

  /** Counted, logged at debug, told to diagnostics subscribers. */
  private answered(
    conn: ConnectionRecord,
    request: { readonly method: string; readonly url: string },
    status: number,
    bodyBytes: number,
  ): void {
    this.stats.httpRequests++;
    this.stats.responsesByStatus[status]!++; // a status, 100–599: in range (stats.ts)
    const observed = channels.request.hasSubscribers;
    if (!this.reporter.debug && !observed) return;
    const remoteAddress = conn.remoteAddress;
    if (this.reporter.debug)
      this.reporter.log(
        'debug',
        `http ${request.method} ${request.url} from ${remoteAddress}: ${status} (${bodyBytes} B)`,
      );
    if (observed) channels.request.publish({ method: request.method, url: request.url, status, remoteAddress });
  }

  /** The Date field (RFC 7231 §7.1.1.2), formatted once a second. */
  private date(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  }
}

/** The body, copied out of the read slab or a pooled buffer: the handler may keep it. */
function copyOf(buf: Buffer, start: number, end: number): Buffer {
  return start === end ? EMPTY : Buffer.from(buf.subarray(start, end));
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
