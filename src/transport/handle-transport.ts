import { isIPv6 } from 'node:net';
import type { ClientRequest } from '../api/client-request.js';
import { errnoName, uvError } from '../reactor/connection/errno.js';
import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import type { Link } from '../reactor/connection/link.js';
import type { ClientReactor } from '../reactor/client-reactor.js';
import type { Reactor } from '../reactor/reactor.js';
import { tryWritev } from './fd-write.js';
import type { ListenAddress } from './listen-address.js';
import type { RawBindings, RawShutdownReq, RawTcpHandle, RawWriteReq } from './raw-bindings.js';
import { bindServerHandle, boundAddress } from './server-handle.js';

/**
 * Do accepted sockets inherit TCP_NODELAY from the listening socket? On Linux
 * they do (the kernel clones the accepted socket from the listener, Nagle
 * flag included): set once on the listener, it saves a setsockopt per
 * connection. Elsewhere each accepted socket still sets it.
 */
const NODELAY_INHERITED = process.platform === 'linux';

/** libuv's end-of-file "error" for a read. */
const UV_EOF = -4095;
/**
 * The property that leads from a handle to its connection. Node creates every
 * accepted TCP handle with an `owner_symbol` slot (net.Socket puts itself
 * there), so using that slot costs nothing; a new property would grow every
 * handle's property array by 24 bytes. Found on the first handle; our own
 * symbol where a Node version has no such slot.
 */
let kConn: symbol = Symbol('lightws.connection');
let ownerSlotChecked = false;
type OwnedHandle = RawTcpHandle & Record<symbol, ConnectionRecord | undefined>;

function useOwnerSlot(handle: RawTcpHandle): void {
  ownerSlotChecked = true;
  const owner = Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'owner_symbol');
  if (owner !== undefined && (handle as OwnedHandle)[owner] == null) kConn = owner;
}

/** The property a raw handle's connection goes in, for the other transport on raw handles (compact TLS). */
export function connectionSlot(handle: RawTcpHandle): symbol {
  if (!ownerSlotChecked) useOwnerSlot(handle);
  return kConn;
}

/**
 * The dense transport: raw libuv TCP handles, no net.Socket, no stream.
 *
 * Every handle reads into the reactor's one slab (useUserBuffer) and calls
 * the same `onread`, whose `this` is the handle; the handle's single extra
 * property leads to its connection. Writes go through one shared WriteWrap:
 * a write the kernel finishes at once never completes asynchronously, so
 * the request can be used again; only a write that goes async keeps its
 * request, and a fresh one takes its place.
 */
export class HandleTransport<R extends Reactor = Reactor> implements Link<ConnectionRecord> {
  readonly name = 'handle';
  private readonly Conn: new (handle: unknown) => ConnectionRecord;
  private readonly server: RawTcpHandle[] = [];
  private req: RawWriteReq;
  private readonly onRead: (this: OwnedHandle) => void;
  private readonly onWriteDone: (this: RawWriteReq, status: number, handle: RawTcpHandle) => void;
  private readonly onShutdownDone = (): void => {};
  private lastAcceptWarning = 0;
  /** The last part-buffer view written (partOf). */
  private lastPart: Buffer = Buffer.alloc(0);
  acceptErrors = 0;

  constructor(
    private readonly reactor: R,
    private readonly raw: RawBindings,
  ) {
    this.Conn = reactor.connectionClass(this);
    const state = raw.streamBaseState;
    const kRead = raw.kReadBytesOrError;
    const slab = reactor.slab;
    // Must return undefined, whatever happens: anything else aborts the process.
    this.onRead = function onRead(this: OwnedHandle): void {
      const conn = this[kConn];
      if (conn === undefined) return;
      const nread = state[kRead]!;
      try {
        if (nread > 0) reactor.onData(conn, slab, 0, nread);
        else if (nread < 0) reactor.onEnd(conn, nread === UV_EOF ? 0 : nread);
      } catch (error) {
        reactor.reporter.report(error, conn);
        reactor.terminate(conn);
      }
    };
    this.onWriteDone = function onWriteDone(this: RawWriteReq, status: number, handle: RawTcpHandle): void {
      const conn = (handle as OwnedHandle)[kConn];
      if (conn === undefined) return;
      try {
        reactor.writer.complete(conn, status);
      } catch (error) {
        reactor.reporter.report(error, conn);
      }
    };
    this.req = this.newWriteReq();
  }

  /** Binds and listens. Resolves with the bound address (the real port when `port` is 0). */
  async listen(port: number, host?: string, backlog = 511): Promise<ListenAddress> {
    const handle = await bindServerHandle(this.raw, port, host);
    try {
      return this.serve(handle, backlog, `${host || '::'}:${port}`);
    } catch (error) {
      handle.close();
      throw error;
    }
  }

