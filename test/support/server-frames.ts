import { createFrameHeader, decodeFrameHeader } from '../../src/protocol/frame-header.js';

/** A frame as a server sent it (unmasked), its payload copied out. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

const RULES = { expectMasked: false, allowedRsv: 0, maxPayloadLength: 2 ** 40 };

/**
 * Decodes the whole server frames at the start of `buf` into `into` and
 * returns how many bytes they took: what is left is an incomplete frame.
 * Throws on a header no server may send (masked, reserved bits or opcode).
 */
export function decodeServerFrames(buf: Buffer, into: ServerFrame[]): number {
  const header = createFrameHeader();
  let at = 0;
  for (;;) {
    const n = decodeFrameHeader(buf, at, buf.length, header, RULES);
    if (n < 0) throw new Error(`server sent a bad frame (error ${-n})`);
    if (n === 0 || buf.length - at - n < header.payloadLength) return at;
    const start = at + n;
    into.push({ fin: header.fin, opcode: header.opcode, payload: Buffer.from(buf.subarray(start, start + header.payloadLength)) });
    at = start + header.payloadLength;
  }
}

/** The code (1005 when absent) and reason of a Close frame's payload. */
export function closeOf(frame: ServerFrame): { code: number; reason: string } {
  const payload = frame.payload;
  return payload.length >= 2 ? { code: payload.readUInt16BE(0), reason: payload.toString('utf8', 2) } : { code: 1005, reason: '' };
}
