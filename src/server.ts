import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { pickHandlers } from './handler-options.js';
import type { Handlers } from './reactor/handlers.js';
import type { EndpointOptions } from './reactor/options.js';
import { Reactor } from './reactor/reactor.js';
import type { StatsSnapshot } from './reactor/stats.js';
import type { SendData } from './reactor/send-result.js';
import type { TopicBridge } from './reactor/topic-bridge.js';
import { HandleTransport } from './transport/handle-transport.js';
import type { ListenAddress } from './transport/listen-address.js';
import { requireRawBindings } from './transport/raw-bindings.js';
import { SocketTransport } from './transport/socket-transport.js';
import { chooseTransport, type TransportChoice } from './transport/transport-choice.js';

export type { TransportChoice } from './transport/transport-choice.js';

export interface ServerOptions<UserData = unknown> extends EndpointOptions, Handlers<UserData> {
  /** 'handle' (raw libuv handles, densest), 'socket' (net/tls), or 'auto' (handle when available). Default 'auto'. */
  transport?: TransportChoice;
  /** Serve wss:// with these node:tls options (cert, key, ...). Implies the socket transport. */
  tls?: TlsOptions;
}

export interface CloseResult {
  /** Connections that finished the closing handshake (or were handshaking and dropped) in time. */
  closed: number;
  /** Connections still open at the timeout, dropped without a handshake. */
  terminated: number;
}

const HANDLER_NAMES = ['upgrade', 'open', 'message', 'close', 'ping', 'pong', 'drain', 'error'] as const;

/**
 * A WebSocket server: one reactor, one or two transports. `listen` serves
 * its own port; `handleUpgrade` serves upgrades of an existing http(s)
 * server. Both can be used at once.
 */
export class Server<UserData = unknown> {
  readonly reactor: Reactor;
  /** The transport `listen` uses: 'handle' or 'socket'. */
  readonly transport: 'handle' | 'socket';
  private readonly tls: TlsOptions | undefined;
  private handleTransport: HandleTransport | undefined;
  private socketTransport: SocketTransport | undefined;

  constructor(options: ServerOptions<UserData> = {}) {
    const handlers: Handlers<UserData> = pickHandlers(options, HANDLER_NAMES);
    this.reactor = new Reactor(options, handlers);
    this.tls = options.tls;
    this.transport = chooseTransport(options.transport ?? 'auto', this.tls !== undefined);
  }

  /** Listens on `port` (0 = any free port). Resolves with the bound address. */
  async listen(port: number, host?: string): Promise<ListenAddress> {
    this.reactor.start();
    if (this.transport === 'handle') return this.handles().listen(port, host);
    return this.sockets().listen(port, host, this.tls);
  }

  /**
   * Serves a listening socket passed from another process (cluster workers).
   * `handle` is the raw TCP handle received over IPC.
   */
  serve(handle: unknown): ListenAddress {
    this.reactor.start();
    return this.handles().serve(handle as Parameters<HandleTransport['serve']>[0]);
  }

  /** Takes over an upgrade request from a node:http/https server's 'upgrade' event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.reactor.start();
    this.sockets().handleUpgrade(request, socket, head);
  }

  /**
   * Sends to every open connection of this server; framed once. With
   * `{ remote: true }`, also to every connection of the other servers a topic
   * bridge reaches. Returns how many local connections it went to.
   */
  broadcast(data: SendData, isBinary?: boolean, options?: { remote?: boolean }): number {
    const binary = isBinary ?? typeof data !== 'string';
    return options?.remote === true ? this.reactor.broadcastEverywhere(data, binary) : this.reactor.broadcast(data, binary);
  }

  /**
   * Sends to every subscriber of `topic`, here (framed once) and on every
   * other server a topic bridge reaches. Returns how many local subscribers
   * it went to.
   */
  publish(topic: string, data: SendData, isBinary?: boolean): number {
    return this.reactor.publish(topic, data, isBinary ?? typeof data !== 'string');
  }

  /**
   * Plugs in a topic bridge (`redisTopics` from 'lightws/redis' does it for
   * you): publishes then reach the subscribers of other servers too. One at a time.
   */
  attachBridge(bridge: TopicBridge): void {
    this.reactor.attachBridge(bridge);
  }

  detachBridge(bridge: TopicBridge): void {
    this.reactor.detachBridge(bridge);
  }

  /** How many connections subscribe to `topic`. */
  subscribers(topic: string): number {
    return this.reactor.topics.count(topic);
  }

  stats(): StatsSnapshot & { transport: string } {
    return { ...this.reactor.snapshot(), transport: this.transport };
  }

  get connections(): number {
    return this.reactor.connectionCount;
  }

  /**
   * Stops accepting new connections; open ones carry on. In cluster mode a
   * full worker can do this so the kernel sends new connections to the
   * others (it spreads accepts unevenly among processes sharing a socket).
   */
  stopAccepting(): void {
    this.handleTransport?.stopListening();
    this.socketTransport?.stopListening();
  }

  /**
   * Graceful shutdown: stop accepting, send 1001 to every connection, wait up
   * to `timeoutMs` (default closeTimeoutMs) for them to close, then drop the rest.
   */
  async close(options: { timeoutMs?: number; code?: number; reason?: string } = {}): Promise<CloseResult> {
    this.stopAccepting();
    return this.reactor.shutdown(options.timeoutMs ?? this.reactor.options.closeTimeoutMs, options.code, options.reason);
  }

  private handles(): HandleTransport {
    return (this.handleTransport ??= new HandleTransport(this.reactor, requireRawBindings()));
  }

  private sockets(): SocketTransport {
    return (this.socketTransport ??= new SocketTransport(this.reactor));
  }
}

export function createServer<UserData = unknown>(options: ServerOptions<UserData> = {}): Server<UserData> {
  return new Server(options);
}
