import { AlertDescription, encodeAlert, readAlert } from './alert.js';
import { IV_LENGTH, type CipherSuite } from './cipher-suite.js';
import { KEY_STORE } from './key-store.js';
import { encodeKeyUpdate, HANDSHAKE_HEADER_LENGTH, HandshakeType, readPostHandshake } from './post-handshake.js';
import {
  checkRecordHeader,
  ContentType,
  isFault,
  MAX_PLAINTEXT,
  protectRecord,
  RECORD_HEADER_LENGTH,
  unprotectRecord,
  type RecordFault,
} from './record-protection.js';
import { nextTrafficSecret, trafficKeys, type TrafficKeys } from './traffic-keys.js';

/**
 * One direction of a connection as it is handed over: its current traffic secret and next
 * sequence number, and the secret's key and IV when the giver has already derived them (two
 * HMACs each, saved on every move).
 */
export interface DirectionState {
  readonly secret: Buffer;
  readonly seq: number;
  readonly keys?: TrafficKeys;
}

/** Where a RecordLayer's results go. */
export interface RecordLayerSink {
  /** Application data, in order. The buffer is the caller's to keep. */
  data(content: Buffer): void;
  /** Protected records the layer itself must send (a KeyUpdate, an alert), in order with what seal returned before. */
  transmit(records: Buffer): void;
  /** The connection is over: the peer's close_notify (no fault; ours was transmitted) or a fault (its alert was transmitted). */
  end(fault?: RecordFault): void;
}

/**
 * Records sent under one key before the layer updates its own keys: well
 * under AES-GCM's confidentiality limit of 2^24.5 full-size records
 * (RFC 8446 §5.5), and far below the 2^64 sequence wrap.
 */
export const RECORDS_PER_KEY = 2 ** 23;

/** The longest post-handshake message the client role buffers (a NewSessionTicket, §4.6.1). */
const MAX_CLIENT_HANDSHAKE = 1 << 17;

/**
 * One direction's traffic state: its sequence number, and a slot of the
 * shared key store holding the secret, key and IV (key-store.ts: no Buffer
 * per idle connection), viewed only while a record is sealed or opened.
 */
class Direction implements TrafficKeys {
  /** The key store slot; -1 once released (any use after that throws, never reads another's keys). */
  private slot: number;
  /** The sequence number of the next record this way (§5.3). */
  seq: number;
  constructor(
    private readonly suite: CipherSuite,
    state: DirectionState,
  ) {
    this.seq = state.seq;
    this.slot = KEY_STORE.take();
    this.store(state.secret, state.keys);
  }
  get secret(): Buffer {
    return this.view(0, this.suite.hashLength);
  }
  get key(): Buffer {
    return this.view(this.suite.hashLength, this.suite.keyLength);
  }
  get iv(): Buffer {
    return this.view(this.suite.hashLength + this.suite.keyLength, IV_LENGTH);
  }
  /** The next traffic secret, keys and a sequence reset to 0 (§7.2, §5.3). */
  update(): void {
    this.store(nextTrafficSecret(this.suite, this.secret));
    this.seq = 0;
  }
  /** Gives the slot back (zeroed); the direction is unusable after. */
  release(): void {
    if (this.slot < 0) return;
    KEY_STORE.give(this.slot);
    this.slot = -1;
  }
  private view(offset: number, length: number): Buffer {
    if (this.slot < 0) throw new Error('TLS keys used after the record layer was released');
    return KEY_STORE.view(this.slot, offset, length);
  }
  private store(secret: Buffer, keys = trafficKeys(this.suite, secret)): void {
    const { key, iv } = keys;
    secret.copy(this.view(0, this.suite.hashLength));
    key.copy(this.view(this.suite.hashLength, this.suite.keyLength));
    iv.copy(this.view(this.suite.hashLength + this.suite.keyLength, IV_LENGTH));
  }
}

/**
 * The TLS 1.3 record layer of one established connection (RFC 8446 §5),
 * over buffers: bytes from the peer go in through receive, application
 * data to send goes through seal. Holds, when idle, the two directions'
 * secrets, keys and sequence numbers and nothing else: a partial record
 * or handshake message is kept only while one is incomplete.
 */
