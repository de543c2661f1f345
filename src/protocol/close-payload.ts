import { CloseCode, isValidWireCloseCode } from './close-code.js';
import { ErrorKind } from './protocol-error.js';
import { isValidUtf8 } from './utf8.js';

/** §5.5: a control payload is at most 125 bytes, so a reason is at most 123 after the code. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * The body of a Close frame, §5.5.1: an optional 2-byte code then a UTF-8
 * reason. Returns an empty payload for code 1005 (no status), which must not
 * be sent on the wire. Throws on a code or reason the caller must not send:
 * this is called from user code (`conn.close`), where a throw is the right
 * way to report a programming error.
 */
export function encodeClosePayload(code: number = CloseCode.NoStatusReceived, reason = ''): Buffer {
  if (code === CloseCode.NoStatusReceived) {
    if (reason !== '') throw new RangeError('a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
    throw new RangeError(`close code ${code} may not be sent (RFC 6455 §7.4)`);
  }
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit (RFC 6455 §5.5)`,
    );
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

/** A received close: its code (1005 when the frame had none) and reason. */
export interface ReceivedClose {
  code: number;
  reason: string;
}

/**
 * Decodes a received Close body at `buf[start..end)`. Returns the close or a
 * negative ErrorKind: a 1-byte body, a code that may not be on the wire, or a
 * reason that is not UTF-8.
 */
export function decodeClosePayload(buf: Uint8Array, start: number, end: number): ReceivedClose | number {
  const length = end - start;
  if (length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  if (length === 1) return -ErrorKind.InvalidCloseLength;
  const code = (buf[start]! << 8) | buf[start + 1]!;
  if (!isValidWireCloseCode(code)) return -ErrorKind.InvalidCloseCode;
  if (!isValidUtf8(buf, start + 2, end)) return -ErrorKind.InvalidCloseReasonUtf8;
  return { code, reason: Buffer.from(buf.buffer, buf.byteOffset + start + 2, length - 2).toString('utf8') };
}
