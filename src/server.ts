import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { pickHandlers } from './handler-options.js';
import type { Route } from './route.js';
import type { DataUpgradeDecision, Handlers, HandshakeRequest } from './api/handlers.js';
import type { Clients } from './api/clients.js';
import type { EndpointOptions, TransportName } from './api/options.js';
import type { Connection } from './api/connection.js';
import { ServerReactor } from './reactor/server-reactor.js';
import type { MetricsText } from './api/stats-snapshot.js';
import { RouteTable } from './reactor/http/route-table.js';
import type { StatsSnapshot } from './api/stats-snapshot.js';
import type { SendData } from './api/send-result.js';
import type { TopicBridge } from './api/topic-bridge.js';
import type { HandoverOptions, HandoverResult, SuccessorOptions } from './api/handover-options.js';
import { endpoints, HandoverEndpoint, type MovableTransport } from './handover/endpoint.js';
import { takesOver } from './handover/handover-env.js';
import { ConnectionHandover } from './reactor/handover/connection-handover.js';
import { HandleTransport } from './transport/handle-transport.js';
import type { CompactTlsTransport } from './transport/compact-tls-transport.js';
import type { ListenAddress } from './transport/listen-address.js';
import { requireRawBindings } from './transport/raw-bindings.js';
import { SocketTransport, type UpgradeOpened } from './transport/socket-transport.js';
import { chooseTransport, type TransportChoice } from './transport/transport-choice.js';

export type { TransportChoice } from './transport/transport-choice.js';

/** Everything a server takes but its handlers. */
export interface ServerSettings extends EndpointOptions {
  /** 'handle' (raw libuv handles, densest), 'socket' (net/tls), or 'auto' (handle when available). Default 'auto'. */
  transport?: TransportChoice;
  /**
   * Serve wss:// with these node:tls options (cert, key, ...). Implies the socket transport, unless
   * `compact: true` (experimental, issue #23): node:tls does the handshake over a raw libuv handle, and
   * TLS 1.3 connections then move to lightws's own record layer (docs/reliability.md, "TLS").
   */
  tls?: TlsOptions & { compact?: boolean };
  /**
   * Handler sets chosen by the request path (`route('/chat', {...})`): exact
   * paths first, then the longest `/prefix/*`; no match is answered 404. A
   * server with routes takes no handlers of its own but `error`.
   */
  routes?: readonly Route[];
}

export interface ServerOptions<UserData = unknown> extends ServerSettings, Handlers<UserData> {
  /** How connections move to a new process (`handover()`, a cluster's `reload()`): docs/guides/deploy-and-reload.md. */
  handover?: HandoverOptions<UserData>;
}

/**
 * The options of a server whose `upgrade` hook gives every connection it
 * accepts its data (it returns `{ data }` or a refusal, never nothing): its
 * handlers see `conn.data` as `UserData`, never undefined.
 */
export interface ServerOptionsWithData<UserData> extends ServerSettings, Omit<Handlers<UserData>, 'upgrade'> {
  handover?: HandoverOptions<UserData>;
  upgrade(request: HandshakeRequest): DataUpgradeDecision<UserData> | Promise<DataUpgradeDecision<UserData>>;
}

/** handleUpgrade's last argument, beyond ws's callback: the connection's first `data`, and the callback. */
export interface HandleUpgradeOptions<UserData> {
  /** `conn.data` from the start; an upgrade hook that returns data replaces it. */
  data?: UserData;
  /** Called once the connection is open, after the `open` handler (ws's handleUpgrade callback). */
  onOpen?: (conn: Connection<UserData>, request: IncomingMessage) => void;
}

export interface CloseResult {
  /** Connections that finished the closing handshake (or were handshaking and dropped) in time. */
  closed: number;
  /** Connections still open at the timeout, dropped without a handshake. */
  terminated: number;
}

/** Each server's reactor, for the few callers inside lightws that reach past the public API (serveMetricsFrom). */
const reactors = new WeakMap<object, ServerReactor>();

/**
 * What the server's `metricsPath` serves instead of its own metrics: in
 * cluster mode, every worker's, asked of the primary (cluster.ts). Not
 * exported from the package.
 */
export function serveMetricsFrom<UserData>(server: Server<UserData>, source: MetricsText): void {
  reactors.get(server)?.serveMetricsFrom(source);
}