export class RecordLayer {
  private readonly read: Direction;
  private readonly write: Direction;
  /** A record whose end has not arrived yet (at most 5 + 2^14 + 256 bytes). */
  private partial: Buffer | null = null;
  private partialLength = 0;
  /** A post-handshake message split across records (§5.1). */
  private handshake: Buffer | null = null;
  private open = true;

  constructor(
    private readonly suite: CipherSuite,
    private readonly role: 'server' | 'client',
    read: DirectionState,
    write: DirectionState,
    private readonly sink: RecordLayerSink,
  ) {
    this.read = new Direction(suite, read);
    this.write = new Direction(suite, write);
  }

  /**
   * The connection is gone: its key store slots go back (zeroed). The layer
   * takes and gives nothing more; call it once the layer is no longer used.
   */
  release(): void {
    this.open = false;
    this.partial = this.handshake = null;
    this.read.release();
    this.write.release();
  }

  /** Whether the connection still takes and gives records. */
  get isOpen(): boolean {
    return this.open;
  }

  /** The next sequence numbers (for tests and diagnostics). */
  get sequence(): { readonly read: number; readonly write: number } {
    return { read: this.read.seq, write: this.write.seq };
  }

  /** Bytes from the peer; `bytes` may be reused by the caller once this returns. */
  receive(bytes: Uint8Array): void {
    let at = 0;
    while (this.open && at < bytes.length) {
      if (this.partial !== null) {
        at += this.fillPartial(bytes, at);
        continue;
      }
      const left = bytes.length - at;
      if (left < RECORD_HEADER_LENGTH) {
        this.keepPartial(bytes.subarray(at), RECORD_HEADER_LENGTH);
        return;
      }
      const length = checkRecordHeader(bytes.subarray(at, at + RECORD_HEADER_LENGTH));
      if (isFault(length)) return this.fail(length);
      const size = RECORD_HEADER_LENGTH + length;
      if (left < size) {
        this.keepPartial(bytes.subarray(at), size);
        return;
      }
      this.openRecord(bytes.subarray(at, at + size));
      at += size;
    }
  }

  /** Application data as records of at most 2^14 bytes each, ready to write. */
  seal(data: Uint8Array): Buffer {
    if (!this.open) return Buffer.alloc(0);
    // The common case, one record under the current keys, without the list.
    if (data.length <= MAX_PLAINTEXT && this.write.seq < RECORDS_PER_KEY)
      return this.protect(ContentType.application_data, data);
    const records: Buffer[] = [];
    let at = 0;
    do {
      if (this.write.seq >= RECORDS_PER_KEY) records.push(this.updateWriteKeys(false));
      const end = Math.min(data.length, at + MAX_PLAINTEXT);
      records.push(this.protect(ContentType.application_data, data.subarray(at, end)));
      at = end;
    } while (at < data.length);
    return records.length === 1 ? records[0]! : Buffer.concat(records);
  }

  /**
   * A KeyUpdate of our own (§4.6.3), protected under the current keys, after
   * which our keys change; `requestPeer` asks the peer to update its own.
   */
  updateWriteKeys(requestPeer: boolean): Buffer {
    const record = this.protect(ContentType.handshake, encodeKeyUpdate(requestPeer));
    this.write.update();
    return record;
  }

  /** Our close_notify (§6.1); the layer then takes and gives nothing more. */
  closeNotify(): Buffer {
    if (!this.open) return Buffer.alloc(0);
    this.open = false;
    this.partial = this.handshake = null;
    return this.protect(ContentType.alert, encodeAlert(AlertDescription.close_notify));
  }

  private protect(type: number, content: Uint8Array): Buffer {
    return protectRecord(this.suite, this.write, this.write.seq++, type, content);
  }

  private keepPartial(start: Uint8Array, size: number): void {
    // Sized for the whole record once the header is known, for the header
    // alone before: a trickling peer costs one buffer, not one per read.
    this.partial = Buffer.allocUnsafe(size);
    this.partialLength = start.length;
    this.partial.set(start);
  }

