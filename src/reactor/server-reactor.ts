import type { Handlers, HandshakeRequest } from '../api/handlers.js';
import type { EndpointOptions } from '../api/options.js';
import type { MetricsText } from '../api/stats-snapshot.js';
import type { ConnectionRecord } from './connection/connection-record.js';
import { State } from './connection/connection-state.js';
import { ServerHandshake } from './handshake/server-handshake.js';
import type { RefusedRequest } from './handshake/refusal-report.js';
import type { ServerRequest } from './handshake/server-request.js';
import { HttpExchange } from './http/http-exchange.js';
import type { RouteTable } from './http/route-table.js';
import { Reactor } from './reactor.js';

/**
 * The reactor in the server role: the parts every reactor has, then plain
 * HTTP on the same port and the server side of the opening handshake
 * (RFC 6455 §4.2), which reads what arrives before a connection is open.
 */
export class ServerReactor extends Reactor<HandshakeRequest> {
  protected readonly handshake: ServerHandshake;
  /** Plain HTTP requests on the server's port. */
  private readonly http: HttpExchange;
  /** What metricsPath serves instead of this server's own metrics (a cluster's worker serves the whole cluster's). */
  private metricsSource: MetricsText | undefined;

  constructor(
    options: EndpointOptions,
    handlers: Handlers,
    /** A server with routes: `handlers` are then the table's dispatchers. */
    routes?: RouteTable,
  ) {
    super(options, handlers, 'server');
    const parts = { writer: this.writer, lifecycle: this.lifecycle, flow: this.flow, timeouts: this.timeouts };
    this.http = new HttpExchange(
      this.ctx,
      parts,
      handlers.request,
      routes,
      () => this.metricsSource?.() ?? this.metrics(),
    );
    this.handshake = new ServerHandshake(
      this.ctx,
      { ...parts, inbound: this.inbound, http: this.http, extension: this.extension },
      handlers.upgrade,
      routes,
    );
  }

  /**
   * A request node:http already parsed (handleUpgrade): decided like one read
   * from the socket; `head` is what followed it; `opened` is told when it opens.
   */
  upgradeParsed(
    conn: ConnectionRecord,
    request: ServerRequest,
    head: Buffer,
    opened: ((conn: ConnectionRecord) => void) | undefined,
  ): void {
    this.handshake.upgrade(conn, request, head, 0, head.length, opened);
  }

  /** Answers an upgrade request that was not valid (handleUpgrade's own checks), then closes. */
  refuseUpgrade(
    conn: ConnectionRecord,
    status: number,
    message: string,
    headers?: Readonly<Record<string, string>>,
    request?: RefusedRequest,
  ): void {
    this.handshake.refuse(conn, status, message, headers, request);
  }

  /** Serves `source` at metricsPath instead of this server's own metrics (cluster.ts: every worker's, asked of the primary). */
  serveMetricsFrom(source: MetricsText): void {
    this.metricsSource = source;
  }

  /** Its queue drained: a connection that stopped reading its HTTP answers gets the requests held meanwhile read. */
  override flushed(conn: ConnectionRecord): void {
    super.flushed(conn);
    if ((conn.flags & (State.Handshaking | State.Pipelined)) === (State.Handshaking | State.Pipelined))
      this.handshake.readHeld(conn);
  }

  protected override beginDrain(): void {
    this.http.draining = true;
  }
}
