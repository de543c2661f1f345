import { generateKey } from '../../src/protocol/accept-key.js';
import {
  buildClientRequest,
  validateServerResponse,
  type ClientRequestOptions,
} from '../../src/protocol/client-upgrade.js';
import { encodeClosePayload } from '../../src/protocol/close-payload.js';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { Opcode } from '../../src/protocol/opcode.js';
import type { ClientRequest } from '../../src/api/client-request.js';
import type { ConnectionRecord } from '../../src/reactor/connection/connection-record.js';
import type { Connection as PublicConnection } from '../../src/api/connection.js';
import type { Handlers, UpgradeDecision } from '../../src/api/handlers.js';
import type { Link } from '../../src/reactor/connection/link.js';
import type { EndpointOptions, LogLevel } from '../../src/api/options.js';
import type { Reactor } from '../../src/reactor/reactor.js';
import { ClientReactor } from '../../src/reactor/client-reactor.js';
import { ServerReactor } from '../../src/reactor/server-reactor.js';
import type { ClientResponse } from '../../src/api/client-request.js';
import type { ConnectionHandlers } from '../../src/api/handlers.js';
import type { RouteTable } from '../../src/reactor/http/route-table.js';
import { frame } from './receiver-harness.js';
import { decodeFrames, type WireFrame } from './wire-frames.js';

export { frame, rawFrame } from './receiver-harness.js';
export { closeOf, type WireFrame } from './wire-frames.js';

/** libuv error codes (negative errno on Linux) a transport reports. */
export const EPIPE = -32;
export const ECONNRESET = -104;
export const ECANCELED = -125;

/**
 * The handle of one connection on a {@link FakeLink}: everything the reactor
 * did to this "socket", for tests to assert on, and how the next writes go.
 */
export class FakeSocket {
  /** Copies of the bytes of every write the kernel took or holds, in order (the writer reuses its buffers). */
  readonly writes: Buffer[] = [];
  /** How many bytes each of the next writes takes at once; the rest stays pending. Empty: every write is taken whole. */
  readonly takes: number[] = [];
  /** An errno (< 0) the next write fails with, then cleared. */
  failWith = 0;
  failedWrites = 0;
  /** The write in flight: the transport owns `buf` until it completes. */
  held: { buf: Buffer; length: number; copy: Buffer } | null = null;
  paused = false;
  pauses = 0;
  resumes = 0;
  shutdowns = 0;
  destroys = 0;

  /** Everything written, as one stream. */
  bytes(): Buffer {
    return Buffer.concat(this.writes);
  }

  /** The HTTP head written first (the 101, an error response or the client's request), or ''. */
  head(): string {
    const all = this.bytes();
    const end = findHeadEnd(all, 0, all.length, 0);
    return end < 0 ? '' : all.toString('latin1', 0, end);
  }

  /**
   * The frames written after a 101 (server role) or an upgrade request (client
   * role: masked, and unmasked here), decoded; throws if the stream ends inside
   * a frame, as writes carry whole frames.
   */
  frames(): WireFrame[] {
    const all = this.bytes();
    const head = this.head();
    const client = head.startsWith('GET ');
    if (!client && !head.startsWith('HTTP/1.1 101')) return [];
    const rest = all.subarray(head.length);
    const frames: WireFrame[] = [];
    const used = decodeFrames(rest, frames, client, 4); // RSV1 (permessage-deflate) shows in each frame's rsv
    if (used !== rest.length) throw new Error(`${rest.length - used} bytes of an incomplete frame written`);
    return frames;
  }

  /** Opcodes of the frames written, for compact assertions. */
  opcodes(): number[] {
    return this.frames().map((f) => f.opcode);
  }
}

/**
 * An in-memory transport for a Reactor, per the Link contract: it records
 * writes (copies), takes only part of a write when told (the rest is pending
 * until the test calls `complete`), fails writes with an errno, and counts
 * pause/resume/shutdown/destroy. As with a real transport, destroying a
 * socket does not finish its write in flight: that completes later, when the
 * test calls `complete(conn, ECANCELED)`. What the contract forbids (a second write
 * while one is in flight, a write after destroy, a held buffer changed before
 * its write completed) is collected in `violations` rather than thrown, so
 * that it cannot be mistaken for a handler error inside the reactor.
 */
export class FakeLink<R extends Reactor = Reactor> implements Link<ConnectionRecord> {
  readonly name = 'socket';
  readonly Conn: new (handle: unknown) => ConnectionRecord;
  readonly violations: string[] = [];
  /** Every connection made on this link. */
  readonly connections: ConnectionRecord[] = [];
  address = '203.0.113.7:40001';

  constructor(readonly reactor: R) {
    this.Conn = reactor.connectionClass(this);
  }

