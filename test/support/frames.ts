/**
 * Frame bytes for tests and benchmarks: whole frames in one new Buffer, to
 * feed a receiver or a socket, and the masking key read back out of them. The
 * reactor never builds a frame this way: it writes the header in front of the
 * payload (frame-header.ts), and the decoder reads the key.
 */
import { frameHeaderLength, writeFrameHeader } from '../../src/protocol/frame-header.js';
import { applyMask } from '../../src/protocol/mask.js';

/**
 * The four masking-key bytes at `buf[pos..pos+4)` as a big-endian uint32 — the `key` argument of
 * applyMask. Same value as `Buffer#readUInt32BE(pos)`, for any Uint8Array.
 */
export function readMaskKey(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}

/** A whole server frame (header + payload), unmasked (RFC 6455 §5.1). */
export function encodeServerFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const headerLength = frameHeaderLength(payload.length, false);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, fin, opcode, payload.length);
  frame.set(payload, headerLength);
  return frame;
}

/** A whole client frame, masked with `maskKey` (a big-endian uint32, RFC 6455 §5.3). */
export function encodeClientFrame(opcode: number, payload: Uint8Array, maskKey: number, fin = true): Buffer {
  const headerLength = frameHeaderLength(payload.length, true);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, fin, opcode, payload.length, true, maskKey);
  frame.set(payload, headerLength);
  applyMask(frame, headerLength, frame.length, maskKey, 0);
  return frame;
}
