import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import type tlsModule from 'node:tls';
import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import { State } from '../reactor/connection/connection-state.js';
import type { Link } from '../reactor/connection/link.js';
import type { ServerReactor } from '../reactor/server-reactor.js';
import { HandoffWatch } from '../tls/handoff.js';
import type { StayReason } from '../tls/stay-reason.js';
import { RecordLayer, type RecordLayerSink } from '../tls/record-layer.js';
import type { RecordFault } from '../tls/record-protection.js';
import { uvError } from '../reactor/connection/errno.js';
import { CompactTlsConnection } from './compact-tls-connection.js';
import type { ListenAddress } from './listen-address.js';
import type { RawBindings, RawTcpHandle, RawWriteReq } from './raw-bindings.js';
import { bindServerHandle, boundAddress } from './server-handle.js';
import { connectionSlot } from './handle-transport.js';

const UV_EOF = -4095;
const EPIPE = -32;
/** EPROTO: what the reactor hears when the record layer ends a connection on a fault. */
const EPROTO = -71;
/** While in flight (a write, a partial record), the handoff is tried again this often, `attemptsLeft` times. */
const RETRY_MS = 20;
/** States in which a connection is not idle enough to move. */
const BUSY = State.Handshaking | State.Writing | State.Paused | State.ReadBlocked | State.UpgradeDeciding;
const GONE = State.Closed | State.CloseSent | State.CloseReceived | State.EndAfterFlush;

type OwnedHandle = RawTcpHandle & Record<symbol, ConnectionRecord | undefined>;

let tlsLoaded: typeof tlsModule | undefined;
const tls = (): typeof tlsModule => (tlsLoaded ??= createRequire(import.meta.url)('node:tls') as typeof tlsModule);

/** The TLS options of `tls: { ..., compact: true }` (node:tls's own, plus the switch). */
export type CompactTlsOptions = tlsModule.TlsOptions & { compact?: boolean };

/** Where a moved connection's record layer sends its results: the reactor, for that connection. */
class CompactSink implements RecordLayerSink {
  constructor(
    private readonly transport: CompactTlsTransport,
    private readonly conn: ConnectionRecord,
  ) {}
  // A handler may destroy the connection while one read's records are still being opened:
  // after that, nothing more reaches the reactor or the (closed) handle.
  data(content: Buffer): void {
    if (!(this.conn.handle as CompactTlsConnection).closed)
      this.transport.reactor.onData(this.conn, content, 0, content.length);
  }
  transmit(records: Buffer): void {
    const tc = this.conn.handle as CompactTlsConnection;
    if (!tc.closed) this.transport.writeRaw(tc.tcp, records, null);
  }
  end(fault?: RecordFault): void {
    if ((this.conn.handle as CompactTlsConnection).closed) return;
    if (fault !== undefined) this.transport.reactor.reporter.log('debug', `TLS record layer: ${fault.reason}`);
    this.transport.reactor.onEnd(this.conn, fault === undefined ? 0 : EPROTO);
  }
}

/**
 * wss:// over raw libuv handles (issue #23, opt-in with `tls.compact`):
 * node:tls (OpenSSL) does the TLS 1.3 handshake over a pipe fed from a raw
 * TCP handle, the reactor reads the HTTP upgrade through it, and once the
 * connection is open and idle it moves to the compact record layer
 * (src/tls/): the TLSSocket is destroyed and records are sealed and opened
 * in JavaScript over the raw handle, like the handle transport's reads
 * (the reactor's slab) and writes. Connections that cannot move (TLS 1.2,
 * a suite not carried, never idle) stay on node:tls, over the same pipe.
 */
export class CompactTlsTransport implements Link<ConnectionRecord> {
  readonly name = 'handle';
  private readonly Conn: new (handle: unknown) => ConnectionRecord;
  private readonly server: RawTcpHandle[] = [];
  private readonly context: tlsModule.SecureContext;
  private readonly onRead: (this: OwnedHandle) => void;
  private readonly onWriteDone: (this: RawWriteReq, status: number, handle: RawTcpHandle) => void;
  /** A write request no write holds, for the next one. */
  private spareReq: RawWriteReq | null = null;
  /** Where a handle's connection is kept (handle-transport.ts's owner slot), known at the first accept. */
  private slot: symbol = Symbol('unset');

