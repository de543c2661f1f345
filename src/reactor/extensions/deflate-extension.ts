import type { DeflateEngine } from '../../compression/deflate-engine.js';
import type { DeflateSession, DeflateSessionSnapshot } from '../../compression/deflate-session.js';
import { CodecOutput } from '../../compression/message-codec.js';
import type { BufferPool } from '../../pool/buffer-pool.js';
import { CloseCode } from '../../protocol/close-code.js';
import type { ParsedExtension } from '../../protocol/extensions.js';
import { Rsv } from '../../protocol/frame-header.js';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  deflateOffer,
  PERMESSAGE_DEFLATE,
  type DeflateAgreement,
  type DeflatePolicy,
} from '../../protocol/permessage-deflate.js';
import type { ErrorKindValue } from '../../protocol/protocol-error.js';
import { extrasOf } from '../connection/connection-extras.js';
import { EXTENSION_MASK, EXTENSION_SHIFT, State } from '../connection/connection-state.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import { SendResult, bytesOf, type SendData } from '../../api/send-result.js';
import type { SharedFrame } from '../write/shared-frame.js';
import type { Receivers, Writer } from '../write/writer.js';
import type { Extension, ExtensionSnapshot, ExtensionStats } from './extension.js';

/** Fails a connection (Lifecycle.fail), looked up when it happens: the lifecycle is built after the extension. */
export type FailConnection = (conn: ConnectionRecord, code: number, reason: string) => void;

/**
 * The shared compressor's window for a connection (9–15), kept in the
 * extension's bits of its flags as 15 − bits, so 0 is the usual 15.
 */
function sendBitsOf(flags: number): number {
  return 15 - ((flags & EXTENSION_MASK) >>> EXTENSION_SHIFT);
}

/** A session of this extension's, from a connection's extras (only this file puts one there). */
function sessionOf(conn: ConnectionRecord): DeflateSession | null {
  return (conn.extras?.extension ?? null) as DeflateSession | null;
}

/**
 * permessage-deflate (RFC 7692), the reactor's Extension: what the
 * handshakes negotiate, compressing what a connection sends, inflating what
 * it receives, and compressing a broadcast once for every receiver that
 * shares a compressor. RSV1 marks a compressed message (§6).
 *
 * A connection that agreed to no context takeover in both directions (mode
 * `shared`) holds nothing for it but bits of `flags`: State.Extension and, in
 * the extension's bits, the window of the shared compressor it needs
 * (usually none: 15). One in `window` mode holds a DeflateSession in its
 * extras, whose contexts appear when first used.
 */
export class PermessageDeflate implements Extension {
  readonly name = PERMESSAGE_DEFLATE;
  /** RSV1: "Per-Message Compressed" (RFC 7692 §6). */
  readonly rsv = Rsv.One;
  private readonly out = new CodecOutput();
  private readonly inflated = new CodecOutput();
  private readonly policy: DeflatePolicy;

  constructor(
    readonly engine: DeflateEngine,
    /** Messages shorter than this go out uncompressed. */
    readonly threshold: number,
    private readonly role: 'server' | 'client',
    private readonly pool: BufferPool,
    private readonly writer: Writer,
    private readonly fail: FailConnection,
  ) {
    const settings = engine.settings;
    this.policy = { noContextTakeover: settings.mode === 'shared', windowBits: settings.windowBits };
  }

  // ——— the handshakes ———

  /** Server: the Sec-WebSocket-Extensions answer to `offers`, the connection marked; undefined to answer without. */
  respond(conn: ConnectionRecord, offers: readonly ParsedExtension[]): string | undefined {
    const accepted = acceptDeflateOffer(offers, this.policy);
    if (accepted === undefined || !this.adopt(conn, accepted.agreement)) return undefined;
    return accepted.response;
  }

