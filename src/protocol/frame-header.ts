import { isControlOpcode, isKnownOpcode } from './opcode.js';
import { ErrorKind } from './protocol-error.js';

/**
 * The frame header, RFC 6455 §5.2, in both directions: decoding what a peer
 * sent (validated as far as the header alone allows) and writing the header
 * of a frame we send. Servers send unmasked frames; clients mask every frame
 * (§5.3).
 */

/**
 * One decoded frame header. Decoding writes into a caller-owned object so the
 * hot path allocates nothing.
 */
export interface FrameHeader {
  fin: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** The four masking-key bytes as a big-endian uint32; 0 when unmasked. */
  maskKey: number;
  payloadLength: number;
  /**
   * Bytes taken by the header (2, 4 or 10, plus 4 when masked). When decoding
   * says "incomplete", this is the smallest header size known to be needed so
   * far: the caller waits for at least that many bytes.
   */
  headerLength: number;
}

/**
 * The reserved bits of a frame's first byte (§5.2), as `FrameHeader.rsv`
 * numbers them. Each means something only once an extension that owns it is
 * negotiated (§9); a frame with one set otherwise fails the connection.
 */
export const Rsv = {
  One: 4,
  Two: 2,
  Three: 1,
} as const;

export function createFrameHeader(): FrameHeader {
  return { fin: false, rsv: 0, opcode: 0, masked: false, maskKey: 0, payloadLength: 0, headerLength: 2 };
}

/** What the decoder enforces from the header alone, shared by all connections of one role. */
export interface HeaderRules {
  /** Server role: clients must mask (§5.1). Client role: servers must not. */
  readonly expectMasked: boolean;
  /** RSV bits that a negotiated extension allows; 0 without extensions (§5.2). */
  readonly allowedRsv: number;
  /** Largest payload accepted, so an oversized frame is refused before any payload is buffered. */
  readonly maxPayloadLength: number;
}

/** Returned when the bytes do not yet hold a whole header. */
export const HEADER_INCOMPLETE = 0;

/**
 * Decodes the frame header at `buf[offset..end)` without copying.
 * Returns the header length (> 0) when complete, HEADER_INCOMPLETE when more
 * bytes are needed (see `out.headerLength`), or `-kind` (an ErrorKind) when
 * the header alone breaks the protocol. Checks run as early as the bytes
 * allow: a reserved opcode fails on the first two bytes, an oversized length
 * as soon as the length field is in, before the masking key.
 */
export function decodeFrameHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: FrameHeader,
  rules: HeaderRules,
): number {
  const available = end - offset;
  if (available < 2) {
    out.headerLength = 2;
    return HEADER_INCOMPLETE;
  }
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  const fin = (b0 & 0x80) !== 0;
  const rsv = (b0 >>> 4) & 0x7;
  const opcode = b0 & 0x0f;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;

  if ((rsv & ~rules.allowedRsv) !== 0) return -ErrorKind.ReservedBitsSet;
  if (!isKnownOpcode(opcode)) return -ErrorKind.ReservedOpcode;
  if (masked !== rules.expectMasked) {
    return -(rules.expectMasked ? ErrorKind.UnmaskedClientFrame : ErrorKind.MaskedServerFrame);
  }
  if (isControlOpcode(opcode)) {
    // §5.5: control frames carry at most 125 bytes and are never fragmented.
    if (len7 > 125) return -ErrorKind.ControlFrameTooLong;
    if (!fin) return -ErrorKind.FragmentedControlFrame;
  }

  const lengthBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
  let payloadLength = len7;
  if (lengthBytes === 2) {
    if (available < 4) {
      out.headerLength = headerLength;
      return HEADER_INCOMPLETE;
    }
    payloadLength = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  } else if (lengthBytes === 8) {
    if (available < 10) {
      out.headerLength = headerLength;
      return HEADER_INCOMPLETE;
    }
    const high = readUint32(buf, offset + 2);
    // §5.2: "the most significant bit MUST be 0".
    if (high >= 0x80000000) return -ErrorKind.PayloadLengthTooLarge;
    payloadLength = high * 0x100000000 + readUint32(buf, offset + 6);
  }
  if (payloadLength > rules.maxPayloadLength) return -ErrorKind.MessageTooBig;
  if (available < headerLength) {
    out.headerLength = headerLength;
    return HEADER_INCOMPLETE;
  }

  out.fin = fin;
  out.rsv = rsv;
  out.opcode = opcode;
  out.masked = masked;
  out.maskKey = masked ? readUint32(buf, offset + headerLength - 4) : 0;
  out.payloadLength = payloadLength;
  out.headerLength = headerLength;
  return headerLength;
}

/** Header size for a payload: 2, 4 or 10 bytes, plus 4 when masked. */
export function frameHeaderLength(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header at `dst[offset]` and returns its length. `maskKey`
 * (a big-endian uint32) is written only when `masked` is true. The header is
 * written into a caller-supplied buffer so the reactor can put it in front of
 * the payload (one writev) or frame a broadcast once for every receiver.
 */
export function writeFrameHeader(
  dst: Uint8Array,
  offset: number,
  fin: boolean,
  opcode: number,
  payloadLength: number,
  masked = false,
  maskKey = 0,
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4): set by a negotiated extension (RFC 7692 §6). */
  rsv = 0,
): number {
  dst[offset] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
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

function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function writeUint32(dst: Uint8Array, at: number, value: number): void {
  dst[at] = value >>> 24;
  dst[at + 1] = (value >>> 16) & 0xff;
  dst[at + 2] = (value >>> 8) & 0xff;
  dst[at + 3] = value & 0xff;
}