  constructor(
    readonly reactor: ServerReactor,
    private readonly raw: RawBindings,
    private readonly options: CompactTlsOptions,
  ) {
    this.Conn = reactor.connectionClass(this);
    const { compact: _compact, ...contextOptions } = options;
    this.context = tls().createSecureContext({ ...contextOptions, minVersion: options.minVersion ?? 'TLSv1.2' });
    const state = raw.streamBaseState;
    const kRead = raw.kReadBytesOrError;
    const slab = reactor.slab;
    const transport = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the handle is `this` below
    this.onRead = function onRead(this: OwnedHandle): void {
      const conn = this[transport.slot];
      if (conn === undefined) return;
      const nread = state[kRead]!;
      try {
        transport.read(conn, nread, slab);
      } catch (error) {
        reactor.reporter.report(error, conn);
        reactor.terminate(conn);
      }
    };
    this.onWriteDone = function onWriteDone(this: RawWriteReq, status: number, handle: RawTcpHandle): void {
      const conn = (handle as OwnedHandle)[transport.slot];
      if (conn === undefined) return;
      try {
        reactor.writer.complete(conn, status);
      } catch (error) {
        reactor.reporter.report(error, conn);
      }
    };
  }

  async listen(port: number, host?: string, backlog = 511): Promise<ListenAddress> {
    const handle = await bindServerHandle(this.raw, port, host);
    handle.onconnection = (status: number, client: RawTcpHandle | undefined): void => {
      try {
        if (status === 0 && client !== undefined) this.accepted(client);
      } catch (error) {
        this.reactor.reporter.report(error, undefined);
      }
    };
    const err = handle.listen(backlog);
    if (err !== 0) {
      handle.close();
      throw uvError(err, 'listen', `${host || '::'}:${port}`);
    }
    this.server.push(handle);
    return boundAddress(handle);
  }

  stopListening(): void {
    for (const handle of this.server.splice(0)) handle.close();
  }

  write(conn: ConnectionRecord, buf: Buffer, length: number): number {
    const tc = conn.handle as CompactTlsConnection;
    const data = length === buf.length ? buf : buf.subarray(0, length);
    if (tc.closed) return EPIPE;
    if (tc.layer !== null) return this.writeRaw(tc.tcp, tc.layer.seal(data), conn);
    const secure = tc.secure!;
    if (secure.destroyed || !secure.writable) return EPIPE;
    secure.write(data);
    this.scheduleHandoff(conn);
    const pending = secure.writableLength;
    if (pending === 0) return 0;
    secure.write(Buffer.alloc(0), (error) => this.reactor.writer.complete(conn, error ? EPIPE : 0));
    return pending;
  }

  pause(conn: ConnectionRecord): void {
    const tc = conn.handle as CompactTlsConnection;
    tc.tcp.readStop();
    tc.secure?.pause();
  }

  resume(conn: ConnectionRecord): void {
    const tc = conn.handle as CompactTlsConnection;
    tc.tcp.readStart();
    tc.secure?.resume();
    this.scheduleHandoff(conn);
  }

  shutdown(conn: ConnectionRecord): void {
    const tc = conn.handle as CompactTlsConnection;
    if (tc.layer === null) {
      tc.secure?.end();
      return;
    }
    // close_notify before the FIN (RFC 8446 §6.1).
    this.writeRaw(tc.tcp, tc.layer.closeNotify(), null);
    const req = new this.raw.ShutdownWrap();
    req.handle = tc.tcp;
    req.oncomplete = () => {};
    if (tc.tcp.shutdown(req) !== 0) this.reactor.onEnd(conn, EPIPE);
  }

