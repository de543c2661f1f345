/**
 * A load-generator client on raw libuv TCP handles (no net.Socket), so one
 * process can open and hold ~19.9k WebSocket connections cheaply. For the
 * idle, echo and handshake benchmarks and the million-connection test: one
 * pool per load process, the caller splits the work over processes.
 *
 * - A bounded number of connects in flight: a flood overflows the server's
 *   listen backlog and turns into SYN retries (seconds of stall).
 * - An explicit source address AND port for every connection, over
 *   127.0.0.0/8: 64k ports per address, and a fresh address block sidesteps
 *   a previous round's TIME_WAITs. Not bind(ip, 0): the kernel's free-port
 *   search is global across addresses and linear in the ports bound (measured
 *   here: 20k connects/s falling to 850/s near 18k bound sockets, 9 s of
 *   system time for 19k), and it stops at the ~28k-port ephemeral range.
 * - The upgrade request, the 101 validated (RFC 6455 §4.1), then the
 *   connection is held reading into one shared slab, which is how a server
 *   close is noticed. Bytes after the handshake go to `onData`.
 * - `keys: 'shared'` (bench:million): one key for the pool, so the request
 *   is built once and the 101 is checked by its status line and the accept
 *   value that key gives, found by a native byte search: no random bytes,
 *   SHA-1 or header parse per connection (see docs/benchmarks.md for what
 *   that saves). The server cannot tell: it checks a key's form, not its
 *   freshness.
 * - `maxRetries`: a failed attempt is started again from the next source
 *   port (bind clashes are retried in any case).
 */
import { getSystemErrorName } from 'node:util';
import { acceptKey, generateKey } from '../../src/protocol/accept-key.js';
import { buildClientRequest, validateServerResponse } from '../../src/protocol/client-upgrade.js';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { loadRawBindings, type RawTcpHandle, type RawWriteReq } from '../../src/transport/raw-bindings.js';

const UV_EOF = -4095;
const UV_EADDRINUSE = -98;
const UV_EADDRNOTAVAIL = -99;
/** A source port taken by something else is skipped, up to this many times per connection. */
const MAX_BIND_RETRIES = 32;
/** A response head larger than this is not a server we want to benchmark. */
const MAX_RESPONSE_HEAD = 16 * 1024;
const kConn = Symbol('rawClient.conn');
const STATUS_101 = Buffer.from('HTTP/1.1 101 ', 'latin1');

interface ConnectReq {
  oncomplete: (this: ConnectReq, status: number, handle: ClientHandle) => void;
}
/** The client-side calls tcp_wrap has and src/transport/raw-bindings.ts does not declare. */
interface ClientHandle extends RawTcpHandle {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  writeLatin1String(req: RawWriteReq, data: string): number;
  [kConn]?: RawConnection;
}
interface ClientBindings {
  TCP: new (type: number) => ClientHandle;
  TCPConnectWrap: new () => ConnectReq;
  WriteWrap: new () => RawWriteReq;
  SOCKET: number;
  state: Int32Array;
  kRead: number;
  kAsync: number;
}

function loadClientBindings(): ClientBindings {
  const loaded = loadRawBindings();
  if (!loaded.ok) throw new Error(`raw handles unavailable: ${loaded.reason}`);
  const b = loaded.bindings;
  const saved = process.noDeprecation;
  process.noDeprecation = true; // DEP0111 under --pending-deprecation; see CHEATSHEET §1
  try {
    const binding = (process as unknown as { binding(name: string): { TCPConnectWrap: new () => ConnectReq } }).binding;
    const { TCPConnectWrap } = binding('tcp_wrap');
    return {
      TCP: b.TCP,
      TCPConnectWrap,
      WriteWrap: b.WriteWrap,
      SOCKET: b.SOCKET,
      state: b.streamBaseState,
      kRead: b.kReadBytesOrError,
      kAsync: b.kLastWriteWasAsync,
    };
  } finally {
    process.noDeprecation = saved;
  }
}

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}

const enum Phase {
  Connecting,
  Handshaking,
  Open,
  Closed,
}

/** One client connection. Kept small: the key and partial head are dropped once open. */
export class RawConnection {
  phase = Phase.Connecting;
  /** Position in the pool's registry of open connections (swap-remove). */
  index = -1;
  key: string;
  head: Buffer | null = null;
  startedAt: number;
  /** Free for the caller (e.g. echo state). */
  data: unknown = undefined;
  constructor(
    readonly handle: ClientHandle,
    now: number,
    readonly retries: number,
    key: string | null,
    readonly attempt: number,
  ) {
    this.key = key ?? generateKey();
    this.startedAt = now;
  }
  get isOpen(): boolean {
    return this.phase === Phase.Open;
  }
}

