import { writeFrameHeader } from '../../protocol/frame-header.js';
import { applyMask } from '../../protocol/mask.js';
import type { MaskKeySource } from '../../protocol/mask-key.js';
import type { SendData } from '../../api/send-result.js';

/**
 * Writes one whole frame at `buf[at]`: header, payload, and, in the client
 * role (`maskKeys` given), the mask with a fresh key (RFC 6455 §5.3). The
 * payload is `bytes` or, when that is null, the string `payload`, `length`
 * bytes either way. The one way the writer builds a frame, wherever it goes:
 * the cork, a pooled buffer, the outbox or a shared frame.
 */
export function encodeFrame(
  buf: Buffer,
  at: number,
  opcode: number,
  payload: SendData,
  bytes: Uint8Array | null,
  length: number,
  rsv: number,
  maskKeys: MaskKeySource | null,
): void {
  const key = maskKeys === null ? 0 : maskKeys.next();
  const headerLength = writeFrameHeader(buf, at, true, opcode, length, maskKeys !== null, key, rsv);
  const start = at + headerLength;
  if (bytes === null) buf.write(payload as string, start, 'utf8');
  else buf.set(bytes, start);
  if (maskKeys !== null) applyMask(buf, start, start + length, key, 0);
}

/**
 * Smallest payload written straight from the caller's buffer (header and
 * payload in one writev) instead of being copied into a pooled one: below
 * it, copying costs less than the extra system call's overhead.
 */
export const DIRECT_WRITE_MIN = 32 * 1024;