  destroy(conn: ConnectionRecord): void {
    const tc = conn.handle as CompactTlsConnection;
    if (tc.closed) return;
    tc.closed = true;
    if (tc.layer !== null) {
      this.reactor.stats.tlsCompactNow--;
      tc.layer.release();
    }
    tc.releaseTls();
    tc.tcp.close();
  }

  remoteAddress(conn: ConnectionRecord): string {
    const out: Record<string, unknown> = {};
    if ((conn.handle as CompactTlsConnection).tcp.getpeername(out) !== 0) return 'unknown';
    return out.family === 'IPv6'
      ? `[${String(out.address)}]:${String(out.port)}`
      : `${String(out.address)}:${String(out.port)}`;
  }

  /**
   * Writes `bytes` on the raw handle. `conn`: a reactor write, whose
   * completion the writer awaits (returns 0 when done at once, else what is
   * pending); null: the transport's own (node:tls's records, a KeyUpdate, an
   * alert), which nothing awaits but `done`.
   */
  writeRaw(tcp: RawTcpHandle, bytes: Buffer, conn: ConnectionRecord | null, done?: (status: number) => void): number {
    // A request libuv finished at once is free again (as in handle-transport.ts): the echo path
    // writes one record per read, and a WriteWrap per write was a native object each time.
    const req = this.spareReq ?? new this.raw.WriteWrap();
    this.spareReq = null;
    req.handle = tcp;
    req.async = false;
    const result: number | RawWriteReq = tcp.writeBuffer(req, bytes);
    const inFlight = typeof result === 'object' && result !== null ? result : req;
    if (inFlight === req) {
      if (result !== 0 || this.raw.streamBaseState[this.raw.kLastWriteWasAsync] === 0) {
        this.spareReq = req;
        done?.(result as number);
        return result as number;
      }
    } else {
      this.spareReq = req; // Node 24.22+ made a request of its own for the write in flight
    }
    // The sealed records are this write's own: nothing but the request keeps them alive until libuv
    // is done (without it, a 16 MiB echo was collected mid-write: EFAULT, Autobahn 9.1.6 over wss).
    inFlight.buffer = bytes;
    inFlight.oncomplete = (status: number): void => {
      inFlight.buffer = null;
      if (conn !== null) this.onWriteDone.call(inFlight, status, tcp);
      done?.(status);
    };
    return Math.max(1, tcp.writeQueueSize);
  }

  private accepted(client: RawTcpHandle): void {
    if (!this.reactor.admit()) {
      client.close(); // a 503 in plaintext would mean nothing to a TLS client
      return;
    }
    const options = this.reactor.options;
    if (options.noDelay) client.setNoDelay(true);
    if (options.keepAliveMs > 0) client.setKeepAlive(true, Math.max(1, Math.round(options.keepAliveMs / 1000)));
    const tc = new CompactTlsConnection(client);
    const conn = new this.Conn(tc);
    this.slot = connectionSlot(client);
    (client as OwnedHandle)[this.slot] = conn;
    client.onread = this.onRead as unknown as RawTcpHandle['onread'];
    client.useUserBuffer(this.reactor.slab);
    this.startTls(conn, tc);
    if (client.readStart() !== 0) {
      tc.releaseTls();
      client.close();
      return;
    }
    this.reactor.accept(conn);
  }

