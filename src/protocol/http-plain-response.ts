import { bodyBytes, headerLines, reasonPhrase, type ExtraHeaders } from './http-response.js';

/**
 * The response heads for plain HTTP requests on the WebSocket port (RFC
 * 7230 §3.1.2, RFC 7231 §6), as latin1 strings the writer copies straight
 * into the buffer it writes, the body after them. The framing fields are
 * the server's: Content-Length (never chunked: every body is known whole
 * before it is written), Connection, Date; extra headers come from the
 * application and are checked so that none can split the response.
 */

/** Fields the server writes itself: an application header must not repeat or contradict them. */
const OWNED: ReadonlySet<string> = new Set(['connection', 'content-length', 'transfer-encoding', 'date']);

/** The interim answer to `Expect: 100-continue` (RFC 7231 §5.1.1): send the body. */
export const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export interface ResponseHeadOptions {
  readonly status: number;
  readonly headers?: ExtraHeaders | undefined;
  /** Bytes in the body (Content-Length), also for a HEAD request, whose body is not sent. */
  readonly contentLength: number;
  /** Content-Type unless `headers` has one; undefined: none. */
  readonly contentType?: string | undefined;
  /** The Connection field: 'close' ends the connection after this response; undefined (HTTP/1.1 persistence) writes none. */
  readonly connection?: string | undefined;
  /** An IMF-fixdate (RFC 7231 §7.1.1.2), the caller's clock, cached per second. */
  readonly date: string;
}

/**
 * The status line and header fields of a response, ending in the empty line.
 * Throws (RangeError, TypeError) on a status outside 200–599 or a bad extra
 * header: those come from the application. 204 and 304 carry no
 * Content-Length and no body (RFC 7230 §3.3.2, §3.3.3).
 */
export function buildResponseHead(options: ResponseHeadOptions): string {
  const { status } = options;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw new RangeError(`a response status must be an integer from 200 to 599, not ${String(status)}`);
  const seen = new Set<string>();
  const extra = headerLines(options.headers, OWNED, seen);
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nDate: ${options.date}\r\n`;
  if (options.connection !== undefined) head += `Connection: ${options.connection}\r\n`;
  if (!hasNoBody(status)) {
    if (options.contentType !== undefined && !seen.has('content-type'))
      head += `Content-Type: ${options.contentType}\r\n`;
    head += `Content-Length: ${options.contentLength}\r\n`;
  }
  return `${head}${extra}\r\n`;
}

/** Statuses whose responses never have a body (RFC 7230 §3.3.3 item 1). */
export function hasNoBody(status: number): boolean {
  return status === 204 || status === 304;
}

/**
 * The whole answer to a plain request where no handler serves one: 426 with
 * `Upgrade: websocket` and the Connection option it needs (RFC 7231
 * §6.5.15, RFC 7230 §6.7), the WebSocket version (RFC 6455 §4.4), and the
 * connection closed after it: there is nothing else to ask this server for.
 */
export function buildUpgradeRequired(date: string): string {
  const body = bodyBytes(
    'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket, RFC 6455)',
  );
  return (
    `HTTP/1.1 426 ${reasonPhrase(426)}\r\nDate: ${date}\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  );
}