  write(conn: ConnectionRecord, buf: Buffer, length: number): number {
    const s = socketOf(conn);
    if (s.destroys > 0) {
      this.violations.push('write after destroy');
      return EPIPE;
    }
    if (s.held !== null) this.violations.push('a second write while one is in flight');
    if (s.failWith !== 0) {
      const errno = s.failWith;
      s.failWith = 0;
      s.failedWrites++;
      return errno;
    }
    const copy = Buffer.from(buf.subarray(0, length));
    s.writes.push(copy);
    const take = s.takes.length > 0 ? s.takes.shift()! : length;
    if (take >= length) return 0;
    s.held = { buf, length, copy };
    return length - take;
  }

  pause(conn: ConnectionRecord): void {
    const s = socketOf(conn);
    s.pauses++;
    s.paused = true;
  }

  resume(conn: ConnectionRecord): void {
    const s = socketOf(conn);
    s.resumes++;
    s.paused = false;
  }

  shutdown(conn: ConnectionRecord): void {
    socketOf(conn).shutdowns++;
  }

  destroy(conn: ConnectionRecord): void {
    socketOf(conn).destroys++;
  }

  remoteAddress(): string {
    return this.address;
  }

  /** The transport finishes `conn`'s write in flight (status < 0: failed or cancelled). */
  complete(conn: ConnectionRecord, status = 0): void {
    const s = socketOf(conn);
    const held = s.held;
    if (held === null) throw new Error('no write in flight');
    if (!held.buf.subarray(0, held.length).equals(held.copy))
      this.violations.push('a held write buffer changed before its write completed');
    s.held = null;
    this.reactor.writer.complete(conn, status);
  }

  /** Completes every write in flight now (not the ones the completions start). */
  completeAll(status = 0): void {
    for (const conn of this.connections.filter((c) => socketOf(c).held !== null)) this.complete(conn, status);
  }

  /** A new TCP connection, accepted by the reactor. */
  connect(): ConnectionRecord {
    const conn = this.make();
    this.reactor.accept(conn);
    return conn;
  }

  /** Client role: a TCP connection is up; the reactor writes the upgrade request. */
  connectClient(
    this: FakeLink<ClientReactor>,
    request: ClientRequest = { host: 'fake.test', path: '/' },
  ): ConnectionRecord {
    const conn = this.make();
    this.reactor.connected(conn, request);
    return conn;
  }

  /** A connection opened by a real upgrade request; its 101 is the first write (the open handler may have closed it since). */
  open(extras: RequestExtras = {}): ConnectionRecord {
    const conn = this.connect();
    const key = generateKey();
    this.feed(conn, upgradeRequest(extras, key));
    const all = socketOf(conn).bytes();
    const headEnd = findHeadEnd(all, 0, all.length, 0);
    const valid =
      headEnd < 0
        ? { ok: false }
        : validateServerResponse(all, 0, headEnd, { key, protocols: extras.protocols, extensions: extras.extensions });
    if (!valid.ok) throw new Error(`upgrade failed: ${JSON.stringify(all.toString('latin1').split('\r\n')[0])}`);
    return conn;
  }

  /**
   * Each chunk is one read, copied into the reactor's slab as the real
   * transports read (the receiver unmasks in place). A chunk larger than the
   * slab becomes several reads.
   */
  feed(conn: ConnectionRecord, ...chunks: (Buffer | string)[]): void {
    this.reads(() => {
      const slab = this.reactor.slab;
      for (const chunk of chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
        for (let at = 0; at < bytes.length; at += slab.length) {
          const n = bytes.copy(slab, 0, at, Math.min(bytes.length, at + slab.length));
          this.reactor.onData(conn, slab, 0, n);
        }
      }
    });
  }

  /**
   * One loop turn: the reads `feeds` makes (several feeds inside one turn
   * are reads libuv delivered in one poll phase), then the turn's end, when
   * what was sent to other connections goes out (Writer.endTurn, on
   * setImmediate in a real loop). A feed outside a turn is a turn of its own.
   */
  reads(feeds: () => void): void {
    if (this.inTurn) return feeds();
    this.inTurn = true;
    try {
      feeds();
    } finally {
      this.inTurn = false;
      this.reactor.writer.endTurn();
    }
  }

  private inTurn = false;

  socket(conn: ConnectionRecord): FakeSocket {
    return socketOf(conn);
  }

  private make(): ConnectionRecord {
    const s = new FakeSocket();
    const conn = new this.Conn(s);
    this.connections.push(conn);
    return conn;
  }
}

function socketOf(conn: ConnectionRecord): FakeSocket {
  return conn.handle as FakeSocket;
}

/** What a test may add to the upgrade request. */
export type RequestExtras = Pick<ClientRequestOptions, 'protocols' | 'origin' | 'headers' | 'extensions'> & {
  path?: string;
};

/** A valid upgrade request, for /chat unless `path` says otherwise (no Origin unless given, so the default same-origin policy lets it in). */
export function upgradeRequest(extras: RequestExtras = {}, key = generateKey()): string {
  return buildClientRequest({ host: 'fake.test', key, ...extras, path: extras.path ?? '/chat' });
}

