import { CloseCode } from '../protocol/close-code.js';
import { encodeClosePayload } from '../protocol/close-payload.js';
import { Opcode } from '../protocol/opcode.js';
import { closeCodeFor, ProtocolError, reasonFor, type ErrorKindValue } from '../protocol/protocol-error.js';
import type { ReceiverSink } from '../protocol/receiver.js';
import { State } from './connection-state.js';
import type { Connection } from './connection.js';
import { logs } from './options.js';
import type { Reactor } from './reactor.js';
import { sideOf } from './writer.js';

const EMPTY = Buffer.alloc(0);

/**
 * What happens to each message and control frame the receiver completes:
 * counted, logged at debug, answered where the RFC says so (Pong, Close
 * echo), and handed to the shared handlers, whose exceptions end their own
 * connection (1011) and nothing else.
 */
export class Dispatch implements ReceiverSink<Connection> {
  constructor(
    private readonly reactor: Reactor,
    private readonly debug: boolean,
  ) {}

  onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    const reactor = this.reactor;
    reactor.stats.messagesIn++;
    if (this.debug) reactor.log('debug', `in ${isBinary ? 'binary' : 'text'} ${data.length} B from ${conn.remoteAddress}`);
    if ((conn.flags & State.CloseSent) !== 0) return; // closing: §7.1.2 data after our Close is discarded
    const handler = reactor.handlers.message;
    if (handler === undefined) return;
    try {
      handler(conn, data, isBinary);
    } catch (error) {
      this.handlerFailed(error, conn);
    }
  }

  onPing(conn: Connection, data: Buffer): void {
    if (this.debug) this.reactor.log('debug', `in ping ${data.length} B from ${conn.remoteAddress}`);
    // §5.5.2: answer with a Pong carrying the same application data, as soon as practical.
    if ((conn.flags & State.CloseSent) === 0) {
      if (this.debug) this.reactor.log('debug', `out pong ${data.length} B to ${conn.remoteAddress}`);
      this.reactor.writer.writeFrame(conn, Opcode.Pong, data);
    }
    this.call(this.reactor.handlers.ping, conn, data);
  }

  onPong(conn: Connection, data: Buffer): void {
    if (this.debug) this.reactor.log('debug', `in pong ${data.length} B from ${conn.remoteAddress}`);
    this.call(this.reactor.handlers.pong, conn, data);
  }

  onClose(conn: Connection, code: number, reason: string): void {
    if (this.debug) this.reactor.log('debug', `in close ${code} ${JSON.stringify(reason)} from ${conn.remoteAddress}`);
    conn.flags |= State.CloseReceived;
    const side = sideOf(conn);
    side.closeCode = code;
    side.closeReason = reason;
    // §5.5.1: echo the status code, then (§7.1.1) the server closes TCP first.
    if ((conn.flags & State.CloseSent) === 0) {
      conn.flags |= State.CloseSent;
      this.reactor.writer.writeFrame(conn, Opcode.Close, code === CloseCode.NoStatusReceived ? EMPTY : encodeClosePayload(code));
    }
    this.reactor.endAfterFlush(conn);
  }

  onError(conn: Connection, kind: ErrorKindValue): void {
    const reactor = this.reactor;
    reactor.stats.protocolErrors++;
    const code = closeCodeFor(kind);
    if (logs(reactor.options.logLevel, 'info')) reactor.log('info', `${new ProtocolError(kind).message} from ${conn.remoteAddress}: closing with ${code}`);
    reactor.fail(conn, code, reasonFor(kind));
  }

  /** Runs a (conn) or (conn, data) handler; a throw closes that connection with 1011. */
  call(handler: ((conn: Connection, data: Buffer) => void) | undefined, conn: Connection, data: Buffer): void {
    if (handler === undefined) return;
    try {
      handler(conn, data);
    } catch (error) {
      this.handlerFailed(error, conn);
    }
  }

  /** A handler threw: report it and close its connection with 1011. */
  handlerFailed(error: unknown, conn: Connection): void {
    this.reactor.stats.handlerErrors++;
    this.reactor.report(error, conn);
    this.reactor.fail(conn, CloseCode.InternalError, 'internal error');
  }
}
