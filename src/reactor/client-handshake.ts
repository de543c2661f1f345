import { generateKey } from '../protocol/accept-key.js';
import { buildClientRequest, validateServerResponse } from '../protocol/client-handshake.js';
import { findHeadEnd } from '../protocol/http-head-end.js';
import type { Connection } from './connection.js';
import { appendHead, releaseHead } from './head-buffer.js';
import type { Reactor } from './reactor.js';
import { sideOf } from './writer.js';

/** What a client asks for in its opening handshake (RFC 6455 §4.1). */
export interface ClientRequest {
  /** Host header value: `host[:port]`. */
  readonly host: string;
  /** Request target: path and query. */
  readonly path: string;
  readonly protocols?: readonly string[];
  readonly origin?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The server's answer, as the client's `open` handler sees it. */
export interface ClientResponse {
  readonly protocol: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string;
}

/** The response head may not be larger than this: a WebSocket 101 is a few hundred bytes. */
const MAX_RESPONSE_HEAD = 16 * 1024;

/**
 * The client side of the opening handshake on the reactor: send the
 * request, gather the response head (usually one read), check the 101 and
 * Sec-WebSocket-Accept, then open. Bytes after the head are frames.
 */
export class ClientHandshake {
  constructor(private readonly reactor: Reactor) {}

  start(conn: Connection, request: ClientRequest): void {
    const side = sideOf(conn);
    side.clientKey = generateKey();
    side.clientProtocols = request.protocols ?? [];
    const head = buildClientRequest({
      host: request.host,
      path: request.path,
      key: side.clientKey,
      protocols: request.protocols ? [...request.protocols] : undefined,
      origin: request.origin,
      headers: request.headers,
    });
    this.reactor.writeHead(conn, head);
  }

  onData(conn: Connection, buf: Buffer, start: number, end: number): void {
    const side = sideOf(conn);
    const pool = this.reactor.pool;
    let head = buf;
    let from = start;
    let to = end;
    if (side.head !== null || findHeadEnd(buf, start, end, start) < 0) {
      appendHead(pool, conn, buf, start, end);
      head = side.head!;
      from = 0;
      to = side.headLength;
    }
    const headEnd = findHeadEnd(head, from, to, from === 0 ? side.headScan : from);
    if (headEnd < 0) {
      side.headScan = side.headLength;
      if (side.headLength > MAX_RESPONSE_HEAD) this.reactor.abandon(conn, new Error('handshake response head too large'));
      return;
    }
    const result = validateServerResponse(head, from, headEnd, { key: side.clientKey, protocols: side.clientProtocols });
    side.clientKey = '';
    side.clientProtocols = NO_PROTOCOLS;
    if (!result.ok) {
      releaseHead(pool, conn);
      this.reactor.abandon(conn, result.error);
      return;
    }
    if (result.protocol !== undefined) side.protocol = result.protocol;
    const response: ClientResponse = Object.defineProperty({ protocol: result.protocol ?? '', headers: result.headers } as ClientResponse, 'remoteAddress', {
      get: () => conn.remoteAddress, // lazy: a syscall most callers never need
      enumerable: true,
    });
    const held = head === buf ? null : side.head;
    side.head = null;
    side.headLength = 0;
    side.headScan = 0;
    this.reactor.opened(conn, response);
    try {
      if (headEnd < to) this.reactor.feed(conn, head, headEnd, to);
    } finally {
      if (held !== null) pool.release(held);
    }
  }
}

const NO_PROTOCOLS: readonly string[] = [];
