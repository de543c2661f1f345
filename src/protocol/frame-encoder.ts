import { applyMask } from './mask.js';

/**
 * Frame encoding, RFC 6455 §5.2. Servers send unmasked frames; clients mask
 * every frame (§5.3). The header is written into a caller-supplied buffer so
 * the reactor can put it in front of the payload (one writev) or frame a
 * broadcast once for every receiver.
 */

/** Largest header: 2 bytes + 8-byte length + 4-byte masking key. */
export const MAX_HEADER_LENGTH = 14;

/** Header size for a payload: 2, 4 or 10 bytes, plus 4 when masked. */
export function frameHeaderLength(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header at `dst[offset]` and returns its length. `maskKey`
 * (a big-endian uint32) is written only when `masked` is true.
 */
export function writeFrameHeader(
  dst: Uint8Array,
  offset: number,
  fin: boolean,
  opcode: number,
  payloadLength: number,
  masked = false,
  maskKey = 0,
): number {
  dst[offset] = (fin ? 0x80 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  let at = offset + 2;
  if (payloadLength < 126) {
    dst[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength < 0x10000) {
    dst[offset + 1] = maskBit | 126;
    dst[at++] = payloadLength >>> 8;
    dst[at++] = payloadLength & 0xff;
  } else {
    dst[offset + 1] = maskBit | 127;
    const high = Math.floor(payloadLength / 0x100000000);
    writeUint32(dst, at, high);
    writeUint32(dst, at + 4, payloadLength >>> 0);
    at += 8;
  }
  if (masked) {
    writeUint32(dst, at, maskKey);
    at += 4;
  }
  return at - offset;
}

/** A whole server frame (header + payload) in one new Buffer: used for broadcasts and small sends. */
export function encodeServerFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const headerLength = frameHeaderLength(payload.length, false);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, fin, opcode, payload.length);
  frame.set(payload, headerLength);
  return frame;
}

/** A whole client frame, masked with `maskKey` (the caller draws it from a CSPRNG, §5.3). */
export function encodeClientFrame(opcode: number, payload: Uint8Array, maskKey: number, fin = true): Buffer {
  const headerLength = frameHeaderLength(payload.length, true);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, fin, opcode, payload.length, true, maskKey);
  frame.set(payload, headerLength);
  applyMask(frame, headerLength, frame.length, maskKey, 0);
  return frame;
}

function writeUint32(dst: Uint8Array, at: number, value: number): void {
  dst[at] = value >>> 24;
  dst[at + 1] = (value >>> 16) & 0xff;
  dst[at + 2] = (value >>> 8) & 0xff;
  dst[at + 3] = value & 0xff;
}
