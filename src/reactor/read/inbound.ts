import {
  closeCodeFor,
  ErrorKind,
  ProtocolError,
  reasonFor,
  type ErrorKindValue,
} from '../../protocol/protocol-error.js';
import { receive, type ReceiverConfig, type ReceiverSink } from '../../protocol/receiver.js';
import { Opcode } from '../../protocol/opcode.js';
import { isValidUtf8 } from '../../protocol/utf8.js';
import type { Extension } from '../extensions/extension.js';
import { dropExtrasIfEmpty } from '../connection/connection-extras.js';
import { State } from '../connection/connection-state.js';
import type { ClientResponse } from '../../api/client-request.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { channels } from '../../api/diagnostics.js';
import type { ConnectionHandlers, HandshakeRequest } from '../../api/handlers.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import { rememberPeer } from '../connection/peer-address.js';
import type { Reporter } from '../observe/reporter.js';
import type { ReactorStats } from '../observe/stats.js';
import type { Timeouts } from '../lifecycle/timeouts.js';
import type { Writer } from '../write/writer.js';
import type { ReactorContext, Role } from '../context.js';

/** The handlers an open connection's traffic reaches; `open` is given the request (server) or the response (client). */
export type InboundHandlers<OpenInfo> = Pick<
  ConnectionHandlers<unknown, OpenInfo>,
  'open' | 'message' | 'ping' | 'pong'
>;

/**
 * An open connection's incoming side. The handshake hands it the connection
 * (`opened`) and every byte after the head (`read`); it runs the receiver
 * over them in place and acts on what completes: counted, logged at debug,
 * answered where the RFC says so (Pong, the Close echo), and handed to the
 * shared handlers, whose exceptions end their own connection (1011) and
 * nothing else.
 */
export class Inbound<OpenInfo extends HandshakeRequest | ClientResponse> implements ReceiverSink<ConnectionRecord> {
  /** The receiver's configuration for connections without an extension. */
  readonly config: ReceiverConfig;
  /** The receiver's configuration for connections that negotiated the extension: its RSV bits allowed too (§5.2). */
  readonly extendedConfig: ReceiverConfig;
  private readonly stats: ReactorStats;
  private readonly reporter: Reporter;
  private readonly role: Role;

  constructor(
    ctx: ReactorContext,
    private readonly lifecycle: Lifecycle,
    private readonly timeouts: Timeouts,
    private readonly writer: Writer,
    private readonly handlers: InboundHandlers<OpenInfo>,
    /** The endpoint's extension (State.Extension on a connection that negotiated it); null when none is enabled. */
    private readonly extension: Extension | null,
  ) {
    ({ stats: this.stats, reporter: this.reporter, role: this.role } = ctx);
    this.config = {
      expectMasked: ctx.role === 'server',
      allowedRsv: 0,
      maxPayloadLength: ctx.options.maxMessageSize,
      minFragmentSize: ctx.options.minFragmentSize,
      lender: ctx.pool,
    };
    this.extendedConfig =
      this.extension === null
        ? this.config
        : { ...this.config, allowedRsv: this.config.allowedRsv | this.extension.rsv };
  }

  /** The 101 is on its way (server) or has arrived (client): the connection is open. */
  opened(conn: ConnectionRecord, request: OpenInfo): void {
    // Writing the 101 can fail (the peer reset meanwhile): then the connection ended unopened.
    const flags = conn.flags;
    if ((flags & State.Closed) !== 0) return;
    // A keep-alive connection that carried plain HTTP requests first is a WebSocket from now on.
    if ((flags & State.Http) !== 0) this.stats.httpNow--;
    conn.flags = (flags & ~(State.Handshaking | State.UpgradeDeciding | State.Http)) | State.Open;
    this.stats.opened++;
    this.stats.openNow++;
    this.timeouts.opened(conn);
    dropExtrasIfEmpty(conn);
    if (this.reporter.debug || channels.close.hasSubscribers) {
      const address = conn.remoteAddress;
      rememberPeer(conn, address); // for the close line: by then the socket may not know
      const info: HandshakeRequest | ClientResponse = request;
      const what = 'url' in info ? `${info.url} from` : 'to';
      if (this.reporter.debug)
        this.reporter.log('debug', `open ${what} ${address}${conn.protocol === '' ? '' : ` (${conn.protocol})`}`);
    }
    if (channels.open.hasSubscribers) channels.open.publish({ conn, request, role: this.role });
    const handler = this.handlers.open;
    if (handler === undefined) return;
    try {
      handler(conn, request);
    } catch (error) {
      this.lifecycle.handlerFailed(error, conn);
    }
  }

