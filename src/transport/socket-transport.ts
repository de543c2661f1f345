import { createRequire } from 'node:module';
import net from 'node:net';
import type tlsModule from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientRequest } from '../api/client-request.js';
import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import type { Link } from '../reactor/connection/link.js';
import type { ClientReactor } from '../reactor/client-reactor.js';
import type { Reactor } from '../reactor/reactor.js';
import type { ServerReactor } from '../reactor/server-reactor.js';
import { checkParsedUpgradeRequest } from '../protocol/upgrade-request.js';
import { ServerRequest } from '../reactor/handshake/server-request.js';
import { tryWritev } from './fd-write.js';
import { checkPort, type ListenAddress } from './listen-address.js';

/**
 * node:tls, loaded on first use: it pulls in the TLS and crypto stack, ~1.1 MB
 * per process, which a plain server or a cluster worker on the handle
 * transport (53 of them at a million connections) never needs.
 */
let tlsLoaded: typeof tlsModule | undefined;
const tls = (): typeof tlsModule => (tlsLoaded ??= createRequire(import.meta.url)('node:tls') as typeof tlsModule);

const kConn = Symbol('lightws.connection');
type OwnedSocket = Duplex & Partial<net.Socket> & { [kConn]?: ConnectionRecord | undefined };
/** A net.Socket's libuv handle, which a handover stops and passes (`_handle`: not public, present since Node 0.x). */
type RawSocket = net.Socket & {
  encrypted?: unknown;
  _handle: { reading: boolean; readStop(): number; readStart(): number } | null;
};
const EMPTY = Buffer.alloc(0);
const EPIPE = -32;

/** handleUpgrade's "it is open" callback (ws's), given the request as the caller passed it. */
export type UpgradeOpened = (conn: ConnectionRecord, request: IncomingMessage) => void;

/**
 * The portable transport: the public net/tls API. It carries TLS, lives
 * inside an existing http(s) server through `handleUpgrade`, and is the
 * fallback where raw handles are unavailable. Listeners are shared functions
 * whose `this` is the socket; the socket's one extra property leads to its
 * connection.
 */
export class SocketTransport<R extends Reactor = Reactor> implements Link<ConnectionRecord> {
  readonly name = 'socket';
  private readonly Conn: new (handle: unknown) => ConnectionRecord;
  private servers: net.Server[] = [];
  private readonly onData: (this: OwnedSocket, chunk: Buffer) => void;
  private readonly onEnd: (this: OwnedSocket) => void;
  private readonly onError: (this: OwnedSocket, error: Error) => void;

  constructor(private readonly reactor: R) {
    this.Conn = reactor.connectionClass(this);
    this.onData = function onData(this: OwnedSocket, chunk: Buffer): void {
      const conn = this[kConn];
      if (conn === undefined) return;
      try {
        reactor.onData(conn, chunk, 0, chunk.length);
      } catch (error) {
        reactor.reporter.report(error, conn);
        reactor.terminate(conn);
      }
    };
    this.onEnd = function onEnd(this: OwnedSocket): void {
      const conn = this[kConn];
      if (conn !== undefined) reactor.onEnd(conn);
    };
    this.onError = function onError(this: OwnedSocket, error: Error): void {
      const conn = this[kConn];
      reactor.reporter.log('debug', `socket error: ${error.message}`);
      if (conn !== undefined) reactor.onEnd(conn, -1);
    };
  }

