/**
 * Whole frames in one new Buffer, for tests and benchmarks that need frame
 * bytes to feed a receiver or a socket. The reactor never builds a frame this
 * way: it writes the header in front of the payload (frame-header.ts).
 */
import { frameHeaderLength, writeFrameHeader } from '../../src/protocol/frame-header.js';
import { applyMask } from '../../src/protocol/mask.js';

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
