import type { ReceiveProgress } from '../protocol/receive-progress.js';
import type { ReceiverState } from '../protocol/receiver.js';
import { State } from './connection-state.js';
import { ConnectionSide } from './connection-side.js';
import type { Link } from './link.js';
import type { Reactor, SendData } from './reactor.js';
import type { WheelEntry } from './timer-wheel.js';

/**
 * One WebSocket connection, as handlers see it.
 *
 * It holds only plain fields: the transport's handle, a flags word, its
 * place in the reactor's registry, two timer-wheel numbers, and two
 * references that stay null while the connection is idle. The reactor and
 * the link live on the prototype of a per-server subclass, so they cost
 * nothing per connection.
 */
export class Connection<UserData = unknown> implements ReceiverState, WheelEntry {
  declare readonly reactor: Reactor;
  declare readonly link: Link;

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
  side: ConnectionSide | null = null;
  /** Yours: set it in `open` or return it from `upgrade`. */
  data: UserData;

  constructor(handle: unknown, data: UserData) {
    this.handle = handle;
    this.data = data;
  }

  /**
   * The receiver's incomplete frame or message (receiver contract). It lives
   * in the side object, so an idle connection pays no field for it.
   */
  get progress(): ReceiveProgress | null {
    return this.side === null ? null : this.side.progress;
  }

  set progress(progress: ReceiveProgress | null) {
    if (progress !== null) (this.side ??= new ConnectionSide()).progress = progress;
    else if (this.side !== null) this.side.progress = null;
  }

  /** True while the reactor reads this connection (receiver contract). */
  get receiving(): boolean {
    return (this.flags & (State.Closed | State.CloseReceived)) === 0;
  }

  /** Open and not closing: `send` will be accepted. */
  get isOpen(): boolean {
    return (this.flags & (State.Open | State.CloseSent | State.Closed)) === State.Open;
  }

  /** Bytes accepted by `send` that the kernel has not taken yet. */
  get bufferedAmount(): number {
    return this.side === null ? 0 : this.side.bufferedAmount();
  }

  /** The subprotocol agreed in the handshake, or '' (§4.2.2). */
  get protocol(): string {
    return this.side?.protocol ?? '';
  }

  get remoteAddress(): string {
    return this.link.remoteAddress(this);
  }

  /**
   * Sends one message: a string as text, a buffer as binary unless `isBinary`
   * is false. Returns {@link SendResult}: written at once, queued behind
   * earlier data, or dropped (closed or over the buffer limit).
   */
  send(data: SendData, isBinary?: boolean): number {
    return this.reactor.send(this, data, isBinary ?? typeof data !== 'string');
  }

  /** Sends a Ping (§5.5.2); at most 125 bytes. */
  ping(data?: SendData): number {
    return this.reactor.sendControl(this, 0x9, data);
  }

  /** Sends an unsolicited Pong (§5.5.3), a one-way heartbeat. */
  pong(data?: SendData): number {
    return this.reactor.sendControl(this, 0xa, data);
  }

  /** Starts the closing handshake (§7.1.2); the socket closes when the peer answers or after closeTimeoutMs. */
  close(code?: number, reason?: string): void {
    this.reactor.close(this, code, reason);
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.reactor.terminate(this);
  }

  subscribe(topic: string): void {
    this.reactor.topics.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    this.reactor.topics.unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this.side?.topics?.has(topic) ?? false;
  }

  /** Stops reading this connection until `resume` (flow control in the handler's hands). */
  pause(): void {
    this.reactor.pause(this);
  }

  resume(): void {
    this.reactor.resume(this);
  }
}
