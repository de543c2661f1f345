import type { Clients } from '../../api/clients.js';
import { State } from './connection-state.js';
import type { ConnectionRecord } from './connection-record.js';
import type { Connection as PublicConnection } from '../../api/connection.js';
import type { ConnectionRegistry } from './registry.js';
import type { ReactorStats } from '../observe/stats.js';

/**
 * `server.clients`: the open connections (ws's `wss.clients`), as a view of
 * the reactor's registry rather than a Set of its own, so that holding a
 * connection costs no entry anywhere. Open means the 101 went out and the
 * socket is not gone yet: closing connections are included, as in ws, and
 * handshaking ones are not. A walk is safe while connections leave (they are
 * skipped from then on); connections that open during a walk are not visited.
 */
export class OpenConnections<UserData = unknown> implements Clients<UserData> {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly stats: ReactorStats,
  ) {}

  /** How many: kept as a count, not counted when asked. */
  get size(): number {
    return this.stats.openNow;
  }

  /** Calls `visit` for each open connection; allocates nothing per connection. */
  forEach(visit: (conn: PublicConnection<UserData>) => void): void {
    this.registry.forEach((conn) => {
      if (isOpened(conn)) visit(conn as PublicConnection<unknown> as PublicConnection<UserData>);
    });
  }

  /** `for (const conn of server.clients)`: finish the loop or `break` out of it (an abandoned iterator holds the walk open). */
  *[Symbol.iterator](): Iterator<PublicConnection<UserData>> {
    for (const conn of this.registry) {
      if (isOpened(conn)) yield conn as PublicConnection<unknown> as PublicConnection<UserData>;
    }
  }
}

/** Opened, and (being in the registry) not finished. */
function isOpened(conn: ConnectionRecord): boolean {
  return (conn.flags & (State.Open | State.Closed)) === State.Open;
}