  /** Client: what to offer, or undefined when the budget could not take one more connection's contexts. */
  offer(): string | undefined {
    return this.engine.fitsWorstCase() ? deflateOffer(this.policy) : undefined;
  }

  /** Client: the server's accepted extensions (already checked to be ones we offered); an error message fails the connection. */
  accept(conn: ConnectionRecord, extensions: readonly ParsedExtension[]): string | undefined {
    const response = extensions.find((e) => e.name.toLowerCase() === PERMESSAGE_DEFLATE);
    if (response === undefined) return undefined;
    const agreement = acceptDeflateResponse(response, this.policy);
    if (typeof agreement === 'string') return agreement;
    return this.adopt(conn, agreement) ? undefined : 'the deflate memory budget (maxDeflateBytes) is exhausted';
  }

  /** Marks the connection with what was agreed, from our side of it; false when the budget said no. */
  private adopt(conn: ConnectionRecord, a: DeflateAgreement): boolean {
    const server = this.role === 'server';
    const sendBits = server ? a.serverMaxWindowBits : a.clientMaxWindowBits;
    const session = this.engine.session(
      server ? a.serverNoContextTakeover : a.clientNoContextTakeover,
      sendBits,
      server ? a.clientNoContextTakeover : a.serverNoContextTakeover,
      server ? a.clientMaxWindowBits : a.serverMaxWindowBits,
    );
    if (session === 'declined') return false;
    if (session !== null) extrasOf(conn).extension = session;
    conn.flags |= State.Extension | ((15 - Math.max(9, sendBits)) << EXTENSION_SHIFT);
    return true;
  }

  // ——— sending ———

  /**
   * Sends one data message compressed (RSV1 set), or returns undefined for
   * the caller to send it as it is: below the threshold, or when compressing
   * did not make it smaller and no context takeover lets us choose.
   */
  send(conn: ConnectionRecord, opcode: number, data: SendData, length: number): SendResult | undefined {
    if (length < this.threshold) return undefined;
    const session = sessionOf(conn);
    if (!this.compress(session, conn.flags, data, length)) {
      if (session === null || session.sendBits === 0) return undefined;
      // Our own context may have taken part of the message: the peer's window would no longer match ours.
      this.fail(conn, CloseCode.TryAgainLater, 'server memory budget exceeded');
      return SendResult.Dropped;
    }
    const out = this.out;
    const buf = out.buf!;
    out.buf = null;
    try {
      if (out.length >= length && (session === null || session.sendBits === 0)) return undefined;
      return this.writer.writeFrame(conn, opcode, buf.subarray(0, out.length), Rsv.One);
    } finally {
      this.pool.release(buf);
    }
  }

  /**
   * A broadcast or publish: each connection without the extension gets the
   * plain frame, each that shares a compressor gets the frame compressed
   * once for its window size (usually one compression for all), and each
   * with its own context its own compression; never `except` (the sender of
   * `conn.publish`). Returns how many it went to.
   */
  writeToMany(
    receivers: Receivers,
    opcode: number,
    data: SendData,
    length: number,
    except: ConnectionRecord | null = null,
  ): number {
    if (length < this.threshold) return this.writer.writeToMany(receivers, opcode, data, except);
    let plain: SharedFrame | null = null;
    let count = 0;
    // The frame compressed for each shared window size in use: undefined until needed, null when it
    // did not pay. Local, not a field: a close handler run by a failed write may broadcast again.
    const packed: (SharedFrame | null | undefined)[] = [];
    try {
      receivers.forEach((conn) => {
        const flags = conn.flags;
        if ((flags & (State.Open | State.CloseSent | State.Closed)) !== State.Open || conn === except) return;
        count++;
        if ((flags & State.Extension) !== 0) {
          const session = sessionOf(conn);
          if (session !== null && session.sendBits !== 0) {
            this.send(conn, opcode, data, length);
            return;
          }
          const bits = sendBitsOf(flags);
          let frame = packed[bits];
          if (frame === undefined) frame = packed[bits] = this.frameCompressed(opcode, data, length, flags);
          if (frame !== null) {
            this.writer.writeShared(conn, frame);
            return;
          }
        }
        this.writer.writeShared(conn, (plain ??= this.writer.frameShared(opcode, data)));
      });
    } finally {
      (plain as SharedFrame | null)?.release(); // (assigned in the loop's closure)
      for (const frame of packed) frame?.release();
    }
    return count;
  }

