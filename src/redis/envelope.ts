import { isValidUtf8 } from '../protocol/utf8.js';
import { bytesOf, type SendData } from '../api/send-result.js';

/**
 * The wire format between servers, one Redis message per publish:
 *
 *   byte 0      version (1)
 *   byte 1      flags: bit 0 = binary (else text); the other bits must be 0
 *   bytes 2–9   the publishing server's id (random, 8 bytes)
 *   bytes 10–   the payload, as given to publish
 *
 * The topic is the channel's name. Version and flags are checked on receipt,
 * so that a future format (or a stranger on the channel) is counted and
 * dropped rather than delivered wrong; a text payload must be UTF-8, as a
 * WebSocket text frame must.
 */
export const ENVELOPE_VERSION = 1;
export const HEADER_BYTES = 10;
const FLAG_BINARY = 1;
const KNOWN_FLAGS = FLAG_BINARY;

/** A server's id in the envelope: 8 random bytes, kept as two numbers so that comparing allocates nothing. */
export class OriginId {
  readonly high: number;
  readonly low: number;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== 8) throw new RangeError('an origin id is 8 bytes');
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, 8);
    this.high = view.readUInt32BE(0);
    this.low = view.readUInt32BE(4);
  }

  /** Is the id at `buf[2..10)` this one? */
  isIn(buf: Buffer): boolean {
    return buf.readUInt32BE(2) === this.high && buf.readUInt32BE(6) === this.low;
  }

  toString(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }
}

/**
 * A fresh buffer with the header and a copy of the payload: the Redis client
 * owns it, so a publish of a borrowed view (a `message` handler's data, valid
 * only until the handler returns) is safe.
 */
export function encodeEnvelope(origin: OriginId, data: SendData, isBinary: boolean): Buffer {
  const bytes = typeof data === 'string' ? null : bytesOf(data); // a TypeError for what send() would refuse
  const out = Buffer.allocUnsafe(HEADER_BYTES + (bytes === null ? Buffer.byteLength(data as string) : bytes.length));
  out[0] = ENVELOPE_VERSION;
  out[1] = isBinary ? FLAG_BINARY : 0;
  out.writeUInt32BE(origin.high, 2);
  out.writeUInt32BE(origin.low, 6);
  if (bytes === null) out.write(data as string, HEADER_BYTES, 'utf8');
  else out.set(bytes, HEADER_BYTES);
  return out;
}

/** What a received envelope holds; `payload` is a view into the message. */
export type Opened = { ok: true; fromSelf: boolean; isBinary: boolean; payload: Buffer } | { ok: false; why: string };

export function openEnvelope(message: Buffer, self: OriginId): Opened {
  if (!Buffer.isBuffer(message) || message.length < HEADER_BYTES) return { ok: false, why: 'shorter than the header' };
  if (message[0] !== ENVELOPE_VERSION) return { ok: false, why: `version ${message[0]}` };
  const flags = message[1]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) return { ok: false, why: `unknown flags ${flags}` };
  const isBinary = (flags & FLAG_BINARY) !== 0;
  const payload = message.subarray(HEADER_BYTES);
  if (self.isIn(message)) return { ok: true, fromSelf: true, isBinary, payload };
  if (!isBinary && !isValidUtf8(payload, 0, payload.length)) return { ok: false, why: 'text that is not UTF-8' };
  return { ok: true, fromSelf: false, isBinary, payload };
}
