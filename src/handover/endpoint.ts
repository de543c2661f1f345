import { deserialize, serialize } from 'node:v8';
import type { TransportName } from '../api/options.js';
import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import { State } from '../reactor/connection/connection-state.js';
import type { ConnectionHandover, Readiness } from '../reactor/handover/connection-handover.js';
import type { ConnectionSnapshot } from '../reactor/handover/connection-snapshot.js';
import type { Reactor } from '../reactor/reactor.js';
import type { ListenAddress } from '../transport/listen-address.js';

/** What both transports do for a handover (handle-transport.ts, socket-transport.ts). */
export interface MovableTransport {
  readonly name: TransportName;
  quiesce(conn: ConnectionRecord): boolean;
  detach(conn: ConnectionRecord): unknown;
  adoptHandle(handle: unknown, conn?: ConnectionRecord): ConnectionRecord;
  startReading(conn: ConnectionRecord): void;
  dispose(conn: ConnectionRecord): void;
  listeners(): unknown[];
}

/** A connection taken out of this process, until the other one says it has it. */
export interface Departure {
  conn: ConnectionRecord;
  snapshot: ConnectionSnapshot;
  /** The descriptor's handle, to send. */
  handle: unknown;
  /** The snapshot as it travels (v8 serialization, base64: any IPC serialization carries a string). */
  wire: string;
}

/**
 * One server's side of a handover, for the processes' protocol
 * (sender.ts, receiver.ts): which connections there are, taking one out as
 * a handle and a snapshot, putting one in, and the listening sockets. Built
 * by the server over its reactor and transports.
 */
export class HandoverEndpoint {
  constructor(
    readonly reactor: Reactor,
    readonly handover: ConnectionHandover,
    /** The server's transport by name, made if needed (a socket-transport connection may land on a handle-transport server). */
    private readonly transport: (name: TransportName) => MovableTransport,
    /** Serves a listening handle from the old process; resolves with its address. */
    readonly serve: (handle: unknown, transport: TransportName) => Promise<ListenAddress>,
    readonly stopAccepting: () => void,
    /** The listening handles with the transport of each. */
    readonly listeners: () => { handle: unknown; transport: TransportName }[],
  ) {}

  /** Every connection now (a copy: the walk takes connections out). */
  connections(): ConnectionRecord[] {
    return [...this.reactor.ctx.registry];
  }

  readiness(conn: ConnectionRecord): Readiness {
    const readiness = this.handover.readiness(conn);
    // TLS: the session lives in OpenSSL, in this process.
    if (readiness === 'ready' && (conn.handle as { encrypted?: unknown }).encrypted === true) return 'unmovable';
    return readiness;
  }

  /**
   * Takes a `ready` connection out; 'wait' when bytes it read are not
   * handled yet (a paused socket's), 'refused' when `serialize` threw (it closes with 1012).
   */
  take(conn: ConnectionRecord): Departure | 'wait' | 'refused' {
    const transport = this.linkOf(conn);
    if (!transport.quiesce(conn)) {
      if ((conn.flags & State.Paused) === 0) transport.startReading(conn);
      return 'wait';
    }
    const snapshot = this.handover.release(conn);
    if (snapshot === null) return 'refused';
    const handle = transport.detach(conn);
    return { conn, snapshot, handle, wire: serialize({ transport: transport.name, snapshot }).toString('base64') };
  }

  /** The other process has it: close our copy of the descriptor, tell the application. */
  moved(departure: Departure): void {
    this.linkOf(departure.conn).dispose(departure.conn);
    this.handover.moved(departure.conn);
  }

  /** The move failed: the connection carries on here as if nothing happened. */
  keep(departure: Departure): void {
    const { conn, snapshot, handle } = departure;
    const transport = this.linkOf(conn);
    transport.adoptHandle(handle, conn);
    if (this.handover.restore(conn, snapshot, false) && (conn.flags & State.Paused) === 0) transport.startReading(conn);
  }

  refuse(conn: ConnectionRecord): void {
    this.handover.refuse(conn);
  }

  /** A connection from the old process: its handle and its snapshot as it travelled. */
  adopt(handle: unknown, wire: string): ConnectionRecord {
    const { transport: name, snapshot } = deserialize(Buffer.from(wire, 'base64')) as {
      transport: TransportName;
      snapshot: ConnectionSnapshot;
    };
    const transport = this.transport(name);
    const conn = transport.adoptHandle(handle);
    if (this.handover.restore(conn, snapshot, true) && (conn.flags & State.Paused) === 0) transport.startReading(conn);
    return conn;
  }

  private linkOf(conn: ConnectionRecord): MovableTransport {
    return this.transport(conn.link.name);
  }
}

/** Each server's endpoint, set by the server (server.ts), for the cluster's reload: not exported from the package. */
export const endpoints = new WeakMap<object, HandoverEndpoint>();

export function endpointOf(server: object): HandoverEndpoint {
  return endpoints.get(server)!;
}