  /** The message compressed by the shared compressor for these flags' window, as one shared frame; null when it did not pay. */
  private frameCompressed(opcode: number, data: SendData, length: number, flags: number): SharedFrame | null {
    if (!this.compress(null, flags, data, length)) return null;
    const out = this.out;
    const buf = out.buf!;
    out.buf = null;
    try {
      return out.length < length ? this.writer.frameShared(opcode, buf.subarray(0, out.length), Rsv.One) : null;
    } finally {
      this.pool.release(buf);
    }
  }

  /** Compresses `data` into `this.out`. A string is encoded into a pooled buffer first. */
  private compress(session: DeflateSession | null, flags: number, data: SendData, length: number): boolean {
    const bits = sendBitsOf(flags);
    if (typeof data !== 'string') {
      const bytes = bytesOf(data);
      return this.engine.deflate(session, bits, bytes, 0, bytes.length, this.pool, this.out);
    }
    const text = this.pool.tryBorrow(length);
    if (text === null) return false;
    try {
      text.write(data, 0, 'utf8');
      return this.engine.deflate(session, bits, text, 0, length, this.pool, this.out);
    } finally {
      this.pool.release(text);
    }
  }

  // ——— receiving ———

  /**
   * Inflates a compressed message. Returns its bytes in a pooled buffer
   * (`result.buf[0, result.length)`; give it back with `recycle`), or the
   * error kind to fail the connection with.
   */
  decode(conn: ConnectionRecord, data: Buffer): CodecOutput | ErrorKindValue {
    const error = this.engine.inflate(sessionOf(conn), data, 0, data.length, this.pool, this.inflated);
    return error === 0 ? this.inflated : error;
  }

  recycle(buf: Buffer): void {
    this.pool.release(buf);
  }

  // ——— the connection's end, the endpoint's ———

  /** The connection's own contexts, if any, are closed and their budget given back. */
  release(conn: ConnectionRecord): void {
    const session = sessionOf(conn);
    if (session === null) return;
    this.engine.release(session);
    conn.extras!.extension = null;
  }

  /** A `window` connection's session (its bits, the window its inflater has); null for `shared`, whose bits are in `flags`. */
  snapshot(conn: ConnectionRecord): ExtensionSnapshot | null {
    const session = sessionOf(conn);
    return session === null ? null : this.engine.snapshot(session);
  }

  /** The session again, reserved in this endpoint's budget: false when it refuses it. */
  restore(conn: ConnectionRecord, saved: ExtensionSnapshot | null): boolean {
    if (saved === null) return true;
    const session = this.engine.adopt(saved as DeflateSessionSnapshot);
    if (session === null) return false;
    extrasOf(conn).extension = session;
    return true;
  }

  stats(connections: number, sessions: number): ExtensionStats {
    const engine = this.engine;
    const budget = engine.budget;
    const counters = engine.counters;
    return {
      connections,
      sessions,
      contexts: engine.contexts,
      reservedBytes: budget.reserved,
      maxBytes: budget.max,
      sharedBytes: budget.shared,
      declinedForBudget: budget.declined,
      messagesCompressed: counters.messagesCompressed,
      bytesBeforeCompression: counters.bytesBeforeCompression,
      bytesAfterCompression: counters.bytesAfterCompression,
      messagesInflated: counters.messagesInflated,
      bytesInflated: counters.bytesInflated,
    };
  }

  close(): void {
    this.engine.close();
  }
}