  /** node:tls over a pipe whose bytes the watch sees both ways. */
  private startTls(conn: ConnectionRecord, tc: CompactTlsConnection): void {
    const watch = new HandoffWatch('server');
    const pipe = new Duplex({
      read() {},
      write: (chunk: Buffer, _encoding, callback) => {
        if (tc.pipe !== pipe) return callback();
        watch.sent(chunk);
        tc.pipeWrites++;
        this.writeRaw(tc.tcp, chunk, null, (status) => {
          tc.pipeWrites--;
          callback(status < 0 ? uvError(status, 'write') : undefined);
        });
      },
    });
    const { requestCert, rejectUnauthorized, ALPNProtocols, SNICallback } = this.options;
    const secure = new (tls().TLSSocket)(pipe, {
      isServer: true,
      secureContext: this.context,
      ...(requestCert === undefined ? {} : { requestCert }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(ALPNProtocols === undefined ? {} : { ALPNProtocols }),
      ...(SNICallback === undefined ? {} : { SNICallback }),
    });
    tc.secure = secure;
    tc.pipe = pipe;
    tc.watch = watch;
    secure.on('keylog', (line: Buffer) => watch.keylog(line));
    secure.on('secure', () => watch.secured(secure.getProtocol(), secure.getCipher()?.standardName));
    secure.on('data', (chunk: Buffer) => {
      this.reactor.onData(conn, chunk, 0, chunk.length);
      this.scheduleHandoff(conn);
    });
    const ended = (): void => {
      if (tc.secure === secure) this.reactor.onEnd(conn);
    };
    secure.on('end', ended);
    secure.on('close', ended);
    secure.on('error', (error: Error) => {
      this.reactor.reporter.log('info', `TLS: ${error.message}`);
      if (tc.secure === secure) this.reactor.onEnd(conn, -1);
    });
  }

  private read(conn: ConnectionRecord, nread: number, slab: Buffer): void {
    const tc = conn.handle as CompactTlsConnection;
    if (nread > 0) {
      if (tc.layer !== null) return tc.layer.receive(slab.subarray(0, nread));
      const copy = Buffer.from(slab.subarray(0, nread));
      tc.watch?.received(copy);
      tc.pipe?.push(copy);
      return;
    }
    if (nread === 0) return;
    if (tc.layer === null && nread === UV_EOF && tc.pipe !== null) return void tc.pipe.push(null);
    this.reactor.onEnd(conn, nread === UV_EOF ? 0 : nread);
  }

  private scheduleHandoff(conn: ConnectionRecord): void {
    const tc = conn.handle as CompactTlsConnection;
    if (tc.layer !== null || tc.secure === null || tc.handoffTimer !== null || tc.attemptsLeft <= 0) return;
    tc.handoffTimer = setTimeout(() => {
      tc.handoffTimer = null;
      try {
        this.tryHandoff(conn, tc);
      } catch (error) {
        this.reactor.reporter.report(error, conn);
      }
    }, RETRY_MS);
    tc.handoffTimer.unref();
  }

  /** Moves the connection to the record layer if it is open, idle, and node:tls holds nothing of it. */
  private tryHandoff(conn: ConnectionRecord, tc: CompactTlsConnection): void {
    const secure = tc.secure;
    const watch = tc.watch;
    if (secure === null || watch === null || tc.closed || (conn.flags & GONE) !== 0) return;
    const refused = watch.refused;
    if (refused !== undefined) return this.stay(tc, watch.refusedKind ?? 'untracked', refused);
    const idle =
      (conn.flags & (BUSY | State.Open)) === State.Open &&
      conn.progress === null &&
      secure.writableLength === 0 &&
      secure.readableLength === 0 &&
      // Bytes the pipe holds were seen by the watch but not yet by OpenSSL (reading) or the kernel (writing).
      tc.pipe!.readableLength === 0 &&
      tc.pipe!.writableLength === 0 &&
      tc.pipeWrites === 0 &&
      tc.tcp.writeQueueSize === 0;
    const handoff = idle ? watch.handoff() : 'not idle';
    if (typeof handoff === 'string') {
      if (--tc.attemptsLeft <= 0) return this.stay(tc, 'notIdle', handoff);
      return this.scheduleHandoff(conn);
    }
    tc.layer = new RecordLayer(handoff.suite, 'server', handoff.read, handoff.write, new CompactSink(this, conn));
    tc.releaseTls();
    this.reactor.stats.tlsCompacted++;
    this.reactor.stats.tlsCompactNow++;
    this.reactor.reporter.log('debug', 'wss connection moved to the compact record layer');
  }

  private stay(tc: CompactTlsConnection, kind: StayReason, reason: string): void {
    tc.attemptsLeft = 0;
    this.reactor.stats.tlsStay(kind);
    this.reactor.reporter.log('debug', `wss connection stays on node:tls (${kind}): ${reason}`);
  }
}
