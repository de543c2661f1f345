import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AlertDescription } from './alert.js';
import { IV_LENGTH, TAG_LENGTH, type CipherSuite } from './cipher-suite.js';
import type { TrafficKeys } from './traffic-keys.js';

/** ContentType (RFC 8446 §5.1). */
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;

/** A record header: type(1) legacy_record_version(2) length(2) (§5.1). */
export const RECORD_HEADER_LENGTH = 5;
/** The most plaintext one record carries (§5.1: 2^14). */
export const MAX_PLAINTEXT = 16384;
/** The most a TLSCiphertext's length may say (§5.2: 2^14 + 256). */
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 256;
/** legacy_record_version of every TLS 1.3 TLSCiphertext (§5.2). */
const LEGACY_VERSION = 0x0303;

/**
 * The per-record nonce (§5.3): the 64-bit sequence number, big-endian,
 * padded on the left with zeros to iv_length, XORed with the static IV.
 * Sequence numbers stay below 2^53 here (a KeyUpdate resets them long
 * before), so a JavaScript number holds them exactly. Written into `into`
 * (a new Buffer unless given).
 */
export function recordNonce(iv: Uint8Array, seq: number, into: Buffer = Buffer.allocUnsafe(iv.length)): Buffer {
  into.set(iv);
  const high = Math.floor(seq / 0x100000000);
  const low = seq >>> 0;
  const at = into.length - 8;
  into.writeUInt32BE((into.readUInt32BE(at) ^ high) >>> 0, at);
  into.writeUInt32BE((into.readUInt32BE(at + 4) ^ low) >>> 0, at + 4);
  return into;
}

/**
 * The nonce of the record being sealed or opened: createCipheriv copies its
 * IV, so one scratch buffer serves every record (one allocation less each).
 */
const NONCE = Buffer.alloc(IV_LENGTH);

/**
 * One TLSCiphertext (§5.2) from one fragment: the TLSInnerPlaintext is
 * content | type | zeros (the padding, §5.4), sealed with the AEAD under
 * the record header as additional data. The whole record is returned,
 * header included. `content` must be at most MAX_PLAINTEXT - padding bytes.
 */
export function protectRecord(
  suite: CipherSuite,
  keys: TrafficKeys,
  seq: number,
  type: number,
  content: Uint8Array,
  padding = 0,
): Buffer {
  const innerLength = content.length + 1 + padding;
  if (innerLength > MAX_PLAINTEXT + 1) throw new RangeError('a TLSInnerPlaintext longer than 2^14 + 1');
  const record = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + innerLength + TAG_LENGTH);
  record[0] = ContentType.application_data;
  record.writeUInt16BE(LEGACY_VERSION, 1);
  record.writeUInt16BE(innerLength + TAG_LENGTH, 3);
  // The TLSInnerPlaintext is laid out where its ciphertext goes, and sealed in one update: a
  // cipher call costs more than copying a record's worth of bytes (the echo path seals one
  // record per read, bench/idle-tls.ts --cpu).
  const inner = record.subarray(RECORD_HEADER_LENGTH, RECORD_HEADER_LENGTH + innerLength);
  inner.set(content);
  inner[content.length] = type;
  inner.fill(0, content.length + 1);
  const cipher = createCipheriv(suite.aead as 'aes-128-gcm', keys.key, recordNonce(keys.iv, seq, NONCE), {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(record.subarray(0, RECORD_HEADER_LENGTH));
  let at = RECORD_HEADER_LENGTH;
  at += cipher.update(inner).copy(record, at);
  at += cipher.final().copy(record, at);
  cipher.getAuthTag().copy(record, at);
  return record;
}

/** An unprotected record: its true content type and its content, padding removed (§5.4). */
export interface OpenedRecord {
  readonly type: number;
  readonly content: Buffer;
}

/** A record that cannot be accepted, and the alert it calls for. */
export interface RecordFault {
  /** An AlertDescription; any number when it is the peer's alert. */
  readonly alert: number;
  readonly reason: string;
}

/**
 * Checks a record header (§5.1, §5.2) before its body has arrived: after the
 * handshake every record is an application_data TLSCiphertext, and none is
 * longer than 2^14 + 256. legacy_record_version is ignored, as §5.1 says.
 * Returns the body's length, or the fault.
 */
export function checkRecordHeader(header: Uint8Array): number | RecordFault {
  const type = header[0]!;
  const length = (header[3]! << 8) | header[4]!;
  if (type !== ContentType.application_data) {
    // A change_cipher_spec after the peer's Finished, or any plaintext record
    // once keys are in place, is unexpected_message (§5).
    return { alert: AlertDescription.unexpected_message, reason: `an unprotected record of type ${type}` };
  }
  if (length > MAX_CIPHERTEXT) {
    return { alert: AlertDescription.record_overflow, reason: `a record of ${length} bytes (most: 2^14 + 256)` };
  }
  return length;
}

/**
 * Unprotects one whole record (header and body, §5.2): AEAD open with the
 * header as additional data, then the padding stripped and the true type
 * read (§5.4). A failed tag is bad_record_mac; an inner plaintext longer
 * than 2^14 + 1 is record_overflow; one that is all zeros (no type) is
 * unexpected_message. Never throws on peer bytes.
 */
export function unprotectRecord(
  suite: CipherSuite,
  keys: TrafficKeys,
  seq: number,
  record: Uint8Array,
): OpenedRecord | RecordFault {
  const header = record.subarray(0, RECORD_HEADER_LENGTH);
  const length = checkRecordHeader(header);
  if (typeof length !== 'number') return length;
  if (record.length !== RECORD_HEADER_LENGTH + length) {
    return { alert: AlertDescription.decode_error, reason: 'a record whose length field is not its length' };
  }
  if (length < TAG_LENGTH + 1) {
    return { alert: AlertDescription.bad_record_mac, reason: 'a record too short to hold a type and a tag' };
  }
  const body = record.subarray(RECORD_HEADER_LENGTH, record.length - TAG_LENGTH);
  let inner: Buffer;
  // A tag that fails throws from final(), and an Error's stack costs more than the whole open: the
  // observer meets such records on every connection (the handshake-key ones, record-observer.ts).
  // Reflect.set: where stackTraceLimit is frozen it does nothing, rather than throw on peer bytes.
  const stackTraceLimit = Error.stackTraceLimit;
  Reflect.set(Error, 'stackTraceLimit', 0);
  try {
    const decipher = createDecipheriv(suite.aead as 'aes-128-gcm', keys.key, recordNonce(keys.iv, seq, NONCE), {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(header);
    decipher.setAuthTag(record.subarray(record.length - TAG_LENGTH));
    const first = decipher.update(body);
    const last = decipher.final();
    inner = last.length === 0 ? first : Buffer.concat([first, last]);
  } catch {
    return { alert: AlertDescription.bad_record_mac, reason: 'a record whose AEAD tag does not verify' };
  } finally {
    Reflect.set(Error, 'stackTraceLimit', stackTraceLimit);
  }
  if (inner.length > MAX_PLAINTEXT + 1) {
    return { alert: AlertDescription.record_overflow, reason: 'a record that decrypts to more than 2^14 + 1 bytes' };
  }
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) return { alert: AlertDescription.unexpected_message, reason: 'a record with no content type' };
  return { type: inner[end]!, content: inner.subarray(0, end) };
}

/** Whether a result is a RecordFault rather than a value. */
export function isFault(value: unknown): value is RecordFault {
  return typeof value === 'object' && value !== null && 'alert' in value;
}
