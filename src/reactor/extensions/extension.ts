import type { SendData, SendResult } from '../../api/send-result.js';
import type { StatsSnapshot } from '../../api/stats-snapshot.js';
import type { ParsedExtension } from '../../protocol/extensions.js';
import type { ErrorKindValue } from '../../protocol/protocol-error.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { Receivers } from '../write/writer.js';

/**
 * A message an extension has transformed on the way in: the bytes
 * `buf[0, length)`, in a pooled buffer that goes back through `recycle`.
 */
export interface TransformedMessage {
  buf: Buffer | null;
  length: number;
}

/**
 * What an extension holds for one connection, as a handover carries it to
 * another process: plain values only (structured clone).
 */
export type ExtensionSnapshot = object;

/** What stats() reports about the extension (its key stays `deflate`: public, and the only one so far). */
export type ExtensionStats = StatsSnapshot['deflate'];

/**
 * A WebSocket extension (RFC 6455 §9) as the reactor sees it: the one seam
 * between the reactor's parts and what an extension knows. The handshakes,
 * the inbound side, the send paths and the lifecycle ask "was an extension
 * negotiated?" (State.Extension, one bit test) and call this; they know
 * nothing of what it does. permessage-deflate (RFC 7692) is the one there is.
 *
 * A connection that negotiated it carries State.Extension in `flags` and may
 * use the extension's bits of `flags` (EXTENSION_SHIFT) and `extras.extension`
 * for what it agreed; a connection without it pays nothing more than that bit.
 */
export interface Extension {
  /** The extension's registered token (RFC 6455 §9.1), as offered in Sec-WebSocket-Extensions. */
  readonly name: string;
  /** The RSV bits it gives a meaning (Rsv.One …): allowed on a connection only once it is negotiated (§5.2). */
  readonly rsv: number;

  // ——— negotiation (RFC 6455 §9.1) ———

  /**
   * Server: the Sec-WebSocket-Extensions answer to the client's `offers`,
   * the connection marked with what was agreed; undefined to answer without
   * (a declined offer never fails the handshake).
   */
  respond(conn: ConnectionRecord, offers: readonly ParsedExtension[]): string | undefined;
  /** Client: what to offer, or undefined to offer nothing. */
  offer(): string | undefined;
  /**
   * Client: the server's accepted extensions (already checked to be ones we
   * offered), the connection marked with what was agreed; an error message
   * fails the connection (§9.1: an answer we cannot honour).
   */
  accept(conn: ConnectionRecord, extensions: readonly ParsedExtension[]): string | undefined;

  // ——— the inbound transform ———

  /**
   * A whole message whose first frame carried the extension's RSV bits,
   * transformed back: its bytes (give the buffer back with `recycle`), or
   * the error kind (and so the close code) to fail the connection with.
   */
  decode(conn: ConnectionRecord, data: Buffer): TransformedMessage | ErrorKindValue;
  /** Takes back the buffer of a TransformedMessage. */
  recycle(buf: Buffer): void;

  // ——— the outbound transform ———

  /**
   * One data message to `conn`: transformed and written as a frame with the
   * extension's RSV bits, or undefined for the caller to send it as it is
   * (the extension chose not to transform this one).
   */
  send(conn: ConnectionRecord, opcode: number, data: SendData, length: number): SendResult | undefined;
  /**
   * One data message to every open receiver but `except`: the extension
   * frames it once for all it can (plain for connections without the
   * extension). Returns how many it went to.
   */
  writeToMany(
    receivers: Receivers,
    opcode: number,
    data: SendData,
    length: number,
    except: ConnectionRecord | null,
  ): number;

  // ——— per-connection state, and the extension's own ———

  /** `conn` ended (closed, failed or lost), or left in a handover: release what it held. */
  release(conn: ConnectionRecord): void;
  /**
   * Handover: what `conn` holds (null: nothing beyond its `flags` bits), taken
   * before `release` as it leaves this process.
   */
  snapshot(conn: ConnectionRecord): ExtensionSnapshot | null;
  /**
   * Handover: `conn` arrived (or came back from a failed move) with this
   * snapshot; false when it cannot go on with it here (the memory budget
   * refused it): it is then closed with 1012.
   */
  restore(conn: ConnectionRecord, saved: ExtensionSnapshot | null): boolean;
  /** stats(): `connections` open connections negotiated it, `states` of them hold extension state. */
  stats(connections: number, states: number): ExtensionStats;
  /** The endpoint has shut down: release what the extension holds for all connections. */
  close(): void;
}