const HANDLER_NAMES = ['request', 'upgrade', 'open', 'message', 'close', 'ping', 'pong', 'drain', 'error'] as const;

/**
 * A WebSocket server: one reactor, one or two transports. `listen` serves
 * its own port; `handleUpgrade` serves upgrades of an existing http(s)
 * server. Both can be used at once. Made by `createServer`, which types
 * `conn.data` (the package exports this class as a type only).
 */
export class Server<UserData = unknown> {
  /** The transport `listen` uses: 'handle' or 'socket'. (`handleUpgrade` always uses 'socket'; see `conn.transport`.) */
  readonly transport: TransportName;
  /** The open connections (ws: `wss.clients`): `size`, `forEach`, `for…of`. Closing ones included, handshaking ones not. */
  readonly clients: Clients<UserData>;
  private readonly reactor: ServerReactor;
  private readonly tls: (TlsOptions & { compact?: boolean }) | undefined;
  private handleTransport: HandleTransport<ServerReactor> | undefined;
  private socketTransport: SocketTransport<ServerReactor> | undefined;
  private compactTransport: CompactTlsTransport | undefined;
  /** Where `listen` bound, to bind again if a handover fails after this server let its sockets go. */
  private readonly bound: [number, string | undefined][] = [];

  constructor(options: ServerOptions<UserData> = {}) {
    const handlers: Handlers<UserData> = pickHandlers(options, HANDLER_NAMES);
    if (options.routes === undefined) {
      this.reactor = new ServerReactor(options, handlers);
    } else {
      const own = HANDLER_NAMES.filter((name) => name !== 'error' && handlers[name] !== undefined);
      if (own.length > 0)
        throw new TypeError(`a server with routes takes its handlers per route, not ${own.join(', ')}`);
      const table = new RouteTable(options.routes);
      this.reactor = new ServerReactor(options, { ...table.dispatchers(), error: handlers.error }, table);
    }
    this.clients = this.reactor.openConnections as Clients as Clients<UserData>;
    reactors.set(this, this.reactor);
    this.tls = options.tls;
    this.transport =
      this.tls?.compact === true ? 'handle' : chooseTransport(options.transport ?? 'auto', this.tls !== undefined);
    const transport = (name: TransportName): MovableTransport => (name === 'handle' ? this.handles() : this.sockets());
    endpoints.set(
      this,
      new HandoverEndpoint(
        this.reactor,
        new ConnectionHandover(this.reactor, options.handover ?? {}),
        transport,
        (handle, name) => {
          this.reactor.start();
          return name === 'handle'
            ? Promise.resolve(this.handles().serve(handle as Parameters<HandleTransport['serve']>[0]))
            : this.sockets().serve(handle, this.tls);
        },
        () => this.stopAccepting(),
        () => [
          ...(this.handleTransport?.listeners() ?? []).map((handle) => ({ handle, transport: 'handle' as const })),
          ...(this.socketTransport?.listeners() ?? []).map((handle) => ({ handle, transport: 'socket' as const })),
        ],
      ),
    );
  }

  /**
   * Listens on `port` (0 = any free port). Resolves with the bound address.
   * In a process started by another's `handover()`, the first `listen`
   * serves that process's listening sockets instead, and adopts its connections.
   */
  async listen(port: number, host?: string): Promise<ListenAddress> {
    this.reactor.start();
    if (this.tls?.compact === true) {
      // Compact TLS listens on its own transport; a handover does not pass its sockets (TLS connections close with 1012).
      // Loaded here, not with the server: a process that never serves compact TLS never compiles its record layer.
      if (this.compactTransport === undefined) {
        const { CompactTlsTransport } = await import('./transport/compact-tls-transport.js');
        this.compactTransport ??= new CompactTlsTransport(this.reactor, requireRawBindings(), this.tls);
      }
      return this.compactTransport.listen(port, host);
    }
    if (takesOver()) {
      const { takeOver } = await import('./handover/successor.js');
      const address = await takeOver(endpoints.get(this)!);
      if (address !== undefined) return address;
    }
    const address =
      this.transport === 'handle'
        ? await this.handles().listen(port, host)
        : await this.sockets().listen(port, host, this.tls);
    this.bound.push([address.port, host]);
    return address;
  }