  /** Listens with net, or tls when `tlsOptions` is given. */
  async listen(port: number, host?: string, tlsOptions?: tlsModule.TlsOptions, backlog = 511): Promise<ListenAddress> {
    checkPort(port);
    checkNetPermission('listen');
    const onSocket = (socket: net.Socket): void => this.adoptSocket(socket);
    const server = tlsOptions
      ? tls().createServer({ ...tlsOptions, allowHalfOpen: true }, onSocket)
      : net.createServer({ allowHalfOpen: true, noDelay: this.reactor.options.noDelay }, onSocket);
    if (tlsOptions) {
      server.on('tlsClientError', (error: Error) =>
        this.reactor.reporter.log('info', `TLS handshake failed: ${error.message}`),
      );
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog }, () => {
        server.off('error', reject);
        server.on('error', (error) => this.reactor.reporter.report(error, undefined));
        this.servers.push(server);
        const address = server.address() as net.AddressInfo;
        resolve({ address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' });
      });
    });
  }

  stopListening(): void {
    for (const server of this.servers.splice(0)) server.close();
  }

  /**
   * Takes over a socket whose upgrade request an http(s) server already
   * parsed. The request is checked as node:http parsed it, by the same rules
   * as a request read from a socket (rebuilding its bytes to parse them again
   * would cost more and lose the object), and reaches the upgrade hook and
   * the open handler as `request.httpRequest`. `data` is the connection's
   * first `conn.data`; `opened` is called once it is open.
   */
  handleUpgrade(
    this: SocketTransport<ServerReactor>,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    data: unknown,
    opened: UpgradeOpened | undefined,
  ): void {
    const conn = this.adopt(socket as OwnedSocket);
    if (conn === undefined) return;
    if (data !== undefined) conn.data = data;
    const checked = checkParsedUpgradeRequest(request, this.reactor.options, ServerRequest);
    if (!checked.ok) {
      const origin = request.headers.origin;
      this.reactor.refuseUpgrade(conn, checked.status, checked.message, checked.headers, {
        url: request.url ?? '',
        origin: typeof origin === 'string' ? origin : undefined,
      });
      return;
    }
    const callback = opened === undefined ? undefined : (open: ConnectionRecord) => opened(open, request);
    checked.httpRequest = request;
    this.reactor.upgradeParsed(conn, checked, head, callback);
  }

  write(conn: ConnectionRecord, buf: Buffer, length: number): number {
    const socket = conn.handle as net.Socket;
    if (socket.destroyed || !socket.writable) return EPIPE;
    socket.write(length === buf.length ? buf : buf.subarray(0, length));
    const pending = socket.writableLength;
    if (pending === 0) return 0;
    // The kernel did not take it all. An empty write queues behind it and calls
    // back once everything before it is out: only slow writers pay this closure.
    socket.write(EMPTY, (error) => this.reactor.writer.complete(conn, error ? EPIPE : 0));
    return pending;
  }

  /**
   * A plain TCP socket with nothing buffered, in the stream or in libuv,
   * is written on its descriptor (fd-write.ts). Not TLS (the bytes must be
   * encrypted), not a Duplex that is not a net.Socket: those copy.
   */
  tryWrite(conn: ConnectionRecord, header: Buffer, payload: Uint8Array): number {
    const socket = conn.handle as net.Socket & {
      encrypted?: unknown;
      _handle?: { fd?: unknown; writeQueueSize?: unknown } | null;
    };
    // A TLSSocket says so by `encrypted` (always true on one): no need to load node:tls to ask instanceof.
    if (
      socket.encrypted === true ||
      !(socket instanceof net.Socket) ||
      socket.writableLength !== 0 ||
      socket.destroyed ||
      !socket.writable
    )
      return 0;
    const handle = socket._handle;
    const fd = handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || handle!.writeQueueSize !== 0) return 0;
    return tryWritev(fd, header, payload);
  }

  pause(conn: ConnectionRecord): void {
    (conn.handle as net.Socket).pause();
  }

  resume(conn: ConnectionRecord): void {
    (conn.handle as net.Socket).resume();
  }

  shutdown(conn: ConnectionRecord): void {
    (conn.handle as net.Socket).end();
  }

  destroy(conn: ConnectionRecord): void {
    (conn.handle as net.Socket).destroy();
  }

  remoteAddress(conn: ConnectionRecord): string {
    const socket = conn.handle as net.Socket;
    const address = socket.remoteAddress;
    if (address === undefined) return 'unknown';
    return socket.remoteFamily === 'IPv6' ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
  }

  /**
   * Client role: connects with net (or tls for wss), then starts the
   * WebSocket handshake. `failed` is called if TCP or TLS fails.
   */
  connect(
    this: SocketTransport<ClientReactor>,
    host: string,
    port: number,
    localAddress: string | undefined,
    localPort: number | undefined,
    tlsOptions: tlsModule.ConnectionOptions | undefined,
    request: ClientRequest,
    failed: (error: Error) => void,
    track: (conn: ConnectionRecord) => void,
  ): void {
    try {
      checkNetPermission('connect');
    } catch (error) {
      failed(error as Error);
      return;
    }
    const socket = tlsOptions
      ? tls().connect({
          ...(net.isIP(host) ? {} : { servername: host }),
          ...tlsOptions,
          host,
          port,
          ...(localAddress ? { localAddress } : {}),
          ...(localPort ? { localPort } : {}),
        })
      : net.connect({ host, port, ...(localAddress ? { localAddress } : {}), ...(localPort ? { localPort } : {}) });
    const onConnectError = (error: Error): void => failed(error);
    socket.once('error', onConnectError);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      socket.off('error', onConnectError);
      const conn = this.attach(socket);
      track(conn);
      this.reactor.connected(conn, request);
    });
  }

  private adoptSocket(socket: net.Socket): void {
    const conn = this.adopt(socket);
    if (conn !== undefined && this.reactor.options.keepAliveMs > 0)
      socket.setKeepAlive(true, this.reactor.options.keepAliveMs);
  }

  private adopt(socket: OwnedSocket): ConnectionRecord | undefined {
    if (socket.destroyed) return undefined;
    if (!this.reactor.admit()) {
      socket.on('error', this.onError); // the peer may reset before our 503 is out
      socket.end(this.reactor.refusal, 'latin1');
      return undefined;
    }
    const conn = this.attach(socket);
    this.reactor.accept(conn);
    return conn;
  }

  // ——— handover (docs/guides/deploy-and-reload.md): the socket's raw handle moves, the bytes not read yet wait in the kernel ———

  /**
   * Stops the socket's handle reading. True when nothing it read waits in the
   * stream's buffer (a paused socket's may: that connection waits until
   * resumed, as the reactor must see those bytes before its state moves).
   */
  quiesce(conn: ConnectionRecord): boolean {
    const socket = conn.handle as RawSocket;
    const handle = socket._handle;
    if (handle == null || socket.encrypted === true) return false;
    handle.reading = false;
    handle.readStop();
    return socket.readableLength === 0;
  }

  /** Lets go of `conn`'s raw handle, still open and not reading, to be sent to another process. */
  detach(conn: ConnectionRecord): unknown {
    const socket = conn.handle as RawSocket & OwnedSocket;
    socket.off('data', this.onData).off('end', this.onEnd).off('close', this.onEnd).off('error', this.onError);
    socket.on('error', () => {}); // until disposed: a reset now is the other process's to see
    socket[kConn] = undefined;
    return socket._handle;
  }

  /**
   * A raw handle received from another process, made a socket, attached but
   * not reading; or `conn`'s own socket back after a failed move.
   */
  adoptHandle(handle: unknown, conn?: ConnectionRecord): ConnectionRecord {
    if (conn !== undefined) {
      const socket = conn.handle as RawSocket & OwnedSocket;
      socket.removeAllListeners('error');
      return this.attach(socket, conn);
    }
    const socket = new net.Socket({
      handle: handle as never,
      readable: true,
      writable: true,
      allowHalfOpen: true,
      pauseOnCreate: true,
    } as net.SocketConstructorOpts);
    return this.attach(socket);
  }

  /** Starts (again) reading a connection adopted or kept. */
  startReading(conn: ConnectionRecord): void {
    const socket = conn.handle as RawSocket;
    if (socket.readableFlowing !== true) {
      socket.resume();
    } else if (socket._handle !== null && !socket._handle.reading) {
      // Flowing all along (quiesce stopped the handle under the stream): the stream will not restart it itself.
      socket._handle.reading = true;
      socket._handle.readStart();
    }
  }

  /** Closes this process's copy of a socket another process now holds. */
  dispose(conn: ConnectionRecord): void {
    (conn.handle as net.Socket).destroy();
  }

  /** The listening handles, to pass to the process taking over. */
  listeners(): unknown[] {
    return this.servers.map((server) => (server as unknown as { _handle: unknown })._handle);
  }

  /** Listens on a server handle passed from another process (a handover: the same socket, shared). */
  serve(handle: unknown, tlsOptions?: tlsModule.TlsOptions): Promise<ListenAddress> {
    const onSocket = (socket: net.Socket): void => this.adoptSocket(socket);
    const server = tlsOptions
      ? tls().createServer({ ...tlsOptions, allowHalfOpen: true }, onSocket)
      : net.createServer({ allowHalfOpen: true, noDelay: this.reactor.options.noDelay }, onSocket);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(handle as net.ListenOptions, () => {
        server.off('error', reject);
        server.on('error', (error) => this.reactor.reporter.report(error, undefined));
        this.servers.push(server);
        const address = server.address() as net.AddressInfo;
        resolve({ address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' });
      });
    });
  }

  /** Makes a connected socket a connection (a new one unless given): shared listeners, the owner property. */
  private attach(socket: OwnedSocket, conn: ConnectionRecord = new this.Conn(socket)): ConnectionRecord {
    socket[kConn] = conn;
    if (this.reactor.options.noDelay) socket.setNoDelay?.(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    return conn;
  }
}

/**
 * Node's permission model (`--permission`) without `--allow-net` makes
 * node:net throw ERR_ACCESS_DENIED from inside its own listen/connect, on a
 * later tick where no caller can catch it (seen on Node 26): the process
 * would die. Ask first, and fail with what is refused and which flag allows it.
 */
function checkNetPermission(what: 'listen' | 'connect'): void {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  // Before --allow-net existed (Node < 25) the permission model did not cover the network,
  // and has('net') answers false there all the same.
  if (permission === undefined || !process.allowedNodeEnvironmentFlags.has('--allow-net')) return;
  let allowed: boolean;
  try {
    allowed = permission.has('net');
  } catch {
    allowed = true; // no 'net' scope to ask about: nothing restricts it
  }
  if (allowed) return;
  throw Object.assign(
    new Error(`${what} refused by Node's permission model: network access is not granted (run with --allow-net)`),
    {
      code: 'ERR_ACCESS_DENIED',
    },
  );
}