  /**
   * Serves a listening socket another process bound (cluster mode): the
   * primary passes the raw handle over IPC; each worker listens on its copy
   * of the same socket and the kernel spreads the connections.
   */
  serve(handle: RawTcpHandle, backlog = 511, where?: string): ListenAddress {
    const transport = this; // eslint-disable-line @typescript-eslint/no-this-alias -- onconnection's `this` is the handle
    const noDelaySet = this.reactor.options.noDelay && NODELAY_INHERITED && handle.setNoDelay(true) === 0;
    handle.onconnection = function onConnection(status: number, client: RawTcpHandle | undefined): void {
      try {
        transport.accepted(status, client, noDelaySet);
      } catch (error) {
        transport.reactor.reporter.report(error, undefined);
      }
    };
    const err = handle.listen(backlog);
    // Bound, but another socket listens there already (SO_REUSEADDR lets the bind pass): say where.
    if (err !== 0) throw uvError(err, 'listen', where ?? 'the shared socket');
    this.server.push(handle);
    return boundAddress(handle);
  }

  /** Stops accepting; open connections are left to the reactor. */
  stopListening(): void {
    for (const handle of this.server.splice(0)) handle.close();
  }

  write(conn: ConnectionRecord, buf: Buffer, length: number): number {
    const handle = conn.handle as RawTcpHandle;
    const req = this.req;
    req.handle = handle;
    return this.settle(handle, handle.writeBuffer(req, length === buf.length ? buf : this.partOf(buf, length)));
  }

  /** Node copies what the kernel does not take at once (StreamBase::WriteString): nothing of ours is held. */
  writeLatin1(conn: ConnectionRecord, head: string): number {
    const handle = conn.handle as RawTcpHandle;
    const req = this.req;
    req.handle = handle;
    // The same StreamBase write as writeBuffer underneath, with the same answers (settle takes them all).
    return this.settle(handle, handle.writeLatin1String(req, head));
  }

  /** What a write through the shared request left: 0 done, the bytes still queued, or an errno. */
  private settle(handle: RawTcpHandle, result: number | RawWriteReq): number {
    if (typeof result === 'object' && result !== null) {
      // Node 24.22+ may answer with a request object of its own making (nodejs/node#64455):
      // that object is the write in flight and completes through its oncomplete.
      result.oncomplete = this.onWriteDone;
      return Math.max(1, handle.writeQueueSize);
    }
    if (result !== 0) return result;
    if (this.raw.streamBaseState[this.raw.kLastWriteWasAsync] === 0) return 0;
    this.req = this.newWriteReq(); // that one now belongs to the write in flight
    return Math.max(1, handle.writeQueueSize);
  }

  /**
   * `buf[0..length)` for writeBuffer, which writes a whole view. The cork's
   * buffer is the same pooled one read after read, often with the same
   * length, so the last view is kept and used again when it matches: no
   * garbage per write then. A view that went out with an async write is never
   * matched again meanwhile: its buffer is in flight, not back in the pool.
   */
  private partOf(buf: Buffer, length: number): Buffer {
    const last = this.lastPart;
    if (last.length === length && last.buffer === buf.buffer && last.byteOffset === buf.byteOffset) return last;
    return (this.lastPart = buf.subarray(0, length));
  }

  tryWrite(conn: ConnectionRecord, header: Buffer, payload: Uint8Array): number {
    const handle = conn.handle as RawTcpHandle;
    // Behind a write libuv still holds (a 503, a Close racing), a direct one would overtake it.
    if (handle.writeQueueSize !== 0) return 0;
    const fd = handle.fd;
    return fd < 0 ? 0 : tryWritev(fd, header, payload);
  }

  pause(conn: ConnectionRecord): void {
    (conn.handle as RawTcpHandle).readStop();
  }

  resume(conn: ConnectionRecord): void {
    (conn.handle as RawTcpHandle).readStart();
  }

  shutdown(conn: ConnectionRecord): void {
    const handle = conn.handle as RawTcpHandle;
    const req: RawShutdownReq = new this.raw.ShutdownWrap();
    req.handle = handle;
    req.oncomplete = this.onShutdownDone;
    const err = handle.shutdown(req);
    if (err !== 0) this.reactor.onEnd(conn, err); // not connected any more: nothing to wait for
  }

  destroy(conn: ConnectionRecord): void {
    (conn.handle as RawTcpHandle).close();
  }

  remoteAddress(conn: ConnectionRecord): string {
    const out: Record<string, unknown> = {};
    if ((conn.handle as RawTcpHandle).getpeername(out) !== 0) return 'unknown';
    return out.family === 'IPv6'
      ? `[${String(out.address)}]:${String(out.port)}`
      : `${String(out.address)}:${String(out.port)}`;
  }

