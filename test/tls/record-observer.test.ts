import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordObserver } from '../../src/tls/record-observer.js';
import { TLS_AES_128_GCM_SHA256 } from '../../src/tls/cipher-suite.js';
import { ContentType, protectRecord } from '../../src/tls/record-protection.js';
import { encodeKeyUpdate } from '../../src/tls/post-handshake.js';
import { nextTrafficSecret, trafficKeys } from '../../src/tls/traffic-keys.js';
import * as v from './rfc8448.js';

const suite = TLS_AES_128_GCM_SHA256;
const serverHello = v.hex('16 03 03 00 02 02 00'); // a plaintext handshake record (contents do not matter here)

// The state carries the keys of its secret (RFC 8448's), derived once: the record layer takes them as they are.
const serverKeys = { key: v.SERVER_AP_KEY, iv: v.SERVER_AP_IV };

test('RFC 8448 §3, the server side: flight (handshake keys) skipped, NewSessionTicket and data counted', () => {
  const observer = new RecordObserver();
  // Bytes before the secret is known are kept, then opened: node:tls names the suite late.
  observer.observe(Buffer.concat([serverHello, v.SERVER_FLIGHT_RECORD]));
  observer.observe(v.NEW_SESSION_TICKET_RECORD.subarray(0, 10));
  assert.equal(observer.atBoundary, false);
  observer.observe(v.NEW_SESSION_TICKET_RECORD.subarray(10));
  observer.begin(suite, v.SERVER_AP_TRAFFIC);
  assert.deepEqual(observer.state, { secret: v.SERVER_AP_TRAFFIC, seq: 1, keys: serverKeys });
  observer.observe(v.SERVER_APPLICATION_RECORD);
  assert.deepEqual(observer.state, { secret: v.SERVER_AP_TRAFFIC, seq: 2, keys: serverKeys });
  assert.equal(observer.atBoundary, true);
  assert.equal(observer.sawApplicationRecord, true);
});

test('RFC 8448 §3, the client side: its Finished skipped, its data counted', () => {
  const observer = new RecordObserver();
  observer.begin(suite, v.CLIENT_AP_TRAFFIC);
  observer.observe(Buffer.concat([v.CLIENT_FINISHED_RECORD, v.CLIENT_APPLICATION_RECORD]));
  assert.deepEqual(observer.state, {
    secret: v.CLIENT_AP_TRAFFIC,
    seq: 1,
    keys: { key: v.CLIENT_AP_KEY, iv: v.CLIENT_AP_IV },
  });
});

test('a KeyUpdate seen on the wire moves the observer to the next secret, sequence 0', () => {
  const observer = new RecordObserver();
  observer.begin(suite, v.CLIENT_AP_TRAFFIC);
  const keys = trafficKeys(suite, v.CLIENT_AP_TRAFFIC);
  const next = nextTrafficSecret(suite, v.CLIENT_AP_TRAFFIC);
  observer.observe(protectRecord(suite, keys, 0, ContentType.handshake, encodeKeyUpdate(true)));
  observer.observe(protectRecord(suite, trafficKeys(suite, next), 0, ContentType.application_data, Buffer.from('x')));
  assert.deepEqual(observer.state, { secret: next, seq: 1, keys: trafficKeys(suite, next) });
});

test('a record that does not open after one that did makes the observer lost; so do too many early records', () => {
  const observer = new RecordObserver();
  observer.begin(suite, v.CLIENT_AP_TRAFFIC);
  observer.observe(v.CLIENT_APPLICATION_RECORD);
  observer.observe(v.CLIENT_APPLICATION_RECORD); // a replay: seq 1 does not open it
  assert.match(observer.lost ?? '', /does not open/);
  assert.equal(observer.state, undefined);
  const early = new RecordObserver();
  for (let i = 0; i < 9; i++) early.observe(v.CLIENT_FINISHED_RECORD);
  assert.match(early.lost ?? '', /too many records/);
  const huge = new RecordObserver();
  huge.observe(Buffer.of(23, 3, 3, 0xff, 0xff));
  assert.match(huge.lost ?? '', /longer/);
});