/** A masked Close frame from the peer. */
export function closeFrame(code: number, reason = ''): Buffer {
  return frame(Opcode.Close, encodeClosePayload(code, reason));
}

/** An upgrade hook that decides when the test says so; `calls` has the request URL of each call. */
export function deferredUpgrade() {
  const calls: string[] = [];
  let settle: (decision: UpgradeDecision<unknown>) => void = () => {};
  const hook = (request: { url: string }): Promise<UpgradeDecision<unknown>> => {
    calls.push(request.url);
    return new Promise((resolve) => (settle = resolve));
  };
  return { hook, calls, settle: (decision?: UpgradeDecision<unknown>) => settle(decision) };
}

/** Resolves once the promise callbacks queued so far have run. */
export const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What the handlers of a {@link fakeReactor} saw, in order per kind; data copied (handlers get borrowed buffers). */
export interface Seen {
  opens: ConnectionRecord[];
  messages: { conn: ConnectionRecord; data: Buffer; isBinary: boolean }[];
  pings: { conn: ConnectionRecord; data: Buffer }[];
  pongs: { conn: ConnectionRecord; data: Buffer }[];
  drains: ConnectionRecord[];
  closes: { conn: ConnectionRecord; code: number; reason: string }[];
  errors: { error: Error; conn: ConnectionRecord | undefined }[];
  logs: { level: LogLevel; message: string }[];
  /** Client role: connections that ended before they opened, and why. */
  abandoned: { conn: ConnectionRecord; error: Error }[];
}

export interface FakeReactor<R extends Reactor = Reactor> {
  reactor: R;
  link: FakeLink<R>;
  seen: Seen;
}

/** Every connection the reactor hands a handler is its own ConnectionRecord, seen through the public interface. */
function own(conn: PublicConnection): ConnectionRecord {
  return conn as ConnectionRecord;
}

/**
 * A reactor on a fake link whose handlers record what they see and then
 * call the test's own (which may throw). Pool debugging is on, so a buffer
 * released twice throws and a released buffer is poisoned.
 */
export function fakeReactor(
  options?: EndpointOptions,
  handlers?: Handlers,
  role?: 'server',
  routes?: RouteTable,
): FakeReactor<ServerReactor>;
export function fakeReactor(options: EndpointOptions, handlers: Handlers, role: 'client'): FakeReactor<ClientReactor>;
export function fakeReactor(
  options: EndpointOptions = {},
  handlers: Handlers = {},
  role: 'server' | 'client' = 'server',
  routes?: RouteTable,
): FakeReactor<Reactor> {
  process.env['LIGHTWS_POOL_DEBUG'] = '1';
  const seen: Seen = {
    opens: [],
    messages: [],
    pings: [],
    pongs: [],
    drains: [],
    closes: [],
    errors: [],
    logs: [],
    abandoned: [],
  };
  const recording: Handlers = {
    request: handlers.request,
    upgrade: handlers.upgrade,
    open(conn, request) {
      seen.opens.push(own(conn));
      handlers.open?.(conn, request);
    },
    message(conn, data, isBinary) {
      seen.messages.push({ conn: own(conn), data: Buffer.from(data), isBinary });
      handlers.message?.(conn, data, isBinary);
    },
    ping(conn, data) {
      seen.pings.push({ conn: own(conn), data: Buffer.from(data) });
      handlers.ping?.(conn, data);
    },
    pong(conn, data) {
      seen.pongs.push({ conn: own(conn), data: Buffer.from(data) });
      handlers.pong?.(conn, data);
    },
    drain(conn) {
      seen.drains.push(own(conn));
      handlers.drain?.(conn);
    },
    close(conn, code, reason) {
      seen.closes.push({ conn: own(conn), code, reason });
      handlers.close?.(conn, code, reason);
    },
    error(error, conn) {
      seen.errors.push({ error, conn: conn === undefined ? undefined : own(conn) });
      handlers.error?.(error, conn);
    },
  };
  const logger = (level: LogLevel, message: string): void => void seen.logs.push({ level, message });
  const settings = { logLevel: 'warn' as const, logger, ...options };
  // The client's open handler is given the server's response; the recording one passes on whatever it gets.
  const reactor =
    role === 'client'
      ? new ClientReactor(settings, {
          ...(recording as ConnectionHandlers<unknown, unknown> as ConnectionHandlers<unknown, ClientResponse>),
          abandoned: (conn, error) => void seen.abandoned.push({ conn, error }),
        })
      : new ServerReactor(settings, recording, routes);
  return { reactor, link: new FakeLink<Reactor>(reactor), seen };
}

/** Nothing lent from the pool and nothing the link contract forbids: what every ended test should leave. */
export function leftovers({ reactor, link }: FakeReactor<Reactor>): {
  lentBuffers: number;
  lentBytes: number;
  violations: string[];
} {
  const { lentBuffers, lentBytes } = reactor.snapshot().pool;
  return { lentBuffers, lentBytes, violations: link.violations };
}

export const CLEAN = { lentBuffers: 0, lentBytes: 0, violations: [] };