  /** `noDelaySet`: the listener's TCP_NODELAY, which `client` inherited. */
  private accepted(status: number, client: RawTcpHandle | undefined, noDelaySet: boolean): void {
    if (status !== 0 || client === undefined) {
      // EMFILE/ENFILE: libuv has already accepted-and-closed the waiting peer with its
      // reserve descriptor and keeps listening, so accepting resumes by itself when
      // descriptors free up. Count it; warn at most once a second.
      this.acceptErrors++;
      const now = Date.now();
      if (now - this.lastAcceptWarning >= 1000) {
        this.lastAcceptWarning = now;
        this.reactor.reporter.log(
          'warn',
          `accept failed: ${errnoName(status)} (${this.acceptErrors} so far); still listening`,
        );
      }
      return;
    }
    if (!this.reactor.admit()) {
      // Over the cap: answer 503 and close before reading, so a flood cannot reach EMFILE.
      const req = this.req;
      req.handle = client;
      client.writeLatin1String(req, this.reactor.refusal);
      if (this.raw.streamBaseState[this.raw.kLastWriteWasAsync] !== 0) this.req = this.newWriteReq();
      client.close();
      return;
    }
    const conn = this.attach(client, noDelaySet);
    if (conn !== undefined) this.reactor.accept(conn);
  }

  /**
   * Client role: opens a TCP connection to `address` (an IP) from
   * `localAddress` if given (spreading load generators over 127.0.0.0/8),
   * then starts the WebSocket handshake. `failed` is called if TCP fails.
   */
  connect(
    this: HandleTransport<ClientReactor>,
    address: string,
    port: number,
    localAddress: string | undefined,
    localPort: number | undefined,
    request: ClientRequest,
    failed: (error: Error) => void,
    track: (conn: ConnectionRecord) => void,
  ): void {
    const handle = new this.raw.TCP(this.raw.SOCKET);
    let err = 0;
    if (localAddress !== undefined) {
      err = isIPv6(localAddress)
        ? handle.bind6(localAddress, localPort ?? 0, 0)
        : handle.bind(localAddress, localPort ?? 0);
    }
    if (err === 0) {
      const req = new this.raw.TCPConnectWrap();
      req.oncomplete = (status: number): void => {
        try {
          const conn = status === 0 ? this.attach(handle) : undefined;
          if (conn === undefined) {
            handle.close();
            failed(uvError(status === 0 ? -107 : status, 'connect'));
            return;
          }
          track(conn);
          this.reactor.connected(conn, request);
        } catch (error) {
          this.reactor.reporter.report(error, undefined);
        }
      };
      err = isIPv6(address) ? handle.connect6(req, address, port) : handle.connect(req, address, port);
    }
    if (err !== 0) {
      handle.close();
      failed(uvError(err, 'connect'));
    }
  }

  /** Makes a connected handle a connection: options (TCP_NODELAY unless it came with the socket), owner slot, the shared slab, reading. */
  private attach(handle: RawTcpHandle, noDelaySet = false): ConnectionRecord | undefined {
    const options = this.reactor.options;
    if (options.noDelay && !noDelaySet) handle.setNoDelay(true);
    if (options.keepAliveMs > 0) handle.setKeepAlive(true, Math.max(1, Math.round(options.keepAliveMs / 1000)));
    const conn = this.bind(handle);
    if (handle.readStart() !== 0) {
      handle.close();
      return undefined;
    }
    return conn;
  }

  /** The handle leads to `conn` (a new one unless given) and reads into the slab; not reading yet. */
  private bind(handle: RawTcpHandle, conn: ConnectionRecord = new this.Conn(handle)): ConnectionRecord {
    conn.handle = handle;
    if (!ownerSlotChecked) useOwnerSlot(handle);
    (handle as OwnedHandle)[kConn] = conn;
    handle.onread = this.onRead as unknown as RawTcpHandle['onread'];
    handle.useUserBuffer(this.reactor.slab);
    return conn;
  }

  // ——— handover (docs/guides/deploy-and-reload.md): the descriptor moves, the bytes not read yet wait in the kernel ———

  /** Stops reading `conn` for good here; false if something read is still to be handled (never, for handles). */
  quiesce(conn: ConnectionRecord): boolean {
    (conn.handle as RawTcpHandle).readStop();
    return true;
  }

  /** Lets go of `conn`'s handle, still open and not reading, to be sent to another process. */
  detach(conn: ConnectionRecord): RawTcpHandle {
    const handle = conn.handle as OwnedHandle;
    handle.readStop();
    handle[kConn] = undefined;
    return handle;
  }

  /** A handle received from another process (or `conn`'s own, back after a failed move), attached but not reading. */
  adoptHandle(handle: unknown, conn?: ConnectionRecord): ConnectionRecord {
    return this.bind(handle as RawTcpHandle, conn);
  }

  /** Starts (again) reading a connection adopted or kept. */
  startReading(conn: ConnectionRecord): void {
    if ((conn.handle as RawTcpHandle).readStart() !== 0) this.reactor.onEnd(conn, -107);
  }

  /** Closes this process's copy of a handle another process now holds: the connection itself stays open there. */
  dispose(conn: ConnectionRecord): void {
    (conn.handle as RawTcpHandle).close();
  }

  /** The listening handles, to pass to the process taking over. */
  listeners(): RawTcpHandle[] {
    return [...this.server];
  }

  private newWriteReq(): RawWriteReq {
    const req = new this.raw.WriteWrap();
    req.oncomplete = this.onWriteDone;
    req.async = false;
    return req;
  }
}
