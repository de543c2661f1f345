import type { CipherSuite } from './cipher-suite.js';
import { HANDSHAKE_HEADER_LENGTH, HandshakeType } from './post-handshake.js';
import type { DirectionState } from './record-layer.js';
import { ContentType, isFault, RECORD_HEADER_LENGTH, unprotectRecord } from './record-protection.js';
import { nextTrafficSecret, trafficKeys, type TrafficKeys } from './traffic-keys.js';

/**
 * Protected records kept while the suite or the application secret is not
 * known yet: node:tls names the suite only once the handshake is done, and
 * by then OpenSSL may have sent its NewSessionTickets. The handshake flight
 * and the tickets fit; anything more makes the observer lost.
 */
const EARLY_RECORDS_KEPT = 8;
/** The longest record the observer buffers (5 + 2^14 + 256; anything longer breaks the stream anyway). */
const MAX_RECORD = RECORD_HEADER_LENGTH + 16384 + 256;

/**
 * Watches one direction of a TLS 1.3 connection while node:tls (OpenSSL)
 * still runs it, to know where the compact record layer must take over:
 * the current traffic secret and the next sequence number. OpenSSL says
 * neither, and it sends and reads records under the application keys
 * before the handoff (NewSessionTickets, the HTTP upgrade and its answer,
 * maybe a KeyUpdate). So the observer opens every record it sees: a
 * record that opens under the application keys at the expected sequence
 * number counts; one that does not, before the first that does, is a
 * handshake-key record (the server's flight, the client's Finished); a
 * KeyUpdate moves the observer's keys as it moved OpenSSL's. Anything else
 * (a failure after a success, a record too long) makes it `lost`, and the
 * connection then stays on node:tls.
 */
export class RecordObserver {
  private suite: CipherSuite | undefined;
  private secret: Buffer | undefined;
  private keys: TrafficKeys | undefined;
  private seq = 0;
  private opened = false;
  private lostReason: string | undefined;
  private partial = Buffer.alloc(0);
  private early: Buffer[] = [];
  private handshake = Buffer.alloc(0);

  /** The suite and this direction's first application traffic secret (from the key log): records open from now on. */
  begin(suite: CipherSuite, secret: Buffer): void {
    if (this.secret !== undefined) return;
    this.suite = suite;
    this.secret = secret;
    this.keys = trafficKeys(suite, secret);
    const early = this.early;
    this.early = [];
    for (const record of early) this.onRecord(record);
  }

  /** Bytes of this direction, in order, exactly as they crossed the wire. */
  observe(bytes: Uint8Array): void {
    if (this.lostReason !== undefined) return;
    let data = this.partial.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.partial, bytes]);
    while (data.length >= RECORD_HEADER_LENGTH && this.lostReason === undefined) {
      const size = RECORD_HEADER_LENGTH + data.readUInt16BE(3);
      if (size > MAX_RECORD) return this.lose('a record longer than 2^14 + 256');
      if (data.length < size) break;
      this.onRecord(data.subarray(0, size));
      data = data.subarray(size);
    }
    this.partial = Buffer.from(data);
  }

  /** Whether the bytes seen so far end at a record boundary with no handshake message half read. */
  get atBoundary(): boolean {
    return this.partial.length === 0 && this.handshake.length === 0;
  }

  /** Why the observer gave up, if it did. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Where the compact layer takes over, once at least one application record has opened or none was expected. */
  get state(): DirectionState | undefined {
    if (this.lostReason !== undefined || this.secret === undefined) return undefined;
    return { secret: this.secret, seq: this.seq, keys: this.keys! };
  }

  /** Whether any record has opened under the application keys. */
  get sawApplicationRecord(): boolean {
    return this.opened;
  }

  private onRecord(record: Buffer): void {
    if (record[0] !== ContentType.application_data) return; // plaintext handshake, change_cipher_spec
    if (this.keys === undefined) {
      // Past the limit one of them might be an application record, and the
      // count would silently be off: give up rather than guess.
      if (this.early.length === EARLY_RECORDS_KEPT) return this.lose('too many records before the handshake ended');
      this.early.push(Buffer.from(record));
      return;
    }
    const result = unprotectRecord(this.suite!, this.keys, this.seq, record);
    if (isFault(result)) {
      if (this.opened) this.lose(`a record that does not open at sequence ${this.seq}`);
      return; // a handshake-key record
    }
    this.opened = true;
    this.seq++;
    if (result.type === ContentType.handshake) this.onHandshake(result.content);
  }

  private onHandshake(fragment: Buffer): void {
    let bytes = Buffer.concat([this.handshake, fragment]);
    while (bytes.length >= HANDSHAKE_HEADER_LENGTH) {
      const size = HANDSHAKE_HEADER_LENGTH + bytes.readUIntBE(1, 3);
      if (bytes.length < size) break;
      if (bytes[0] === HandshakeType.key_update) {
        this.secret = nextTrafficSecret(this.suite!, this.secret!);
        this.keys = trafficKeys(this.suite!, this.secret);
        this.seq = 0;
      }
      bytes = bytes.subarray(size);
    }
    this.handshake = Buffer.from(bytes);
  }

  private lose(reason: string): void {
    this.lostReason = reason;
    this.partial = Buffer.alloc(0);
    this.early = [];
  }
}
