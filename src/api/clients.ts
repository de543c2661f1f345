import type { Connection } from './connection.js';

/**
 * `server.clients`, as users see it (ws's `wss.clients`): the open
 * connections, counted and walked. Not a Set: nothing to add or delete.
 */
export interface Clients<UserData = unknown> extends Iterable<Connection<UserData>> {
  /** How many connections are open (closing ones included, handshaking ones not). */
  readonly size: number;
  /** Calls `visit` for each open connection; allocates nothing per connection. */
  forEach(visit: (conn: Connection<UserData>) => void): void;
}
