import type { ConnectionRecord } from './connection-record.js';

/**
 * Peers' addresses remembered at the open, only while the server logs at
 * debug or someone listens on `lightws:connection:close`: once both sides
 * have closed, the socket can no longer say who the peer was, and the close
 * line (and message) must. One WeakMap entry per connection then (debug
 * logging already costs far more, per frame); none at all otherwise.
 */
const remembered = new WeakMap<ConnectionRecord, string>();

export function rememberPeer(conn: ConnectionRecord, address: string): void {
  remembered.set(conn, address);
}

/** The address remembered at the open, or what the socket says now. */
export function peerAddress(conn: ConnectionRecord): string {
  return remembered.get(conn) ?? conn.remoteAddress;
}

/** Did the connection come over TLS? A TLSSocket (socket transport, or one given to handleUpgrade) says so by `encrypted`. */
export function isTls(conn: ConnectionRecord): boolean {
  return (conn.handle as { encrypted?: unknown } | null)?.encrypted === true;
}
