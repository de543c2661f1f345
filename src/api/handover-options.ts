import type { Connection } from './connection.js';

/**
 * How a server's connections move to another process (`server.handover()`,
 * a cluster's `reload()`; docs/reload.md). Every open connection travels
 * with its descriptor, its protocol state, its topics and `conn.data`.
 */
export interface HandoverOptions<UserData = unknown> {
  /**
   * Turns `conn.data` into something the structured clone algorithm can copy
   * (no functions, sockets, class instances you need back as such). Default:
   * the data itself. A throw makes that connection close with 1012 instead.
   */
  serialize?(data: UserData, conn: Connection<UserData>): unknown;
  /** In the new process: `conn.data` again from what `serialize` returned. Default: the value itself. */
  restore?(value: unknown, conn: Connection<UserData>): UserData;
  /**
   * In the old process: `conn` has left for the new one (it is closed here,
   * and `close` is not called for it): release what you keep for it.
   */
  moved?(conn: Connection<UserData>): void;
  /**
   * In the new process, instead of `open` (which is not called again): `conn`
   * arrived open, with its data and topics; re-attach what you keep per
   * connection. Reading starts when this returns.
   */
  adopted?(conn: Connection<UserData>): void;
}
