import { createFrameHeader, decodeFrameHeader } from '../../src/protocol/frame-header.js';
import { applyMask } from '../../src/protocol/mask.js';

/** A frame as an endpoint sent it, its payload copied out (and unmasked). */
export interface WireFrame {
  fin: boolean;
  opcode: number;
  /** RSV1..RSV3 as a 3-bit number: 4 is RSV1, a compressed message (RFC 7692 §6). */
  rsv: number;
  payload: Buffer;
}

/**
 * Decodes the whole frames at the start of `buf` into `into` and returns how
 * many bytes they took: what is left is an incomplete frame. Server frames by
 * default; `masked` for a client's, which must all be masked. Throws on a
 * header the sender may not send (masking wrong, reserved bits or opcode).
 */
export function decodeFrames(buf: Buffer, into: WireFrame[], masked = false, allowedRsv = 0): number {
  const rules = { expectMasked: masked, allowedRsv, maxPayloadLength: 2 ** 40 };
  const header = createFrameHeader();
  let at = 0;
  for (;;) {
    const n = decodeFrameHeader(buf, at, buf.length, header, rules);
    if (n < 0) throw new Error(`bad frame sent (error ${-n})`);
    if (n === 0 || buf.length - at - n < header.payloadLength) return at;
    const start = at + n;
    const payload = Buffer.from(buf.subarray(start, start + header.payloadLength));
    if (masked) applyMask(payload, 0, payload.length, header.maskKey, 0);
    into.push({ fin: header.fin, opcode: header.opcode, rsv: header.rsv, payload });
    at = start + header.payloadLength;
  }
}

/** The code (1005 when absent) and reason of a Close frame's payload. */
export function closeOf(frame: WireFrame): { code: number; reason: string } {
  const payload = frame.payload;
  return payload.length >= 2
    ? { code: payload.readUInt16BE(0), reason: payload.toString('utf8', 2) }
    : { code: 1005, reason: '' };
}