  /**
   * A caller's own "it is open" (handleUpgrade's callback), after the open
   * handler and before any message; skipped when that handler closed it. A
   * throw is a handler's: 1011 for this connection only.
   */
  afterOpen(conn: ConnectionRecord, callback: (conn: ConnectionRecord) => void): void {
    if ((conn.flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open) return;
    try {
      callback(conn);
    } catch (error) {
      this.lifecycle.handlerFailed(error, conn);
    }
  }

  /** Runs the receiver over `buf[start..end)`, bytes of an open connection. */
  read(conn: ConnectionRecord, buf: Buffer, start: number, end: number): void {
    if ((conn.flags & (State.Open | State.Closed | State.CloseReceived)) !== State.Open) return;
    receive(conn, buf, start, end, (conn.flags & State.Extension) === 0 ? this.config : this.extendedConfig, this);
    this.timeouts.received(conn);
  }

  onMessage(conn: ConnectionRecord, data: Buffer, isBinary: boolean, transformed: boolean): void {
    if (transformed) return this.onTransformed(conn, data, isBinary);
    this.stats.messagesIn++;
    if (this.reporter.debug)
      this.reporter.log('debug', `in ${isBinary ? 'binary' : 'text'} ${data.length} B from ${conn.remoteAddress}`);
    if ((conn.flags & State.CloseSent) !== 0) return; // closing: §7.1.2 data after our Close is discarded
    const handler = this.handlers.message;
    if (handler === undefined) return;
    try {
      handler(conn, data, isBinary);
    } catch (error) {
      this.lifecycle.handlerFailed(error, conn);
    }
  }

  /**
   * A message whose first frame carried the extension's RSV bit (only
   * possible once one was negotiated): transformed back by the extension
   * (permessage-deflate inflates within maxMessageSize; a zip bomb fails with
   * 1009 once that much came out), then, if text, checked as UTF-8 (1007),
   * then delivered like any other.
   */
  private onTransformed(conn: ConnectionRecord, data: Buffer, isBinary: boolean): void {
    const decoded = this.extension!.decode(conn, data);
    if (typeof decoded === 'number') return this.onError(conn, decoded);
    const buf = decoded.buf!;
    const length = decoded.length;
    decoded.buf = null;
    try {
      if (!isBinary && !isValidUtf8(buf, 0, length)) return this.onError(conn, ErrorKind.InvalidUtf8);
      this.onMessage(conn, buf.subarray(0, length), isBinary, false);
    } finally {
      this.extension!.recycle(buf);
    }
  }

  onPing(conn: ConnectionRecord, data: Buffer): void {
    if (this.reporter.debug) this.reporter.log('debug', `in ping ${data.length} B from ${conn.remoteAddress}`);
    // §5.5.2: answer with a Pong carrying the same application data, as soon as practical.
    if ((conn.flags & State.CloseSent) === 0) {
      if (this.reporter.debug) this.reporter.log('debug', `out pong ${data.length} B to ${conn.remoteAddress}`);
      this.writer.writeFrame(conn, Opcode.Pong, data);
    }
    this.control(this.handlers.ping, conn, data);
  }

  onPong(conn: ConnectionRecord, data: Buffer): void {
    if (this.reporter.debug) this.reporter.log('debug', `in pong ${data.length} B from ${conn.remoteAddress}`);
    this.control(this.handlers.pong, conn, data);
  }

  onClose(conn: ConnectionRecord, code: number, reason: string): void {
    if (this.reporter.debug)
      this.reporter.log('debug', `in close ${code} ${JSON.stringify(reason)} from ${conn.remoteAddress}`);
    this.lifecycle.closeReceived(conn, code, reason);
  }

  onError(conn: ConnectionRecord, kind: ErrorKindValue): void {
    this.stats.protocolErrors++;
    this.stats.protocolErrorsByKind[kind]!++; // an ErrorKind: in range
    const code = closeCodeFor(kind);
    if (this.reporter.logs('info'))
      this.reporter.log('info', `${new ProtocolError(kind).message} from ${conn.remoteAddress}: closing with ${code}`);
    if (channels.protocolError.hasSubscribers)
      channels.protocolError.publish({ conn, error: new ProtocolError(kind), code });
    this.lifecycle.fail(conn, code, reasonFor(kind));
  }

  /** Runs a ping or pong handler; a throw closes that connection with 1011. */
  private control(
    handler: ((conn: ConnectionRecord, data: Buffer) => void) | undefined,
    conn: ConnectionRecord,
    data: Buffer,
  ): void {
    if (handler === undefined) return;
    try {
      handler(conn, data);
    } catch (error) {
      this.lifecycle.handlerFailed(error, conn);
    }
  }
}
