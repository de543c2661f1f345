import type { ErrorKindValue } from '../protocol/protocol-error.js';
import type { BufferLender } from '../protocol/receiver.js';
import { DeflateBudget, deflateContextBytes, inflateContextBytes, inflateWindowCopyBytes } from './deflate-budget.js';
import { DeflateSession, type DeflateSessionSnapshot } from './deflate-session.js';
import { InflateWindow } from './inflate-window.js';
import { type CodecOutput, deflateMessage, inflateMessage } from './message-codec.js';
import { ZlibContext } from './zlib-context.js';

/** How one endpoint compresses (its resolved options). */
export interface DeflateSettings {
  /** 'shared': no context takeover anywhere, one compressor and one decompressor for all; 'window': context takeover. */
  readonly mode: 'shared' | 'window';
  /** Window mode: the largest window of a connection's own contexts (9–15). */
  readonly windowBits: number;
  /** 1–9. */
  readonly memLevel: number;
  /** 0–9, or -1 for zlib's default. */
  readonly level: number;
  /** Budget for every connection's own contexts, in bytes. */
  readonly maxBytes: number;
  /** Inflated messages larger than this are refused (maxMessageSize). */
  readonly maxMessageSize: number;
  /**
   * Keep a copy of each own inflater's window (inflate-window.ts), reserved
   * with its contexts, so that a handover can move the connection: servers.
   */
  readonly keepReceiveWindow: boolean;
}

/** Counters for stats(). */
export interface DeflateCounters {
  messagesCompressed: number;
  bytesBeforeCompression: number;
  bytesAfterCompression: number;
  messagesInflated: number;
  bytesInflated: number;
}

/**
 * All zlib work of one reactor: the contexts shared by every connection that
 * agreed to no context takeover in a direction (one compressor per window
 * size in use, usually just 15, and one decompressor), the budget for the
 * connections' own contexts, and the calls that run a message through
 * either. Everything is synchronous: a message is compressed or inflated
 * before the call returns, so no work is ever queued (see zlib-context.ts).
 */
export class DeflateEngine {
  readonly budget: DeflateBudget;
  readonly counters: DeflateCounters = {
    messagesCompressed: 0,
    bytesBeforeCompression: 0,
    bytesAfterCompression: 0,
    messagesInflated: 0,
    bytesInflated: 0,
  };
  /** zlib contexts alive now, shared ones included. */
  contexts = 0;
  /** Shared compressors by window bits (index 9–15), created on first use. */
  private readonly sharedDeflaters: (ZlibContext | null)[] = new Array<ZlibContext | null>(16).fill(null);
  private sharedInflater: ZlibContext | null = null;

  constructor(readonly settings: DeflateSettings) {
    this.budget = new DeflateBudget(settings.maxBytes);
  }

  /**
   * The session a connection needs for what was agreed, seen from our side
   * (`send` the direction we compress): null when both directions are
   * shared, 'declined' when the budget cannot take its contexts.
   */
  session(
    sendNoContextTakeover: boolean,
    sendBits: number,
    receiveNoContextTakeover: boolean,
    receiveBits: number,
  ): DeflateSession | null | 'declined' {
    if (sendNoContextTakeover && receiveNoContextTakeover) return null;
    const send = sendNoContextTakeover ? 0 : Math.max(9, sendBits);
    const receive = receiveNoContextTakeover ? 0 : Math.max(9, receiveBits);
    return this.reserve(send, receive) ?? 'declined';
  }

  /** A session for these bits (0: that direction is shared) if the budget takes its memory; null (counted) if not. */
  private reserve(send: number, receive: number): DeflateSession | null {
    const bytes =
      (send === 0 ? 0 : deflateContextBytes(send, this.settings.memLevel)) +
      (receive === 0
        ? 0
        : inflateContextBytes(receive) + (this.settings.keepReceiveWindow ? inflateWindowCopyBytes(receive) : 0));
    return this.budget.tryReserve(bytes) ? new DeflateSession(send, receive, bytes) : null;
  }

  /** A session as a handover carries it; the caller then releases it here. */
  snapshot(session: DeflateSession): DeflateSessionSnapshot {
    const window = session.receiveWindow;
    return {
      sendBits: session.sendBits,
      receiveBits: session.receiveBits,
      window: window === null ? new Uint8Array(0) : window.bytes(),
    };
  }

  /**
   * The session of a connection a handover brought (or one whose move failed),
   * reserved in this budget: its contexts come fresh at first use, the
   * inflater primed with the window carried. Null when the budget refuses it
   * or the snapshot is not one a session can be made of.
   */
  adopt(saved: DeflateSessionSnapshot): DeflateSession | null {
    const { sendBits: send, receiveBits: receive, window } = saved;
    const valid = (bits: number): boolean => bits === 0 || (bits >= 9 && bits <= 15);
    if (!valid(send) || !valid(receive) || send + receive === 0) return null;
    if (window.length > (receive === 0 ? 0 : 1 << receive)) return null;
    const session = this.reserve(send, receive);
    if (session !== null && window.length > 0) {
      session.receiveWindow = new InflateWindow(1 << receive);
      session.receiveWindow.push(Buffer.from(window.buffer, window.byteOffset, window.length), 0, window.length);
    }
    return session;
  }

