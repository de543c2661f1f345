import type { ErrorKindValue } from '../protocol/protocol-error.js';
import type { BufferLender } from '../protocol/receiver.js';
import { DeflateBudget, deflateContextBytes, inflateContextBytes } from './deflate-budget.js';
import { DeflateSession } from './deflate-session.js';
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
    const bytes =
      (send === 0 ? 0 : deflateContextBytes(send, this.settings.memLevel)) +
      (receive === 0 ? 0 : inflateContextBytes(receive));
    if (!this.budget.tryReserve(bytes)) return 'declined';
    return new DeflateSession(send, receive, bytes);
  }

  /** Would one more window-mode connection fit the budget? The client asks before it offers. */
  fitsWorstCase(): boolean {
    const bits = this.settings.windowBits;
    return (
      this.settings.mode === 'shared' ||
      this.budget.fits(deflateContextBytes(bits, this.settings.memLevel) + inflateContextBytes(bits))
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
      const ctx = (session.receiveContext ??= this.newInflater(session.receiveBits));
      error = inflateMessage(ctx, input, start, end, lender, this.settings.maxMessageSize, out);
      // A failed connection is closed; its context is never used again.
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

  /** A connection ended: its contexts are closed and its reservation returned. */
  release(session: DeflateSession): void {
    if (session.sendContext !== null) this.closeContext(session.sendContext);
    if (session.receiveContext !== null) this.closeContext(session.receiveContext);
    session.sendContext = session.receiveContext = null;
    this.budget.release(session.reservedBytes);
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

  private newInflater(bits: number): ZlibContext {
    this.contexts++;
    return ZlibContext.inflate(bits);
  }

  private deflater(bits: number): ZlibContext {
    return ZlibContext.deflate({ windowBits: bits, memLevel: this.settings.memLevel, level: this.settings.level });
  }

  private closeContext(ctx: ZlibContext): void {
    ctx.close();
    this.contexts--;
  }
}
