import type { ClientRequest, ClientResponse } from '../api/client-request.js';
import type { ConnectionHandlers } from '../api/handlers.js';
import type { EndpointOptions } from '../api/options.js';
import type { ConnectionRecord } from './connection/connection-record.js';
import { ClientHandshake } from './handshake/client-handshake.js';
import { Reactor } from './reactor.js';

/** The client's handlers, and what a client needs besides: to hear of a connection that ended before it opened. */
export interface ClientReactorHandlers extends ConnectionHandlers<unknown, ClientResponse> {
  /** The connect of `conn` failed (TCP, TLS or the handshake): its promise is rejected with `error`. */
  abandoned(conn: ConnectionRecord, error: Error): void;
}

/**
 * The reactor in the client role: the parts every reactor has (its writer
 * masks every frame, RFC 6455 §5.3), then the client side of the opening
 * handshake (§4.1), which sends the request and checks the 101.
 */
export class ClientReactor extends Reactor<ClientResponse> {
  protected readonly handshake: ClientHandshake;

  constructor(options: EndpointOptions, handlers: ClientReactorHandlers) {
    super(options, handlers, 'client');
    this.handshake = new ClientHandshake(this.pool, this.writer, this.lifecycle, this.inbound, this.extension);
  }

  /** A TCP connection is up: register it and send the upgrade request. */
  connected(conn: ConnectionRecord, request: ClientRequest): void {
    this.accept(conn);
    this.handshake.start(conn, request);
  }
}
