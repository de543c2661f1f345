import { Opcode } from '../../protocol/opcode.js';
import type { ReceiveProgress } from '../../protocol/receive-progress.js';
import type { ReceiverState } from '../../protocol/receiver.js';
import { ConnectionExtras } from './connection-extras.js';
import { State } from './connection-state.js';
import type { Link } from './link.js';
import type { Connection as PublicConnection } from '../../api/connection.js';
import type { TransportName } from '../../api/options.js';
import type { SendData, SendResult } from '../../api/send-result.js';
import type { WheelEntry } from '../lifecycle/timer-wheel.js';

/**
 * What a connection's public methods are carried out by: the reactor
 * (structural, so that this file does not import the reactor).
 */
export interface ConnectionOps {
  send(conn: ConnectionRecord, data: SendData, isBinary: boolean): SendResult;
  sendControl(conn: ConnectionRecord, opcode: number, data: SendData | undefined): SendResult;
  close(conn: ConnectionRecord, code: number | undefined, reason: string | undefined): void;
  terminate(conn: ConnectionRecord): void;
  subscribe(conn: ConnectionRecord, topic: string): void;
  unsubscribe(conn: ConnectionRecord, topic: string): void;
  publish(topic: string, data: SendData, isBinary: boolean, except: ConnectionRecord | null): number;
  pause(conn: ConnectionRecord): void;
  resume(conn: ConnectionRecord): void;
  /** Bytes sent to `conn` this loop turn and gathered for the turn's single write. */
  owed(conn: ConnectionRecord): number;
}

/**
 * One WebSocket connection: the reactor's object, which handlers see through
 * the public interface (api/connection.ts) and nothing more. Not exported
 * from the package: its fields are the reactor's to write.
 *
 * It holds only plain fields: the transport's handle, a flags word, its
 * place in the reactor's registry, two timer-wheel numbers, and one reference
 * that stays null while the connection is idle. The reactor (`ops`) and the
 * link live on the prototype of a per-transport subclass, so they cost
 * nothing per connection.
 */
export class ConnectionRecord<UserData = unknown> implements PublicConnection<UserData>, ReceiverState, WheelEntry {
  declare readonly ops: ConnectionOps;
  declare readonly link: Link<ConnectionRecord>;

  /** The transport's handle: a libuv TCP handle or a net/tls socket. */
  handle: unknown;
  /** Bits of {@link State}. */
  flags: number = State.Handshaking;
  /** Position in the reactor's registry (swap-remove); -1 once removed. */
  index = -1;
  deadline = 0;
  wheelTick = 0;
  /**
   * Handshake bytes, a partial frame or message, pending writes, topics, the
   * subprotocol: null while idle and unused.
   */
  extras: ConnectionExtras | null = null;
  /** Yours: set it in `open` or return it from `upgrade`. */
  data: UserData;

  constructor(handle: unknown, data: UserData) {
    this.handle = handle;
    this.data = data;
  }

  /**
   * The receiver's incomplete frame or message (receiver contract). It lives
   * in the extras, so an idle connection pays no field for it.
   */
  get progress(): ReceiveProgress | null {
    return this.extras === null ? null : this.extras.progress;
  }

  set progress(progress: ReceiveProgress | null) {
    if (progress !== null) (this.extras ??= new ConnectionExtras()).progress = progress;
    else if (this.extras !== null) this.extras.progress = null;
  }

  /** True while the reactor reads this connection (receiver contract). */
  get receiving(): boolean {
    return (this.flags & (State.Closed | State.CloseReceived)) === 0;
  }

  /** Open and not closing: `send` will be accepted. */
  get isOpen(): boolean {
    return (this.flags & (State.Open | State.CloseSent | State.Closed)) === State.Open;
  }

  /** Bytes accepted by `send` that the kernel has not taken yet: queued, and gathered for this loop turn's write. */
  get bufferedAmount(): number {
    const owed = (this.flags & State.Batched) === 0 ? 0 : this.ops.owed(this);
    return owed + (this.extras === null ? 0 : this.extras.bufferedAmount());
  }

  /** The subprotocol agreed in the handshake, or '' (§4.2.2). */
  get protocol(): string {
    return this.extras?.protocol ?? '';
  }

  get remoteAddress(): string {
    return this.link.remoteAddress(this);
  }

  /** From the link on the prototype: which transport carries it costs no field. */
  get transport(): TransportName {
    return this.link.name;
  }

  /**
   * Sends one message: a string as text, a buffer as binary unless `isBinary`
   * is false. Returns {@link SendResult}: written at once, queued behind
   * earlier data, or dropped (closed or over the buffer limit).
   */
  send(data: SendData, isBinary?: boolean): SendResult {
    return this.ops.send(this, data, isBinary ?? typeof data !== 'string');
  }

  /** Sends a Ping (§5.5.2); at most 125 bytes. */
  ping(data?: SendData): SendResult {
    return this.ops.sendControl(this, Opcode.Ping, data);
  }

  /** Sends an unsolicited Pong (§5.5.3), a one-way heartbeat. */
  pong(data?: SendData): SendResult {
    return this.ops.sendControl(this, Opcode.Pong, data);
  }

  /** Starts the closing handshake (§7.1.2); the socket closes when the peer answers or after closeTimeoutMs. */
  close(code?: number, reason?: string): void {
    this.ops.close(this, code, reason);
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.ops.terminate(this);
  }

  subscribe(topic: string): void {
    this.ops.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    this.ops.unsubscribe(this, topic);
  }

  /**
   * Sends to every subscriber of `topic` but this connection, here and on
   * every other server a topic bridge reaches (as uWebSockets.js's
   * `ws.publish`). Returns how many local subscribers it went to.
   */
  publish(topic: string, data: SendData, isBinary?: boolean): number {
    return this.ops.publish(topic, data, isBinary ?? typeof data !== 'string', this);
  }

  isSubscribed(topic: string): boolean {
    return this.extras?.topics?.has(topic) ?? false;
  }

  /** Stops reading this connection until `resume` (flow control in the handler's hands). */
  pause(): void {
    this.ops.pause(this);
  }

  resume(): void {
    this.ops.resume(this);
  }
}