  /** Copies what the partial record still lacks; opens it once whole. Returns the bytes taken. */
  private fillPartial(bytes: Uint8Array, at: number): number {
    const partial = this.partial!;
    const take = Math.min(partial.length - this.partialLength, bytes.length - at);
    partial.set(bytes.subarray(at, at + take), this.partialLength);
    this.partialLength += take;
    if (this.partialLength < partial.length) return take;
    if (partial.length === RECORD_HEADER_LENGTH) {
      const length = checkRecordHeader(partial);
      if (isFault(length)) {
        this.fail(length);
        return take;
      }
      const whole = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + length);
      partial.copy(whole);
      this.partial = whole;
      return take;
    }
    this.partial = null;
    this.openRecord(partial);
    return take;
  }

  private openRecord(record: Uint8Array): void {
    const opened = unprotectRecord(this.suite, this.read, this.read.seq, record);
    if (isFault(opened)) return this.fail(opened);
    this.read.seq++;
    const { type, content } = opened;
    if (this.handshake !== null && type !== ContentType.handshake) {
      // "Handshake messages MUST NOT be interleaved with other record types" (§5.1).
      return this.fail({
        alert: AlertDescription.unexpected_message,
        reason: 'a record inside a split handshake message',
      });
    }
    if (type === ContentType.application_data) {
      if (content.length > 0) this.sink.data(content);
      return;
    }
    if (type === ContentType.alert) return this.onAlert(content);
    if (type === ContentType.handshake) return this.onHandshake(content);
    this.fail({ alert: AlertDescription.unexpected_message, reason: `a protected record of type ${type}` });
  }

  private onAlert(body: Buffer): void {
    const alert = readAlert(body);
    if (alert.kind === 'ignore') return;
    if (alert.kind === 'malformed') {
      return this.fail({ alert: AlertDescription.decode_error, reason: 'an alert record that is not one alert' });
    }
    if (alert.kind === 'close') {
      this.sink.transmit(this.closeNotify());
      return this.sink.end();
    }
    // An error alert from the peer: nothing is sent back (§6.2), the connection ends.
    this.open = false;
    this.partial = this.handshake = null;
    this.sink.end({ alert: alert.description, reason: `the peer sent alert ${alert.description}` });
  }

  private onHandshake(fragment: Buffer): void {
    if (fragment.length === 0) {
      // "Implementations MUST NOT send zero-length fragments of Handshake types" (§5.1).
      return this.fail({ alert: AlertDescription.unexpected_message, reason: 'an empty handshake record' });
    }
    let bytes = this.handshake === null ? fragment : Buffer.concat([this.handshake, fragment]);
    this.handshake = null;
    while (bytes.length > 0) {
      if (bytes.length < HANDSHAKE_HEADER_LENGTH) {
        this.handshake = bytes;
        return;
      }
      const length = (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
      const limit = this.role === 'client' ? MAX_CLIENT_HANDSHAKE : 1;
      const type = bytes[0]!;
      if (type !== HandshakeType.key_update && !(this.role === 'client' && type === HandshakeType.new_session_ticket)) {
        return this.fail({
          alert: AlertDescription.unexpected_message,
          reason: `a post-handshake message of type ${type}`,
        });
      }
      if (length > limit)
        return this.fail({ alert: AlertDescription.decode_error, reason: 'an oversized post-handshake message' });
      const size = HANDSHAKE_HEADER_LENGTH + length;
      if (bytes.length < size) {
        this.handshake = bytes;
        return;
      }
      const message = readPostHandshake(bytes.subarray(0, size), this.role);
      if (isFault(message)) return this.fail(message);
      bytes = bytes.subarray(size);
      if (message.kind === 'key_update') {
        if (bytes.length > 0) {
          // A KeyUpdate precedes a key change, so it must end its record (§5.1).
          return this.fail({
            alert: AlertDescription.unexpected_message,
            reason: 'a KeyUpdate not at the end of its record',
          });
        }
        this.read.update();
        // "the receiver MUST send a KeyUpdate of its own with request_update
        // set to update_not_requested prior to sending its next Application
        // Data record" (§4.6.3): sent now, so nothing sealed later precedes it.
        if (message.requested) this.sink.transmit(this.updateWriteKeys(false));
      }
    }
  }

  /** Sends the fault's alert (under the current write keys, §6.2) and ends the connection. */
  private fail(fault: RecordFault): void {
    if (!this.open) return;
    const alert = this.protect(ContentType.alert, encodeAlert(fault.alert as AlertDescription));
    this.open = false;
    this.partial = this.handshake = null;
    this.sink.transmit(alert);
    this.sink.end(fault);
  }
}
