import type { ExtraHeaders } from '../protocol/http-response.js';

/**
 * A plain HTTP request that arrived on the WebSocket port (no upgrade), as
 * the `request` handler sees it. Everything here is a copy: keep what you like.
 */
export interface HttpRequest {
  /** `'GET'`, `'HEAD'`, `'POST'`, ... as sent. */
  readonly method: string;
  /** The request-target exactly as sent: `/path?query` (or absolute-form). */
  readonly url: string;
  /** `'1.1'` or `'1.0'`. */
  readonly httpVersion: string;
  /** Lower-case names; repeated fields joined with `', '` (RFC 7230 §3.2.2). */
  readonly headers: ReadonlyMap<string, string>;
  /** The body (Content-Length bytes, at most `maxRequestBodySize`); empty without one. */
  readonly body: Buffer;
  /** `ip:port` of the peer, looked up when first read. */
  readonly remoteAddress: string;
}

/** What a `request` handler answers. Every field is optional: `{}` is an empty 200. */
export interface HttpResponse {
  /** 200–599; default 200. */
  readonly status?: number | undefined;
  /** Extra header fields; Content-Length, Connection, Date and Transfer-Encoding are the server's. */
  readonly headers?: ExtraHeaders | undefined;
  /**
   * A string is sent as UTF-8 with `Content-Type: text/plain; charset=utf-8`,
   * bytes as `application/octet-stream`, unless `headers` names a Content-Type.
   * Not sent for HEAD (its Content-Length is), nor with 204 and 304.
   */
  readonly body?: string | Uint8Array | undefined;
}

/**
 * Answers a plain HTTP request on the WebSocket port. Return (or resolve
 * to) a response, or nothing for a 404. A throw or a rejection is a 500 and
 * goes to the `error` handler. While it runs, nothing more is read from that
 * connection; it must answer within `handshakeTimeoutMs`.
 */
export type RequestHandler = (request: HttpRequest) => HttpResponse | void | Promise<HttpResponse | void>;
