import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkRecordHeader,
  ContentType,
  isFault,
  protectRecord,
  recordNonce,
  unprotectRecord,
  type OpenedRecord,
} from '../../src/tls/record-protection.js';
import { AlertDescription } from '../../src/tls/alert.js';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
} from '../../src/tls/cipher-suite.js';
import { trafficKeys, type TrafficKeys } from '../../src/tls/traffic-keys.js';
import * as v from './rfc8448.js';
import { sealRaw } from './raw-seal.js';

const suite = TLS_AES_128_GCM_SHA256;
const serverHs: TrafficKeys = { key: v.SERVER_HS_KEY, iv: v.SERVER_HS_IV };
const clientHs: TrafficKeys = { key: v.CLIENT_HS_KEY, iv: v.CLIENT_HS_IV };
const serverAp: TrafficKeys = { key: v.SERVER_AP_KEY, iv: v.SERVER_AP_IV };
const clientAp: TrafficKeys = { key: v.CLIENT_AP_KEY, iv: v.CLIENT_AP_IV };

function opened(result: ReturnType<typeof unprotectRecord>): OpenedRecord {
  assert.ok(!isFault(result), isFault(result) ? result.reason : '');
  return result;
}

test('the nonce is the IV XOR the 64-bit sequence number, left-padded (RFC 8446 §5.3)', () => {
  const iv = v.hex('00 00 00 00 ff ff ff ff ff ff ff ff');
  assert.deepEqual(recordNonce(iv, 0), iv);
  assert.deepEqual(recordNonce(iv, 1), v.hex('00 00 00 00 ff ff ff ff ff ff ff fe'));
  assert.deepEqual(recordNonce(iv, 2 ** 32 + 2), v.hex('00 00 00 00 ff ff ff fe ff ff ff fd'));
  assert.deepEqual(recordNonce(Buffer.alloc(12), 2 ** 52 + 5), v.hex('00 00 00 00 00 10 00 00 00 00 00 05'));
});

test('RFC 8448 §3: application_data records, both ways, byte for byte', () => {
  assert.deepEqual(
    protectRecord(suite, clientAp, 0, ContentType.application_data, v.APPLICATION_PAYLOAD),
    v.CLIENT_APPLICATION_RECORD,
  );
  assert.deepEqual(
    protectRecord(suite, serverAp, 1, ContentType.application_data, v.APPLICATION_PAYLOAD),
    v.SERVER_APPLICATION_RECORD,
  );
  const c = opened(unprotectRecord(suite, clientAp, 0, v.CLIENT_APPLICATION_RECORD));
  assert.equal(c.type, ContentType.application_data);
  assert.deepEqual(c.content, v.APPLICATION_PAYLOAD);
  const s = opened(unprotectRecord(suite, serverAp, 1, v.SERVER_APPLICATION_RECORD));
  assert.deepEqual(s.content, v.APPLICATION_PAYLOAD);
});

test('RFC 8448 §3: the NewSessionTicket record (server application keys, seq 0) and the close_notify alerts', () => {
  assert.deepEqual(
    protectRecord(suite, serverAp, 0, ContentType.handshake, v.NEW_SESSION_TICKET),
    v.NEW_SESSION_TICKET_RECORD,
  );
  const nst = opened(unprotectRecord(suite, serverAp, 0, v.NEW_SESSION_TICKET_RECORD));
  assert.equal(nst.type, ContentType.handshake);
  assert.deepEqual(nst.content, v.NEW_SESSION_TICKET);
  const closeNotify = Buffer.of(1, 0);
  assert.deepEqual(protectRecord(suite, clientAp, 1, ContentType.alert, closeNotify), v.CLIENT_ALERT_RECORD);
  assert.deepEqual(protectRecord(suite, serverAp, 2, ContentType.alert, closeNotify), v.SERVER_ALERT_RECORD);
  assert.deepEqual(opened(unprotectRecord(suite, serverAp, 2, v.SERVER_ALERT_RECORD)), {
    type: ContentType.alert,
    content: closeNotify,
  });
});

test('RFC 8448 §3: the handshake-key records (the server flight and the client Finished)', () => {
  const flight = opened(unprotectRecord(suite, serverHs, 0, v.SERVER_FLIGHT_RECORD));
  assert.equal(flight.type, ContentType.handshake);
  assert.equal(flight.content[0], 8, 'EncryptedExtensions first');
  assert.deepEqual(flight.content.subarray(flight.content.length - 36), v.SERVER_FINISHED);
  assert.deepEqual(protectRecord(suite, serverHs, 0, ContentType.handshake, flight.content), v.SERVER_FLIGHT_RECORD);
  assert.deepEqual(
    protectRecord(suite, clientHs, 0, ContentType.handshake, v.CLIENT_FINISHED),
    v.CLIENT_FINISHED_RECORD,
  );
  assert.deepEqual(opened(unprotectRecord(suite, clientHs, 0, v.CLIENT_FINISHED_RECORD)).content, v.CLIENT_FINISHED);
});

test('a wrong sequence number, key or header byte fails the tag: bad_record_mac', () => {
  for (const [keys, seq, record] of [
    [clientAp, 1, v.CLIENT_APPLICATION_RECORD],
    [serverAp, 0, v.CLIENT_APPLICATION_RECORD],
    [
      clientAp,
      0,
      Buffer.concat([
        v.CLIENT_APPLICATION_RECORD.subarray(0, 1),
        Buffer.of(3, 1),
        v.CLIENT_APPLICATION_RECORD.subarray(3),
      ]),
    ],
  ] as const) {
    const result = unprotectRecord(suite, keys, seq, record);
    assert.ok(isFault(result));
    assert.equal(result.alert, AlertDescription.bad_record_mac);
  }
});

