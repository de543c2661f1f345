import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORDS_PER_KEY } from '../../src/tls/record-layer.js';
import { AlertDescription } from '../../src/tls/alert.js';
import { TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256 } from '../../src/tls/cipher-suite.js';
import { ContentType, protectRecord, unprotectRecord, isFault } from '../../src/tls/record-protection.js';
import { trafficKeys } from '../../src/tls/traffic-keys.js';
import { encodeKeyUpdate } from '../../src/tls/post-handshake.js';
import { layerPair } from './layer-pair.js';
import { sealRaw } from './raw-seal.js';
import * as v from './rfc8448.js';

const suite = TLS_AES_128_GCM_SHA256;

test('RFC 8448 §3 after the handshake: the server layer, sequence continuing after the NewSessionTicket', () => {
  // The server sent the NewSessionTicket under its application keys (seq 0): the layer starts at 1.
  const { server, atServer } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC, { server: 1 });
  server.receive(v.CLIENT_APPLICATION_RECORD);
  assert.deepEqual(Buffer.concat(atServer.received), v.APPLICATION_PAYLOAD);
  assert.deepEqual(server.seal(v.APPLICATION_PAYLOAD), v.SERVER_APPLICATION_RECORD);
  // The client's close_notify: the server answers with its own, the RFC's record, and ends cleanly.
  server.receive(v.CLIENT_ALERT_RECORD);
  assert.deepEqual(atServer.drain(), v.SERVER_ALERT_RECORD);
  assert.deepEqual(atServer.ended, { fault: undefined });
  assert.equal(server.isOpen, false);
  assert.deepEqual(server.seal(Buffer.from('late')), Buffer.alloc(0));
});

test('a layer handed the keys of its secrets (the observer derived them) uses them rather than deriving them again', async () => {
  const { RecordLayer } = await import('../../src/tls/record-layer.js');
  const { Recorder } = await import('./layer-pair.js');
  // Secrets that are not the RFC's, keys that are: only the keys handed over can give the RFC's record.
  const zeros = Buffer.alloc(32);
  const read = { secret: zeros, seq: 0, keys: trafficKeys(suite, v.CLIENT_AP_TRAFFIC) };
  const write = { secret: zeros, seq: 1, keys: trafficKeys(suite, v.SERVER_AP_TRAFFIC) };
  const atServer = new Recorder();
  const server = new RecordLayer(suite, 'server', read, write, atServer);
  server.receive(v.CLIENT_APPLICATION_RECORD);
  assert.deepEqual(Buffer.concat(atServer.received), v.APPLICATION_PAYLOAD);
  assert.deepEqual(server.seal(v.APPLICATION_PAYLOAD), v.SERVER_APPLICATION_RECORD);
  server.release();
});

test('records arriving one byte at a time, and many in one read, give the same data', () => {
  const { server, client, atServer } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  const wire = Buffer.concat([
    client.seal(Buffer.from('hello ')),
    client.seal(Buffer.from('')),
    client.seal(Buffer.from('world')),
  ]);
  for (let i = 0; i < wire.length; i++) server.receive(wire.subarray(i, i + 1));
  assert.equal(atServer.text, 'hello world');
  const more = Buffer.concat([
    client.seal(Buffer.from('a')),
    client.seal(Buffer.from('b')),
    client.seal(Buffer.from('c')),
  ]);
  server.receive(more);
  assert.equal(atServer.text, 'hello worldabc');
  assert.deepEqual(server.sequence, { read: 6, write: 0 });
  assert.equal(atServer.ended, undefined);
});

test('seal splits data into records of at most 2^14 bytes', () => {
  const { server, client, atClient } = layerPair(
    TLS_CHACHA20_POLY1305_SHA256,
    Buffer.alloc(32, 1),
    Buffer.alloc(32, 2),
  );
  const data = Buffer.alloc(40000, 0x5a);
  const wire = server.seal(data);
  assert.equal(wire.length, 40000 + 3 * (5 + 1 + 16));
  client.receive(wire);
  assert.deepEqual(Buffer.concat(atClient.received), data);
  assert.deepEqual(client.sequence.read, 3);
});