export interface RawClientOptions {
  host: string;
  port: number;
  path?: string;
  /** Source addresses, used in order, perSource connections each (IPv4 loopback, or IPv6 when host is). */
  sources: readonly string[];
  /** Connections per source address before moving on to the next. Default 20,000. */
  perSource?: number;
  /** Source ports are taken in order from here to 65535 on each address. Default 1024. */
  firstPort?: number;
  /** Connects + handshakes in flight at once. Default 256 (under the usual listen backlog of 511). */
  maxInFlight?: number;
  /** Fail a connection whose 101 has not arrived by then. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** 'each' (default): a fresh key per connection and the whole 101 validated; 'shared': see the header. */
  keys?: 'each' | 'shared';
  /** Attempts started again after a failure (connect, reset, a 503...), each from the next source port. Default 0. */
  maxRetries?: number;
  /** A Sec-WebSocket-Extensions offer to send (e.g. a browser's permessage-deflate offer); none by default. */
  extensions?: string;
  /** Bytes the server sent after the handshake, in `buf[start, end)`. `buf` is the shared slab: consume synchronously. */
  onData?: (conn: RawConnection, buf: Buffer, start: number, end: number) => void;
  /** The server closed (or reset) an open connection; errno 0 for EOF. */
  onClose?: (conn: RawConnection, errno: number) => void;
}

export interface BatchResult {
  opened: number;
  /** Connections given up on (after maxRetries). */
  failed: number;
  /** Attempts started again (maxRetries). */
  retried: number;
  elapsedMs: number;
  /** Failure reason → count of failed attempts (errno names or ClientHandshakeError kinds). */
  errors: Record<string, number>;
}

export class RawClientPool {
  /** Connections open now (101 validated, not closed). */
  readonly open: RawConnection[] = [];
  failed = 0;
  closedByPeer = 0;
  inFlight = 0;
  private readonly raw = loadClientBindings();
  private readonly slab = Buffer.allocUnsafeSlow(64 * 1024);
  private readonly pending = new Set<RawConnection>();
  private writeReq: RawWriteReq;
  /** The next source: index into sources, port, and connections started from that address. */
  private source = { index: 0, port: 0, used: 0 };
  private batch: {
    remaining: number;
    opened: number;
    failed: number;
    retried: number;
    t0: number;
    errors: Record<string, number>;
    done: (r: BatchResult) => void;
  } | null = null;
  /** keys: 'shared': the one key, its request, and the accept value a 101 must carry. */
  private readonly shared: { key: string; request: string; accept: Buffer } | null;
  private sweeper: NodeJS.Timeout | undefined;
  private maxInFlight = 256;
  private stopped = false;
  private readonly onConnect: ConnectReq['oncomplete'];
  private readonly onRead: RawTcpHandle['onread'];

  constructor(private readonly options: RawClientOptions) {
    if (options.sources.length === 0) throw new RangeError('sources must name at least one address');
    this.writeReq = new this.raw.WriteWrap();
    this.source.port = options.firstPort ?? 1024;
    // The shared check reads the status line and the accept value only: it would pass an extension the offer did not make.
    if (options.keys === 'shared' && options.extensions !== undefined)
      throw new RangeError("keys: 'shared' validates no extensions: offer none");
    if (options.keys === 'shared') {
      const key = generateKey();
      this.shared = { key, request: this.request(key), accept: Buffer.from(acceptKey(key), 'latin1') };
    } else {
      this.shared = null;
    }
    const pool = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the callbacks below get the handle as `this`
    this.onConnect = function (status, handle) {
      const conn = handle[kConn];
      if (conn !== undefined) pool.connected(conn, status);
    };
    // Must return undefined on every path: any other value aborts the process (CHEATSHEET §3).
    this.onRead = function (this: RawTcpHandle): void {
      const conn = (this as ClientHandle)[kConn];
      if (conn === undefined) return;
      const nread = pool.raw.state[pool.raw.kRead]!;
      if (nread > 0) pool.received(conn, nread);
      else if (nread < 0) pool.lost(conn, nread === UV_EOF ? 0 : nread);
    };
  }

