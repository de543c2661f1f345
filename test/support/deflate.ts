import zlib from 'node:zlib';
import { ZlibContext } from '../../src/compression/zlib-context.js';

/** Test material for permessage-deflate (RFC 7692): compressed payloads, realistic JSON, a zip bomb. */

/** RSV1 in the first header byte, to OR with an opcode: a compressed message (RFC 7692 §6). */
export const RSV1 = 0x40;

export const SYNC_FLUSH = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** `data` compressed as one permessage-deflate message: sync flush, 00 00 FF FF removed (§7.2.1). */
export function compress(data: Buffer | string): Buffer {
  return zlib.deflateRawSync(Buffer.from(data), SYNC_FLUSH).subarray(0, -4);
}

/** A compressed message payload back to its bytes (§7.2.2). */
export function decompress(payload: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.of(0, 0, 0xff, 0xff)]), SYNC_FLUSH);
}

/** About `bytes` of chat-like JSON, as repetitive as real feeds are. */
export function chatJson(bytes: number): string {
  const items: unknown[] = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const item = {
      id: 100000 + i,
      user: `user${(i * 7) % 40}`,
      room: 'lobby',
      text: `message number ${i} about the weather today`,
      ts: 1700000000000 + i * 1375,
    };
    length += JSON.stringify(item).length + 1;
    items.push(item);
  }
  return JSON.stringify(items);
}

let bomb: Buffer | undefined;

/**
 * A compressed payload of ~1 MiB that inflates to 1 GiB of zeros, built
 * without ever holding the gigabyte: 1 MiB of zeros fed 1024 times through
 * one deflate context (~2 s, once per process).
 */
export function zipBomb(): Buffer {
  if (bomb !== undefined) return bomb;
  const ctx = ZlibContext.deflate({ windowBits: 15, memLevel: 9, level: 9 });
  const zeros = Buffer.alloc(1 << 20);
  const out = Buffer.alloc(4 << 20);
  let used = 0;
  for (let i = 0; i < 1024; i++) {
    const last = i === 1023;
    const free = ctx.process(
      last ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_NO_FLUSH,
      zeros,
      0,
      zeros.length,
      out,
      used,
      out.length - used,
    );
    if (free <= 0 || ctx.availIn !== 0) throw new Error('zip bomb: output buffer too small');
    used = out.length - free;
  }
  ctx.close();
  return (bomb = Buffer.from(out.subarray(0, used - 4)));
}

/** A sender's compressor that keeps its window between messages (context takeover, §7.1.1), as a peer's is. */
export class Compressor {
  private readonly ctx: ZlibContext;

  constructor(windowBits = 15) {
    this.ctx = ZlibContext.deflate({ windowBits, memLevel: 8, level: 6 });
  }

  /** One message's payload: sync flush, 00 00 FF FF removed (§7.2.1). */
  compress(data: Buffer | string): Buffer {
    const input = Buffer.from(data);
    const out = Buffer.alloc(input.length + 1024);
    const free = this.ctx.process(zlib.constants.Z_SYNC_FLUSH, input, 0, input.length, out, 0, out.length);
    if (free <= 0 || this.ctx.availIn !== 0) throw new Error(`deflate failed: ${this.ctx.error || 'output too large'}`);
    return Buffer.from(out.subarray(0, out.length - free - 4));
  }

  close(): void {
    this.ctx.close();
  }
}

/** A receiver's decompressor that keeps its window between messages: what context takeover needs (§7.1.1). */
export class Decompressor {
  private readonly ctx = ZlibContext.inflate(15);

  inflate(payload: Buffer): Buffer {
    const input = Buffer.concat([payload, Buffer.of(0, 0, 0xff, 0xff)]);
    const out = Buffer.alloc(16 << 20);
    const free = this.ctx.process(zlib.constants.Z_SYNC_FLUSH, input, 0, input.length, out, 0, out.length);
    if (free <= 0 || this.ctx.availIn !== 0) throw new Error(`inflate failed: ${this.ctx.error || 'output too large'}`);
    return Buffer.from(out.subarray(0, out.length - free));
  }

  close(): void {
    this.ctx.close();
  }
}

/**
 * A compressed message that refers back into an earlier message's window:
 * valid only to a receiver that kept that window (context takeover), so the
 * first message of a connection cannot be it.
 */
export function backReference(): Buffer {
  const ctx = ZlibContext.deflate({ windowBits: 15, memLevel: 8, level: 6 });
  const text = Buffer.from('a sentence long enough to be found again in the window');
  const out = Buffer.alloc(1024);
  ctx.process(zlib.constants.Z_SYNC_FLUSH, text, 0, text.length, out, 0, out.length);
  const free = ctx.process(zlib.constants.Z_SYNC_FLUSH, text, 0, text.length, out, 0, out.length);
  ctx.close();
  return Buffer.from(out.subarray(0, out.length - free - 4));
}