test('KeyUpdate from the peer, update_requested: read keys change, and ours change after our own KeyUpdate (§4.6.3)', () => {
  const { server, client, atServer, atClient } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  server.receive(client.updateWriteKeys(true));
  assert.deepEqual(server.sequence, { read: 0, write: 0 }, 'read reset to 0; write reset after the reply');
  const reply = atServer.drain();
  assert.ok(reply.length > 0);
  client.receive(reply);
  assert.equal(atClient.transmitted.length, 0, 'update_not_requested asks for nothing');
  server.receive(client.seal(Buffer.from('after')));
  assert.equal(atServer.text, 'after');
  client.receive(server.seal(Buffer.from('both ways')));
  assert.equal(atClient.text, 'both ways');
  // update_not_requested: no answer.
  server.receive(client.updateWriteKeys(false));
  assert.equal(atServer.transmitted.length, 0);
  server.receive(client.seal(Buffer.from('!')));
  assert.equal(atServer.text, 'after!');
  assert.equal(atServer.ended, undefined);
});

test('the layer updates its own keys before a key has sealed 2^23 records', () => {
  const { server, client, atClient } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC, {
    server: RECORDS_PER_KEY,
  });
  const wire = server.seal(Buffer.from('x'));
  // A KeyUpdate at seq 2^23 under the old key, then 'x' at seq 0 under the new one.
  assert.deepEqual(server.sequence.write, 1);
  client.receive(wire);
  assert.equal(atClient.text, 'x');
  assert.equal(atClient.ended, undefined);
  assert.deepEqual(client.sequence.read, 1);
});

test('a KeyUpdate split across two records is reassembled (§5.1)', () => {
  const { server, atServer } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  const keys = trafficKeys(suite, v.CLIENT_AP_TRAFFIC);
  const ku = encodeKeyUpdate(false);
  server.receive(protectRecord(suite, keys, 0, ContentType.handshake, ku.subarray(0, 2)));
  server.receive(protectRecord(suite, keys, 1, ContentType.handshake, ku.subarray(2)));
  assert.equal(atServer.ended, undefined);
  assert.deepEqual(server.sequence.read, 0);
});

function faultOf(records: Buffer[], role: 'server' | 'client' = 'server'): number | undefined {
  const { server, client, atServer, atClient } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  const layer = role === 'server' ? server : client;
  const at = role === 'server' ? atServer : atClient;
  for (const r of records) layer.receive(r);
  return at.ended?.fault?.alert;
}

test('post-handshake faults and their alerts', () => {
  const c = trafficKeys(suite, v.CLIENT_AP_TRAFFIC);
  const hs = (seq: number, body: Buffer): Buffer => protectRecord(suite, c, seq, ContentType.handshake, body);
  // KeyUpdate with a request value other than 0 or 1: illegal_parameter.
  assert.equal(faultOf([hs(0, Buffer.of(24, 0, 0, 1, 2))]), AlertDescription.illegal_parameter);
  // KeyUpdate with a 2-byte body: decode_error.
  assert.equal(faultOf([hs(0, Buffer.of(24, 0, 0, 2, 0, 0))]), AlertDescription.decode_error);
  // KeyUpdate followed by more in the same record: unexpected_message (§5.1).
  assert.equal(
    faultOf([hs(0, Buffer.concat([encodeKeyUpdate(false), encodeKeyUpdate(false)]))]),
    AlertDescription.unexpected_message,
  );
  // A NewSessionTicket sent to a server; a CertificateRequest (no post-handshake auth was offered).
  assert.equal(faultOf([hs(0, v.NEW_SESSION_TICKET)]), AlertDescription.unexpected_message);
  assert.equal(faultOf([hs(0, Buffer.of(13, 0, 0, 0))]), AlertDescription.unexpected_message);
  // An empty handshake record, and application data inside a split handshake message.
  assert.equal(faultOf([hs(0, Buffer.alloc(0))]), AlertDescription.unexpected_message);
  assert.equal(
    faultOf([hs(0, Buffer.of(24, 0)), protectRecord(suite, c, 1, ContentType.application_data, Buffer.from('x'))]),
    AlertDescription.unexpected_message,
  );
  // A protected change_cipher_spec, or an unknown inner type.
  assert.equal(
    faultOf([protectRecord(suite, c, 0, ContentType.change_cipher_spec, Buffer.of(1))]),
    AlertDescription.unexpected_message,
  );
  assert.equal(faultOf([protectRecord(suite, c, 0, 99, Buffer.of(1))]), AlertDescription.unexpected_message);
  // Two alerts in one record: decode_error.
  assert.equal(
    faultOf([protectRecord(suite, c, 0, ContentType.alert, Buffer.of(1, 0, 1, 0))]),
    AlertDescription.decode_error,
  );
  // A record whose inner plaintext is too long.
  assert.equal(faultOf([sealRaw(suite, c, 0, Buffer.alloc(16386, 23))]), AlertDescription.record_overflow);
});