  /** Opens `count` more connections; resolves when every one is open or failed. One batch at a time. */
  connect(count: number, maxInFlight = this.options.maxInFlight ?? 256): Promise<BatchResult> {
    if (this.batch !== null) throw new Error('a connect batch is already running');
    this.maxInFlight = maxInFlight;
    return new Promise((resolve) => {
      this.batch = {
        remaining: count,
        opened: 0,
        failed: 0,
        retried: 0,
        t0: performance.now(),
        errors: {},
        done: resolve,
      };
      this.sweeper ??= setInterval(() => this.sweep(), 250).unref();
      this.pump();
    });
  }

  /** Starts no more connects: the batch ends once those in flight are done (failed attempts are not retried). */
  stopConnecting(): void {
    if (this.batch === null) return;
    this.batch.remaining = 0;
    this.stopped = true;
    this.settle();
  }

  /** Writes bytes on an open connection; returns 0 or a negative errno. Copies nothing: `buf` must stay untouched until written. */
  write(conn: RawConnection, buf: Uint8Array): number {
    const err = conn.handle.writeBuffer(this.writeReq, buf) as number; // our own request: a number (see raw-bindings.ts)
    if (err === 0 && this.raw.state[this.raw.kAsync] !== 0) {
      (this.writeReq as RawWriteReq & { buffer?: Uint8Array }).buffer = buf; // keep alive until libuv is done
      this.writeReq = new this.raw.WriteWrap(); // a req in flight must not be reused (CHEATSHEET §4)
    }
    return err;
  }

  /** Closes one connection without a closing handshake. */
  close(conn: RawConnection, cb?: () => void): void {
    if (conn.phase === Phase.Closed) {
      cb?.();
      return;
    }
    this.forget(conn);
    conn.handle.close(cb);
  }

