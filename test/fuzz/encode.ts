/** Client-side frame encoding for the fuzz generator: any header, valid or not, masked with a seeded key. */
import { applyMask } from '../../src/protocol/mask.js';
import type { Rng } from './rng.js';

export interface FrameSpec {
  opcode: number;
  payload: Uint8Array;
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  /** Length field form; default the minimal one. */
  form?: 7 | 16 | 64;
  /** The length written in the header, when it is not the payload's (a lie, or a huge one never sent). */
  declared?: number;
  /** Raw high word of a 64-bit length (for the most significant bit). */
  declaredHigh?: number;
}

export function encodeFrame(r: Rng, spec: FrameSpec): Buffer {
  const n = spec.payload.length;
  const declared = spec.declared ?? n;
  const form = spec.form ?? (declared < 126 ? 7 : declared < 65536 ? 16 : 64);
  const masked = spec.masked ?? true;
  const headerLength = 2 + (form === 16 ? 2 : form === 64 ? 8 : 0) + (masked ? 4 : 0);
  const buf = Buffer.allocUnsafe(headerLength + n);
  buf[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let p = 2;
  if (form === 7) buf[1] = maskBit | (declared & 0x7f);
  else if (form === 16) {
    buf[1] = maskBit | 126;
    buf.writeUInt16BE(declared & 0xffff, 2);
    p = 4;
  } else {
    buf[1] = maskBit | 127;
    buf.writeUInt32BE((spec.declaredHigh ?? Math.floor(declared / 4294967296)) >>> 0, 2);
    buf.writeUInt32BE(declared >>> 0, 6);
    p = 10;
  }
  let key = 0;
  if (masked) {
    key = r.u32();
    buf.writeUInt32BE(key, p);
    p += 4;
  }
  buf.set(spec.payload, p);
  if (masked) applyMask(buf, p, p + n, key, 0);
  return buf;
}