test('the client role keeps NewSessionTicket (split across records) without fault', () => {
  const s = trafficKeys(suite, v.SERVER_AP_TRAFFIC);
  const { client, atClient } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  client.receive(v.NEW_SESSION_TICKET_RECORD);
  client.receive(protectRecord(suite, s, 1, ContentType.handshake, v.NEW_SESSION_TICKET.subarray(0, 100)));
  client.receive(protectRecord(suite, s, 2, ContentType.handshake, v.NEW_SESSION_TICKET.subarray(100)));
  client.receive(protectRecord(suite, s, 3, ContentType.application_data, Buffer.from('ok')));
  assert.equal(atClient.text, 'ok');
  assert.equal(atClient.ended, undefined);
});

test('a fault sends the right alert under the current keys, then nothing more is taken', () => {
  const { server, atServer } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC, { server: 5 });
  const bad = Buffer.from(v.CLIENT_APPLICATION_RECORD);
  bad[30]! ^= 1;
  server.receive(bad);
  assert.equal(atServer.ended?.fault?.alert, AlertDescription.bad_record_mac);
  const alert = unprotectRecord(suite, trafficKeys(suite, v.SERVER_AP_TRAFFIC), 5, atServer.drain());
  assert.ok(!isFault(alert));
  assert.deepEqual(alert, { type: ContentType.alert, content: Buffer.of(2, AlertDescription.bad_record_mac) });
  server.receive(v.CLIENT_APPLICATION_RECORD);
  assert.equal(atServer.received.length, 0);
  assert.equal(atServer.transmitted.length, 0);
});

test('an error alert from the peer ends the connection with nothing sent back (§6.2); user_canceled is not an end', () => {
  const c = trafficKeys(suite, v.CLIENT_AP_TRAFFIC);
  const { server, atServer } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC);
  server.receive(protectRecord(suite, c, 0, ContentType.alert, Buffer.of(1, AlertDescription.user_canceled)));
  assert.equal(atServer.transmitted.length, 0);
  // A warning-level internal_error is still an error (§6.2: regardless of the level).
  server.receive(protectRecord(suite, c, 1, ContentType.alert, Buffer.of(1, AlertDescription.internal_error)));
  assert.equal(atServer.ended?.fault?.alert, AlertDescription.internal_error);
  assert.equal(atServer.transmitted.length, 0);
});

test('closeNotify seals a close_notify (the server alert record of RFC 8448 at seq 2) and closes the layer', () => {
  const { server } = layerPair(suite, v.CLIENT_AP_TRAFFIC, v.SERVER_AP_TRAFFIC, { server: 2 });
  assert.deepEqual(server.closeNotify(), v.SERVER_ALERT_RECORD);
  assert.equal(server.isOpen, false);
  assert.deepEqual(server.closeNotify(), Buffer.alloc(0));
});
