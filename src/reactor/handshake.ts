import { findHeadEnd } from '../protocol/http-head-end.js';
import { buildErrorResponse, buildSwitchingProtocols, type ExtraHeaders } from '../protocol/http-response.js';
import { checkOrigin } from '../protocol/origin.js';
import { selectSubprotocol } from '../protocol/subprotocol.js';
import { parseUpgradeRequest, type UpgradeRequest } from '../protocol/upgrade-request.js';
import { State } from './connection-state.js';
import type { Connection } from './connection.js';
import type { HandshakeRequest, UpgradeDecision } from './handlers.js';
import type { Reactor } from './reactor.js';
import { appendHead, releaseHead } from './head-buffer.js';
import { sideOf } from './writer.js';

/**
 * The server side of the opening handshake (RFC 6455 §4.2) on the reactor.
 *
 * A request that arrives whole is parsed where it lies in the read slab.
 * Only one that arrives in pieces is gathered, into a pooled buffer bounded
 * by maxHeaderSize, which goes back as soon as the head is complete. Bytes
 * after the head (a client that sends its first frames without waiting for
 * the 101) go straight to the receiver once the connection is open.
 */
export class ServerHandshake {
  constructor(private readonly reactor: Reactor) {}

  onData(conn: Connection, buf: Buffer, start: number, end: number): void {
    const side = sideOf(conn);
    const max = this.reactor.options.maxHeaderSize;
    if ((conn.flags & State.Upgrading) !== 0) {
      this.keep(conn, buf, start, end); // read before the pause took effect: hold for the receiver
      return;
    }
    if (side.head === null) {
      const headEnd = findHeadEnd(buf, start, end, start);
      if (headEnd >= 0) {
        if (headEnd - start > max) return this.refuse(conn, 431, 'request header fields too large');
        this.process(conn, buf, start, headEnd, end);
        return;
      }
      if (end - start >= max) return this.refuse(conn, 431, 'request header fields too large');
      this.keep(conn, buf, start, end);
      side.headScan = side.headLength;
      return;
    }
    // Continue a head that arrived in pieces: copy no more than the bound allows.
    const take = Math.min(end - start, max - side.headLength);
    this.keep(conn, buf, start, start + take);
    const head = side.head;
    const headEnd = findHeadEnd(head, 0, side.headLength, side.headScan);
    if (headEnd < 0) {
      if (side.headLength >= max) return this.refuse(conn, 431, 'request header fields too large');
      side.headScan = side.headLength;
      return;
    }
    // The head is complete. Whatever followed it is the start of the frame
    // stream: gather it behind the head so it is one range, in order.
    if (start + take < end) this.keep(conn, buf, start + take, end);
    const whole = side.head;
    const length = side.headLength;
    side.head = null;
    side.headLength = 0;
    try {
      this.process(conn, whole, 0, headEnd, length);
    } finally {
      this.reactor.pool.release(whole);
    }
  }

  /** Answers an upgrade request that was not valid or not welcome, then closes. */
  refuse(conn: Connection, status: number, message: string, headers?: ExtraHeaders): void {
    this.reactor.stats.handshakesRefused++;
    releaseHead(this.reactor.pool, conn);
    let response: string;
    try {
      response = buildErrorResponse(status, message, headers);
    } catch (error) {
      this.reactor.report(error, conn); // bad headers from the upgrade hook
      response = buildErrorResponse(500, 'internal error');
    }
    this.reactor.writeHead(conn, response);
    this.reactor.endAfterFlush(conn);
  }

  /** Parses the head `buf[start..headEnd)` and decides; `buf[headEnd..end)` is what followed it. */
  private process(conn: Connection, buf: Buffer, start: number, headEnd: number, end: number): void {
    const result = parseUpgradeRequest(buf, start, headEnd, { maxHeaderSize: this.reactor.options.maxHeaderSize });
    if (!result.ok) return this.refuse(conn, result.status, result.message, result.headers);
    const request = result as UpgradeRequest & { remoteAddress: string };
    // Lazy: a getpeername syscall per upgrade is measurable, and most handlers never ask.
    Object.defineProperty(request, 'remoteAddress', { get: () => conn.remoteAddress, enumerable: true });
    const options = this.reactor.options;
    let allowed = false;
    try {
      allowed = checkOrigin(request.origin, request.host, options.checkOrigin, request);
    } catch (error) {
      this.reactor.report(error, conn);
    }
    if (!allowed) return this.refuse(conn, 403, 'origin not allowed');
    const protocol = selectSubprotocol(options.protocols, request.protocols);
    const hook = this.reactor.handlers.upgrade;
    let decision: UpgradeDecision<unknown> | Promise<UpgradeDecision<unknown>> = undefined;
    if (hook !== undefined) {
      try {
        decision = hook(request);
      } catch (error) {
        this.reactor.report(error, conn);
        return this.refuse(conn, 500, 'internal error');
      }
    }
    if (isPromise(decision)) {
      // Hold what followed the head, stop reading, and decide when the hook does.
      this.keep(conn, buf, headEnd, end);
      conn.flags |= State.Upgrading;
      this.reactor.pause(conn);
      decision.then(
        (settled) => this.decide(conn, request, settled, protocol),
        (error: unknown) => {
          this.reactor.report(error, conn);
          if ((conn.flags & State.Closed) === 0) this.refuse(conn, 500, 'internal error');
        },
      );
      return;
    }
    if (!this.accept(conn, request, decision, protocol)) return;
    if (headEnd < end) this.reactor.feed(conn, buf, headEnd, end);
  }

  /** The async upgrade hook settled: accept or refuse, then replay what was read meanwhile. */
  private decide(conn: Connection, request: HandshakeRequest, decision: UpgradeDecision<unknown>, protocol: string | undefined): void {
    if ((conn.flags & State.Closed) !== 0) return; // timed out or gone while the hook ran
    conn.flags &= ~State.Upgrading;
    if (!this.accept(conn, request, decision, protocol)) return;
    const side = conn.side!;
    const held = side.head;
    const length = side.headLength;
    side.head = null;
    side.headLength = 0;
    this.reactor.resume(conn);
    if (held === null) return;
    try {
      this.reactor.feed(conn, held, 0, length);
    } finally {
      this.reactor.pool.release(held);
    }
  }

  /** Sends the 101 and opens the connection; false when the decision was a refusal. */
  private accept(conn: Connection, request: HandshakeRequest, decision: UpgradeDecision<unknown>, fallback: string | undefined): boolean {
    if (decision != null && decision.reject !== undefined) {
      this.refuse(conn, decision.reject, decision.message ?? 'upgrade refused', decision.headers);
      return false;
    }
    const protocol = decision?.protocol ?? fallback;
    if (protocol !== undefined && !request.protocols.includes(protocol)) {
      this.reactor.report(new Error(`upgrade hook chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`), conn);
      this.refuse(conn, 500, 'internal error');
      return false;
    }
    let response: string;
    try {
      response = buildSwitchingProtocols({ key: request.key, protocol, headers: decision?.headers });
    } catch (error) {
      this.reactor.report(error, conn);
      this.refuse(conn, 500, 'internal error');
      return false;
    }
    if (protocol !== undefined) sideOf(conn).protocol = protocol;
    if (decision?.data !== undefined) conn.data = decision.data;
    this.reactor.writeHead(conn, response);
    this.reactor.opened(conn, request);
    return true;
  }

  private keep(conn: Connection, buf: Buffer, start: number, end: number): void {
    appendHead(this.reactor.pool, conn, buf, start, end);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