test('padding is stripped and the true type found (§5.4); all-zero plaintext is unexpected_message', () => {
  const padded = protectRecord(suite, clientAp, 7, ContentType.application_data, Buffer.from('hi'), 300);
  assert.equal(padded.length, 5 + 2 + 1 + 300 + 16);
  assert.deepEqual(opened(unprotectRecord(suite, clientAp, 7, padded)).content, Buffer.from('hi'));
  const noType = protectRecord(suite, clientAp, 8, 0, Buffer.alloc(0), 10);
  const result = unprotectRecord(suite, clientAp, 8, noType);
  assert.ok(isFault(result));
  assert.equal(result.alert, AlertDescription.unexpected_message);
});

test('record size limits (§5.1, §5.2): header over 2^14+256 and inner plaintext over 2^14+1 are record_overflow', () => {
  const header = Buffer.of(23, 3, 3, 0, 0);
  header.writeUInt16BE(16384 + 256, 3);
  assert.equal(checkRecordHeader(header), 16640);
  header.writeUInt16BE(16384 + 257, 3);
  const over = checkRecordHeader(header);
  assert.ok(isFault(over));
  assert.equal(over.alert, AlertDescription.record_overflow);
  // 2^14 bytes of content plus padding to 2^14 + 2 inner bytes: the peer broke §5.4.
  assert.throws(() => protectRecord(suite, clientAp, 0, 23, Buffer.alloc(16384), 1), RangeError);
  const keys = trafficKeys(suite, Buffer.alloc(32, 9));
  const sneaky = sealRaw(suite, keys, 0, Buffer.concat([Buffer.alloc(16384, 0x61), Buffer.of(23, 0)]));
  const result = unprotectRecord(suite, keys, 0, sneaky);
  assert.ok(isFault(result));
  assert.equal(result.alert, AlertDescription.record_overflow);
  const full = protectRecord(suite, keys, 1, 23, Buffer.alloc(16384, 0x62));
  assert.equal(opened(unprotectRecord(suite, keys, 1, full)).content.length, 16384);
});

test('plaintext records and change_cipher_spec after the handshake are unexpected_message (§5)', () => {
  for (const type of [20, 21, 22, 24, 0, 255]) {
    const fault = checkRecordHeader(Buffer.of(type, 3, 3, 0, 2));
    assert.ok(isFault(fault));
    assert.equal(fault.alert, AlertDescription.unexpected_message, `type ${type}`);
  }
});

test('AES-256-GCM and ChaCha20-Poly1305 round-trip; short records are bad_record_mac', () => {
  for (const s of [TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256]) {
    const keys = trafficKeys(s, Buffer.alloc(s.hashLength, 3));
    const record = protectRecord(s, keys, 42, ContentType.application_data, Buffer.from('payload'));
    assert.deepEqual(opened(unprotectRecord(s, keys, 42, record)).content, Buffer.from('payload'));
    const wrong = unprotectRecord(s, keys, 41, record);
    assert.ok(isFault(wrong) && wrong.alert === AlertDescription.bad_record_mac, s.name);
    const tooShort = Buffer.of(23, 3, 3, 0, 16, ...Buffer.alloc(16));
    const short = unprotectRecord(s, keys, 0, tooShort);
    assert.ok(isFault(short) && short.alert === AlertDescription.bad_record_mac);
  }
});

test('a sealed record is content | type | zero padding under the AEAD, laid out in place, byte for byte', () => {
  const keys = trafficKeys(suite, Buffer.alloc(32, 5));
  for (const [content, padding] of [
    [Buffer.from('frames'), 0],
    [Buffer.alloc(0), 3],
    [Buffer.alloc(1000, 0x7f), 40],
  ] as const) {
    const inner = Buffer.concat([content, Buffer.of(ContentType.handshake), Buffer.alloc(padding)]);
    assert.deepEqual(
      protectRecord(suite, keys, 3, ContentType.handshake, content, padding),
      sealRaw(suite, keys, 3, inner),
    );
  }
  // The nonce can be written into a buffer of the caller's (the layer's scratch one).
  const into = Buffer.alloc(12, 0xee);
  assert.equal(recordNonce(keys.iv, 3, into), into);
  assert.deepEqual(into, recordNonce(keys.iv, 3));
});

test('a tag that fails leaves Error.stackTraceLimit as it was (it is lowered only while the open runs)', () => {
  const before = Error.stackTraceLimit;
  const record = Buffer.from(v.CLIENT_APPLICATION_RECORD);
  record[record.length - 1]! ^= 1;
  const result = unprotectRecord(suite, clientAp, 0, record);
  assert.ok(isFault(result));
  assert.equal(result.alert, AlertDescription.bad_record_mac);
  assert.equal(Error.stackTraceLimit, before);
});

test('where Error.stackTraceLimit is frozen, records still open and a bad tag is still bad_record_mac', () => {
  const descriptor = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')!;
  Object.defineProperty(Error, 'stackTraceLimit', { ...descriptor, writable: false });
  try {
    assert.deepEqual(
      opened(unprotectRecord(suite, clientAp, 0, v.CLIENT_APPLICATION_RECORD)).content,
      v.APPLICATION_PAYLOAD,
    );
    const record = Buffer.from(v.CLIENT_APPLICATION_RECORD);
    record[10]! ^= 1;
    const result = unprotectRecord(suite, clientAp, 0, record);
    assert.ok(isFault(result));
    assert.equal(result.alert, AlertDescription.bad_record_mac);
  } finally {
    Object.defineProperty(Error, 'stackTraceLimit', descriptor);
  }
});
