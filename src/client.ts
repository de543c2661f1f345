import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { pickHandlers } from './handler-options.js';
import type { ClientResponse } from './api/client-request.js';
import type { ConnectionRecord as ReactorConnection } from './reactor/connection/connection-record.js';
import type { ConnectionHandlers } from './api/handlers.js';
import { ClientReactor, type ClientReactorHandlers } from './reactor/client-reactor.js';
import type { EndpointOptions, TransportName } from './api/options.js';
import type { Connection } from './api/connection.js';
import type { StatsSnapshot } from './api/stats-snapshot.js';
import { HandleTransport } from './transport/handle-transport.js';
import { requireRawBindings } from './transport/raw-bindings.js';
import { SocketTransport } from './transport/socket-transport.js';
import { chooseTransport, type TransportChoice } from './transport/transport-choice.js';

/** Client handlers: those of every connection, `open` given the server's response instead of a request. */
export interface ClientHandlers<UserData = unknown> extends ConnectionHandlers<UserData, ClientResponse> {}

export interface ClientOptions<UserData = unknown>
  extends
    Omit<
      EndpointOptions,
      'checkOrigin' | 'protocols' | 'maxHeaderSize' | 'maxRequestBodySize' | 'healthPath' | 'metricsPath'
    >,
    ClientHandlers<UserData> {
  /** 'handle' (raw libuv handles), 'socket' (net/tls), or 'auto'. wss:// always uses 'socket'. */
  transport?: TransportChoice | undefined;
  /** node:tls options for wss:// (ca, rejectUnauthorized, ...). */
  tls?: ConnectionOptions | undefined;
}

/**
 * `connect`'s options. `data` is the connection's `conn.data`; a client whose
 * `UserData` does not include undefined must give it to every `connect`, so
 * that its handlers can rely on it.
 */
export type ConnectOptions<UserData = unknown> = ConnectSettings &
  (undefined extends UserData ? { data?: UserData } : { data: UserData });

export interface ConnectSettings {
  /** Source address to connect from, e.g. '127.0.0.7': a load generator spreads over 127.0.0.0/8. */
  localAddress?: string | undefined;
  /**
   * Source port, with localAddress. Letting the kernel pick (the default) slows down badly past
   * ~18k bound sockets on Linux, whose free-port search is global: a load generator that opens
   * tens of thousands of connections should choose ports itself.
   */
  localPort?: number | undefined;
  protocols?: readonly string[] | undefined;
  origin?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
}

const HANDLER_NAMES = ['open', 'message', 'close', 'ping', 'pong', 'drain', 'error'] as const;

/**
 * lightws in the client role: the same reactor, slab, receiver and writer
 * as the server, masking what it sends (RFC 6455 §5.3). One client holds
 * many connections; it is what our load generators and tests are built on.
 */
export class Client<UserData = unknown> {
  private readonly reactor: ClientReactor;
  private readonly transport: TransportName;
  private readonly tls: ConnectionOptions | undefined;
  private handleTransport: HandleTransport<ClientReactor> | undefined;
  private socketTransport: SocketTransport<ClientReactor> | undefined;
  private readonly pending = new Map<
    ReactorConnection,
    { resolve: (conn: Connection<UserData>) => void; reject: (error: Error) => void }
  >();

  constructor(options: ClientOptions<UserData> = {}) {
    const user = pickHandlers(options, HANDLER_NAMES);
    const userOpen = options.open;
    const handlers: ClientReactorHandlers = {
      ...(user as ConnectionHandlers<unknown, ClientResponse>),
      open: (conn, response) => {
        const waiter = this.pending.get(conn as ReactorConnection);
        this.pending.delete(conn as ReactorConnection);
        userOpen?.(conn as Connection<UserData>, response);
        waiter?.resolve(conn as Connection<UserData>);
      },
      abandoned: (conn, error) => {
        const waiter = this.pending.get(conn);
        this.pending.delete(conn);
        waiter?.reject(error);
      },
    };
    this.reactor = new ClientReactor(
      { ...options, maxConnections: options.maxConnections ?? Number.MAX_SAFE_INTEGER },
      handlers,
    );
    this.tls = options.tls;
    // wss:// connections take the socket transport whatever this chooses.
    this.transport = chooseTransport(options.transport ?? 'auto', false);
  }

  /** Opens a WebSocket to `url` (ws:// or wss://). Resolves when it is open, rejects if TCP, TLS or the handshake fails. */
  async connect(
    url: string | URL,
    ...[options = {} as ConnectOptions<UserData>]: undefined extends UserData
      ? [options?: ConnectOptions<UserData>]
      : [options: ConnectOptions<UserData>]
  ): Promise<Connection<UserData>> {
    const target = new URL(url);
    if (target.protocol !== 'ws:' && target.protocol !== 'wss:')
      throw new TypeError(`not a WebSocket URL: ${String(url)}`);
    const secure = target.protocol === 'wss:';
    const port = Number(target.port || (secure ? 443 : 80));
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    const request = {
      host: target.host,
      path: `${target.pathname || '/'}${target.search}`,
      protocols: options.protocols,
      origin: options.origin,
      headers: options.headers,
    };
    this.reactor.start();
    return new Promise<Connection<UserData>>((resolve, reject) => {
      const failed = (error: Error): void => reject(error);
      const track = (conn: ReactorConnection): void => {
        if (options.data !== undefined) conn.data = options.data;
        this.pending.set(conn, { resolve, reject });
      };
      if (secure || this.transport === 'socket') {
        this.sockets().connect(
          hostname,
          port,
          options.localAddress,
          options.localPort,
          secure ? { ...this.tls } : undefined,
          request,
          failed,
          track,
        );
        return;
      }
      resolveAddress(hostname).then(
        (address) =>
          this.handles().connect(address, port, options.localAddress, options.localPort, request, failed, track),
        failed,
      );
    });
  }

  stats(): StatsSnapshot {
    return this.reactor.snapshot();
  }

  get connections(): number {
    return this.reactor.connectionCount;
  }

  /** Closes every connection (1000 by default), waits up to `timeoutMs`, then drops the rest. */
  async close(options: { timeoutMs?: number; code?: number; reason?: string } = {}): Promise<void> {
    await this.reactor.shutdown(options.timeoutMs ?? 2000, options.code ?? 1000, options.reason ?? '');
  }

  private handles(): HandleTransport<ClientReactor> {
    return (this.handleTransport ??= new HandleTransport(this.reactor, requireRawBindings()));
  }

  private sockets(): SocketTransport<ClientReactor> {
    return (this.socketTransport ??= new SocketTransport(this.reactor));
  }
}

async function resolveAddress(hostname: string): Promise<string> {
  return isIP(hostname) !== 0 ? hostname : (await lookup(hostname)).address;
}

export function createClient<UserData = unknown>(options: ClientOptions<UserData> = {}): Client<UserData> {
  return new Client(options);
}
