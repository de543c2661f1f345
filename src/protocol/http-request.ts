import { failure, type HandshakeFailure } from './handshake-failure.js';
import type { ParsedRequestHead } from './http-head.js';
import { listContainsToken } from './http-token.js';
import { hasSpaceOrComma, isOriginOrAbsoluteForm } from './upgrade-request.js';

/**
 * A plain HTTP/1.1 request on the WebSocket port (RFC 7230, RFC 7231): one
 * that is no upgrade attempt (upgrade-request.ts `isUpgradeAttempt`), checked
 * for what the server supports before its handler sees it.
 *
 * Supported: any method, a body only with Content-Length (up to a bound),
 * `Expect: 100-continue`, persistent connections (RFC 7230 §6.3), HTTP/1.0
 * with `Connection: keep-alive`. Not supported, with the status that says so:
 * chunked request bodies (411: send Content-Length), a body over the bound
 * (413, known from Content-Length before any of it is read), other
 * expectations (417), the authority-form of CONNECT (400).
 *
 * Pure: runs over a head `parseRequestHead` already parsed; never throws.
 * A {@link HandshakeFailure} here is a refused request, not a handshake.
 */
export interface PlainRequestHead {
  readonly ok: true;
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly url: string;
  readonly httpVersion: string;
  /** Lower-case names; repeated fields joined with `', '`. */
  readonly headers: ReadonlyMap<string, string>;
  /** Content-Length; 0 when absent. */
  readonly bodyLength: number;
  /** May the connection carry another request once this one is answered (RFC 7230 §6.3)? */
  readonly keepAlive: boolean;
  /** The client waits for `100 Continue` before it sends the body (RFC 7231 §5.1.1). */
  readonly expectContinue: boolean;
}

/** Content-Length = 1*DIGIT (RFC 7230 §3.3.2): no sign, no spaces, no list. */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The checks, in order; the first failure is the answer. */
export function checkPlainRequest(head: ParsedRequestHead, maxBodySize: number): PlainRequestHead | HandshakeFailure {
  const { method, target, headers, versionMinor } = head;
  // asterisk-form is OPTIONS's alone (RFC 7230 §5.3.4); authority-form is for proxies (CONNECT).
  if (!(isOriginOrAbsoluteForm(target) || (target === '*' && method === 'OPTIONS'))) {
    return failure(400, 'invalid request target (RFC 7230 §5.3)');
  }
  const host = headers.get('host');
  // RFC 7230 §5.4: an HTTP/1.1 request without Host, or with an invalid one, is a 400.
  if (
    (versionMinor >= 1 && (host === undefined || host.length === 0)) ||
    (host !== undefined && hasSpaceOrComma(host))
  ) {
    return failure(400, 'missing or invalid Host header (RFC 7230 §5.4)');
  }
  const contentLength = headers.get('content-length');
  if (headers.has('transfer-encoding')) {
    // Both framings at once is how requests are smuggled (RFC 7230 §3.3.3 item 3).
    if (contentLength !== undefined)
      return failure(400, 'Transfer-Encoding and Content-Length together (RFC 7230 §3.3.3)');
    return failure(411, 'chunked request bodies are not supported: send Content-Length (RFC 7231 §6.5.10)');
  }
  let bodyLength = 0;
  if (contentLength !== undefined) {
    if (!isDigits(contentLength)) return failure(400, 'invalid Content-Length (RFC 7230 §3.3.2)');
    bodyLength = Number(contentLength);
    if (bodyLength > maxBodySize) return failure(413, `request body over ${maxBodySize} bytes`);
  }
  let expectContinue = false;
  const expect = headers.get('expect');
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue')
      return failure(417, 'only Expect: 100-continue is supported (RFC 7231 §5.1.1)');
    expectContinue = bodyLength > 0;
  }
  const connection = headers.get('connection');
  // HTTP/1.1 persists unless told to close; HTTP/1.0 only when asked to (RFC 7230 §6.3, §A.1.2).
  const keepAlive =
    versionMinor >= 1
      ? connection === undefined || !listContainsToken(connection, 'close')
      : connection !== undefined && listContainsToken(connection, 'keep-alive');
  return {
    ok: true,
    method,
    url: target,
    httpVersion: head.httpVersion,
    headers,
    bodyLength,
    keepAlive,
    expectContinue,
  };
}

/**
 * The path of a request target (RFC 7230 §5.3): absolute-form loses its
 * scheme and authority, and the query (and a fragment, which no client
 * should send) goes. What routes and the built-in paths match against.
 */
export function requestPath(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f) {
    const authority = target.indexOf('://');
    const slash = authority < 0 ? -1 : target.indexOf('/', authority + 3);
    if (slash < 0) return '/';
    start = slash;
  }
  let end = target.length;
  for (let i = start; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f || c === 0x23) end = i;
  }
  return start === 0 && end === target.length ? target : target.slice(start, end);
}
