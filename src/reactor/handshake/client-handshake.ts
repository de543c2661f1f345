import type { BufferPool } from '../../pool/buffer-pool.js';
import { generateKey } from '../../protocol/accept-key.js';
import { buildClientRequest, ClientHandshakeError, validateServerResponse } from '../../protocol/client-upgrade.js';
import { findHeadEnd } from '../../protocol/http-head-end.js';
import type { ClientRequest, ClientResponse } from '../../api/client-request.js';
import type { Extension } from '../extensions/extension.js';
import { extrasOf } from '../connection/connection-extras.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { appendHead, releaseHead, takeHead } from '../http/head-buffer.js';
import type { Inbound } from '../read/inbound.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Writer } from '../write/writer.js';

/** The response head may not be larger than this: a WebSocket 101 is a few hundred bytes. */
const MAX_RESPONSE_HEAD = 16 * 1024;
const NO_PROTOCOLS: readonly string[] = [];

/**
 * The client side of the opening handshake on the reactor: send the
 * request, gather the response head (usually one read), check the 101 and
 * Sec-WebSocket-Accept, then open. Bytes after the head are frames.
 */
export class ClientHandshake {
  constructor(
    private readonly pool: BufferPool,
    private readonly writer: Writer,
    private readonly lifecycle: Lifecycle,
    private readonly inbound: Inbound<ClientResponse>,
    /** The extension to offer and accept (RFC 6455 §9.1); null when none is enabled. */
    private readonly extension: Extension | null,
  ) {}

  start(conn: ConnectionRecord, request: ClientRequest): void {
    const extras = extrasOf(conn);
    extras.clientKey = generateKey();
    extras.clientProtocols = request.protocols ?? NO_PROTOCOLS;
    extras.clientExtensions = this.extension?.offer() ?? '';
    const head = buildClientRequest({
      host: request.host,
      path: request.path,
      key: extras.clientKey,
      protocols: request.protocols ? [...request.protocols] : undefined,
      origin: request.origin,
      extensions: extras.clientExtensions,
      headers: request.headers,
    });
    this.writer.writeHead(conn, head);
  }

  onData(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    const extras = extrasOf(conn);
    let head = buf;
    let from = start;
    let to = end;
    if (extras.head !== null || findHeadEnd(buf, start, end, start) < 0) {
      appendHead(this.pool, conn, buf, start, end);
      head = extras.head!;
      from = 0;
      to = extras.headLength;
    }
    const headEnd = findHeadEnd(head, from, to, from === 0 ? extras.headScan : from);
    if (headEnd < 0) {
      extras.headScan = extras.headLength;
      if (extras.headLength > MAX_RESPONSE_HEAD)
        this.lifecycle.finish(conn, new Error('handshake response head too large'));
      return;
    }
    const result = validateServerResponse(head, from, headEnd, {
      key: extras.clientKey,
      protocols: extras.clientProtocols,
      extensions: extras.clientExtensions,
    });
    extras.clientKey = '';
    extras.clientProtocols = NO_PROTOCOLS;
    extras.clientExtensions = '';
    // §9.1 (RFC 7692 §5, §7): an extension's answer we cannot accept fails the connection.
    const refused = !result.ok || this.extension === null ? undefined : this.extension.accept(conn, result.extensions);
    if (!result.ok || refused !== undefined) {
      releaseHead(this.pool, conn);
      this.lifecycle.finish(
        conn,
        result.ok ? new ClientHandshakeError('UnexpectedExtension', refused!, 101) : result.error,
      );
      return;
    }
    if (result.protocol !== undefined) extras.protocol = result.protocol;
    const response: ClientResponse = Object.defineProperty(
      { protocol: result.protocol ?? '', headers: result.headers } as ClientResponse,
      'remoteAddress',
      {
        get: () => conn.remoteAddress, // lazy: a syscall most callers never need
        enumerable: true,
      },
    );
    const held = head === buf ? null : takeHead(conn);
    this.inbound.opened(conn, response);
    try {
      if (headEnd < to) this.inbound.read(conn, head, headEnd, to);
    } finally {
      if (held !== null) this.pool.release(held.buf);
    }
  }
}