  /**
   * Zero-downtime restart of a single process (docs/guides/deploy-and-reload.md): starts a new
   * process running this script as it is on disk now, hands it the listening
   * sockets and every open connection (descriptor and state: peers see
   * nothing), and resolves once done. What cannot move (TLS, a deflate
   * window) is closed with 1012 and counted; closing connections finish
   * here. Then end this process: `await server.close(); process.exit(0)`.
   * If the new process fails, it is killed, every connection not yet passed
   * stays here, this server listens again, and the result says why.
   */
  async handover(options: SuccessorOptions = {}): Promise<HandoverResult> {
    // Loaded on the first handover only: what a process that never hands over need not carry.
    const { handOverToSuccessor } = await import('./handover/successor.js');
    return handOverToSuccessor(endpoints.get(this)!, options, async () => {
      for (const [port, host] of this.bound.splice(0)) await this.listen(port, host);
    });
  }

  /**
   * Serves a listening socket passed from another process (cluster workers).
   * `handle` is the raw TCP handle received over IPC.
   */
  serve(handle: unknown): ListenAddress {
    this.reactor.start();
    return this.handles().serve(handle as Parameters<HandleTransport['serve']>[0]);
  }

  /**
   * Takes over an upgrade request from a node:http/https server's 'upgrade'
   * event (Express, Fastify, ... included). The request is used as node:http
   * parsed it, and reaches the upgrade hook and `open` as
   * `request.httpRequest`, with whatever your middleware put on it. The last
   * argument is ws's callback (called with the connection once it is open),
   * or `{ data, onOpen }`.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callbackOrOptions?:
      ((conn: Connection<UserData>, request: IncomingMessage) => void) | HandleUpgradeOptions<UserData>,
  ): void {
    this.reactor.start();
    const options = typeof callbackOrOptions === 'function' ? { onOpen: callbackOrOptions } : callbackOrOptions;
    this.sockets().handleUpgrade(request, socket, head, options?.data, options?.onOpen as UpgradeOpened | undefined);
  }

  /**
   * Sends to every open connection of this server; framed once. With
   * `{ remote: true }`, also to every connection of the other servers a topic
   * bridge reaches. Returns how many local connections it went to.
   */
  broadcast(data: SendData, isBinary?: boolean, options?: { remote?: boolean }): number {
    const binary = isBinary ?? typeof data !== 'string';
    return options?.remote === true
      ? this.reactor.broadcastEverywhere(data, binary)
      : this.reactor.broadcast(data, binary);
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

  stats(): StatsSnapshot {
    return this.reactor.snapshot();
  }

  /**
   * `stats()` in the Prometheus text exposition format (0.0.4), what
   * `metricsPath` serves: for your own HTTP server's `/metrics`.
   */
  metrics(): string {
    return this.reactor.metrics();
  }

  /** Connections held, handshaking ones included (`clients.size` counts the open ones). */
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
    this.compactTransport?.stopListening();
  }

  /**
   * Graceful shutdown: stop accepting, send 1001 to every connection, wait up
   * to `timeoutMs` (default closeTimeoutMs) for them to close, then drop the rest.
   */
  async close(options: { timeoutMs?: number; code?: number; reason?: string } = {}): Promise<CloseResult> {
    this.stopAccepting();
    return this.reactor.shutdown(
      options.timeoutMs ?? this.reactor.options.closeTimeoutMs,
      options.code,
      options.reason,
    );
  }

  private handles(): HandleTransport<ServerReactor> {
    return (this.handleTransport ??= new HandleTransport(this.reactor, requireRawBindings()));
  }

  private sockets(): SocketTransport<ServerReactor> {
    return (this.socketTransport ??= new SocketTransport(this.reactor));
  }
}

/**
 * Makes a server. `conn.data` is typed `UserData` when the `upgrade` hook
 * returns data for every connection it accepts, else `UserData | undefined`
 * (it is undefined at run time until something sets it).
 */
export function createServer<UserData>(options: ServerOptionsWithData<UserData>): Server<UserData>;
export function createServer<UserData = unknown>(
  options?: ServerOptions<UserData | undefined>,
): Server<UserData | undefined>;
export function createServer(options: ServerOptions = {}): Server {
  return new Server(options);
}