  /** Would one more window-mode connection fit the budget? The client asks before it offers. */
  fitsWorstCase(): boolean {
    const bits = this.settings.windowBits;
    const window = this.settings.keepReceiveWindow ? inflateWindowCopyBytes(bits) : 0;
    return (
      this.settings.mode === 'shared' ||
      this.budget.fits(deflateContextBytes(bits, this.settings.memLevel) + inflateContextBytes(bits) + window)
    );
  }

  /**
   * Compresses one message for a connection: with its own context (context
   * takeover), or with the shared one for `sharedBits`, reset afterwards so
   * the next message starts from an empty window (§7.1.1).
   */
  deflate(
    session: DeflateSession | null,
    sharedBits: number,
    input: Uint8Array,
    start: number,
    end: number,
    lender: BufferLender,
    out: CodecOutput,
  ): boolean {
    let ok: boolean;
    if (session !== null && session.sendBits !== 0) {
      const ctx = (session.sendContext ??= this.newDeflater(session.sendBits));
      ok = deflateMessage(ctx, input, start, end, lender, out);
    } else {
      const ctx = this.sharedDeflater(sharedBits);
      ok = deflateMessage(ctx, input, start, end, lender, out);
      ctx.reset();
    }
    if (ok) {
      this.counters.messagesCompressed++;
      this.counters.bytesBeforeCompression += end - start;
      this.counters.bytesAfterCompression += out.length;
    }
    return ok;
  }

  /** Inflates one compressed message (0, or why it failed); the shared decompressor is reset after every message. */
  inflate(
    session: DeflateSession | null,
    input: Uint8Array,
    start: number,
    end: number,
    lender: BufferLender,
    out: CodecOutput,
  ): 0 | ErrorKindValue {
    let error: 0 | ErrorKindValue;
    if (session !== null && session.receiveBits !== 0) {
      const ctx = (session.receiveContext ??= this.newInflater(session));
      const resets = ctx.resets;
      error = inflateMessage(ctx, input, start, end, lender, this.settings.maxMessageSize, out);
      // A failed connection is closed; its context is never used again.
      if (error === 0 && this.settings.keepReceiveWindow) this.keepWindow(session, ctx, resets, out);
    } else {
      const ctx = (this.sharedInflater ??= this.newShared(ZlibContext.inflate(15), inflateContextBytes(15)));
      error = inflateMessage(ctx, input, start, end, lender, this.settings.maxMessageSize, out);
      ctx.reset();
    }
    if (error === 0) {
      this.counters.messagesInflated++;
      this.counters.bytesInflated += out.length;
    }
    return error;
  }

  /** A connection ended (or left in a handover): its contexts are closed and its reservation returned. */
  release(session: DeflateSession): void {
    if (session.sendContext !== null) this.closeContext(session.sendContext);
    if (session.receiveContext !== null) this.closeContext(session.receiveContext);
    session.sendContext = session.receiveContext = null;
    session.receiveWindow = null;
    this.budget.release(session.reservedBytes);
  }

  /** The message just inflated into `out` goes into the session's copy of the window, as into zlib's. */
  private keepWindow(session: DeflateSession, ctx: ZlibContext, resets: number, out: CodecOutput): void {
    const window = (session.receiveWindow ??= new InflateWindow(1 << session.receiveBits));
    if (ctx.resets === resets) {
      window.push(out.buf!, 0, out.length);
      return;
    }
    // The peer ended its stream (BFINAL) and zlib began another, with an empty window. A primed
    // context would start the next with its dictionary again: it makes way for a fresh one.
    window.clear();
    if (ctx.primed) {
      this.closeContext(ctx);
      session.receiveContext = null;
    }
  }

  /** Closes the shared contexts (the reactor stopped). */
  close(): void {
    for (let bits = 0; bits < this.sharedDeflaters.length; bits++) {
      const ctx = this.sharedDeflaters[bits];
      if (ctx != null) this.closeContext(ctx);
      this.sharedDeflaters[bits] = null;
    }
    if (this.sharedInflater !== null) this.closeContext(this.sharedInflater);
    this.sharedInflater = null;
    this.budget.shared = 0;
  }

  private sharedDeflater(bits: number): ZlibContext {
    return (this.sharedDeflaters[bits] ??= this.newShared(
      this.deflater(bits),
      deflateContextBytes(bits, this.settings.memLevel),
    ));
  }

  private newShared(ctx: ZlibContext, bytes: number): ZlibContext {
    this.budget.shared += bytes;
    this.contexts++;
    return ctx;
  }

  private newDeflater(bits: number): ZlibContext {
    this.contexts++;
    return this.deflater(bits);
  }

  /** A session's inflater, primed with its window when it has one (a handover brought the session). */
  private newInflater(session: DeflateSession): ZlibContext {
    this.contexts++;
    const window = session.receiveWindow;
    return ZlibContext.inflate(
      session.receiveBits,
      window === null || window.length === 0 ? undefined : window.bytes(),
    );
  }

  private deflater(bits: number): ZlibContext {
    return ZlibContext.deflate({ windowBits: bits, memLevel: this.settings.memLevel, level: this.settings.level });
  }

  private closeContext(ctx: ZlibContext): void {
    ctx.close();
    this.contexts--;
  }
}