  /** Closes every connection; resolves once libuv has closed them all. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const all = [...this.open, ...this.pending];
    await Promise.all(all.map((c) => new Promise<void>((resolve) => this.close(c, resolve))));
  }

  private pump(): void {
    const batch = this.batch;
    if (batch === null) return;
    for (; this.inFlight < this.maxInFlight && batch.remaining > 0; batch.remaining--) this.launch(0, 0);
    this.settle();
  }

  private request(key: string): string {
    const { host, port, path } = this.options;
    const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return buildClientRequest({ host: hostHeader, path: path ?? '/', key, extensions: this.options.extensions });
  }

  private launch(retries: number, attempt: number): void {
    const { host, port, sources } = this.options;
    const src = this.source;
    if (src.used >= (this.options.perSource ?? 20_000) || src.port > 65_535) {
      src.index++;
      src.port = this.options.firstPort ?? 1024;
      src.used = 0;
    }
    const handle = new this.raw.TCP(this.raw.SOCKET);
    const conn = new RawConnection(handle, performance.now(), retries, this.shared?.key ?? null, attempt);
    handle[kConn] = conn;
    this.inFlight++;
    this.pending.add(conn);
    if (src.index >= sources.length) {
      this.fail(conn, 'SourcesExhausted');
      return;
    }
    const address = sources[src.index]!;
    src.used++;
    // libuv reports a port already in use late, as the connect's status (EADDRINUSE): see connected().
    let err = address.includes(':') ? handle.bind6(address, src.port++, 0) : handle.bind(address, src.port++);
    if (err === 0) {
      const req = new this.raw.TCPConnectWrap();
      req.oncomplete = this.onConnect;
      err = host.includes(':') ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    }
    if (err !== 0) this.connected(conn, err);
  }

  private connected(conn: RawConnection, status: number): void {
    if (conn.phase !== Phase.Connecting) return;
    if ((status === UV_EADDRINUSE || status === UV_EADDRNOTAVAIL) && conn.retries < MAX_BIND_RETRIES) {
      // That source port is taken (a listener on it, or a TIME_WAIT to this server): next port.
      this.close(conn);
      this.launch(conn.retries + 1, conn.attempt);
      return;
    }
    if (status !== 0) {
      this.fail(conn, errnoName(status));
      return;
    }
    const h = conn.handle;
    conn.phase = Phase.Handshaking;
    h.onread = this.onRead;
    h.useUserBuffer(this.slab); // once per handle: a second call adds a second listener
    let err = h.readStart();
    if (err === 0) {
      // Latin1 strings are copied by the binding, so the shared req only needs replacing if the write went async.
      err = h.writeLatin1String(this.writeReq, this.shared?.request ?? this.request(conn.key));
      if (err === 0 && this.raw.state[this.raw.kAsync] !== 0) this.writeReq = new this.raw.WriteWrap();
    }
    if (err !== 0) this.fail(conn, errnoName(err));
  }

  private received(conn: RawConnection, nread: number): void {
    if (conn.phase === Phase.Open) {
      this.options.onData?.(conn, this.slab, 0, nread);
      return;
    }
    if (conn.phase !== Phase.Handshaking) return;
    // A head split over reads is rare on loopback; only then is anything copied.
    let buf = this.slab;
    let end = nread;
    let scanFrom = 0;
    if (conn.head !== null) {
      scanFrom = conn.head.length;
      buf = conn.head = Buffer.concat([conn.head, this.slab.subarray(0, nread)]);
      end = buf.length;
    }
    const headEnd = findHeadEnd(buf, 0, end, scanFrom);
    if (headEnd < 0) {
      if (end > MAX_RESPONSE_HEAD) this.fail(conn, 'ResponseHeadTooLarge');
      else if (conn.head === null) conn.head = Buffer.from(this.slab.subarray(0, nread));
      return;
    }
    const shared = this.shared;
    if (shared !== null) {
      // A 101 carrying the accept value of the key sent; both are searched natively.
      if (buf.compare(STATUS_101, 0, STATUS_101.length, 0, STATUS_101.length) !== 0) {
        this.fail(conn, `status ${buf.toString('latin1', 9, 12)}`);
        return;
      }
      const at = buf.indexOf(shared.accept, STATUS_101.length);
      if (at < 0 || at + shared.accept.length > headEnd) {
        this.fail(conn, 'InvalidAccept');
        return;
      }
    } else {
      const result = validateServerResponse(buf, 0, headEnd, { key: conn.key, extensions: this.options.extensions });
      if (!result.ok) {
        this.fail(conn, result.error.kind);
        return;
      }
    }
    this.pending.delete(conn);
    this.inFlight--;
    conn.phase = Phase.Open;
    conn.key = '';
    conn.head = null;
    conn.index = this.open.length;
    this.open.push(conn);
    if (this.batch !== null) this.batch.opened++;
    if (headEnd < end) this.options.onData?.(conn, buf, headEnd, end);
    this.pump();
  }

  private lost(conn: RawConnection, errno: number): void {
    if (conn.phase !== Phase.Open) {
      this.fail(conn, errno === 0 ? 'EOF before 101' : errnoName(errno));
      return;
    }
    this.closedByPeer++;
    this.close(conn);
    this.options.onClose?.(conn, errno);
  }

  private fail(conn: RawConnection, reason: string): void {
    if (conn.phase === Phase.Open || conn.phase === Phase.Closed) return;
    this.close(conn);
    const batch = this.batch;
    if (batch !== null) batch.errors[reason] = (batch.errors[reason] ?? 0) + 1;
    if (
      batch !== null &&
      !this.stopped &&
      conn.attempt < (this.options.maxRetries ?? 0) &&
      reason !== 'SourcesExhausted'
    ) {
      batch.retried++;
      this.launch(0, conn.attempt + 1);
      return;
    }
    this.failed++;
    if (batch !== null) batch.failed++;
    queueMicrotask(() => this.pump());
  }

  /** Drops a connection from the registries (pending or open); the handle is closed by the caller. */
  private forget(conn: RawConnection): void {
    if (this.pending.delete(conn)) this.inFlight--;
    if (conn.index >= 0) {
      const last = this.open.pop()!;
      if (last !== conn) {
        this.open[conn.index] = last;
        last.index = conn.index;
      }
      conn.index = -1;
    }
    conn.phase = Phase.Closed;
  }

  /** One timer for all handshake timeouts, like the server's wheel. */
  private sweep(): void {
    const limit = performance.now() - (this.options.handshakeTimeoutMs ?? 10_000);
    for (const conn of this.pending) if (conn.startedAt < limit) this.fail(conn, 'HandshakeTimeout');
  }

  private settle(): void {
    const batch = this.batch;
    if (batch === null || batch.remaining > 0 || this.inFlight > 0) return;
    this.batch = null;
    batch.done({
      opened: batch.opened,
      failed: batch.failed,
      retried: batch.retried,
      elapsedMs: performance.now() - batch.t0,
      errors: batch.errors,
    });
  }
}
