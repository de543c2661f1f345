import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTrafficSecret, trafficKeys } from '../../src/tls/traffic-keys.js';
import { hkdfExpand } from '../../src/tls/hkdf-label.js';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  cipherSuiteNamed,
} from '../../src/tls/cipher-suite.js';
import * as v from './rfc8448.js';

test('traffic key and IV of each RFC 8448 §3 traffic secret', () => {
  const suite = TLS_AES_128_GCM_SHA256;
  assert.deepEqual(trafficKeys(suite, v.SERVER_HS_TRAFFIC), { key: v.SERVER_HS_KEY, iv: v.SERVER_HS_IV });
  assert.deepEqual(trafficKeys(suite, v.CLIENT_HS_TRAFFIC), { key: v.CLIENT_HS_KEY, iv: v.CLIENT_HS_IV });
  assert.deepEqual(trafficKeys(suite, v.SERVER_AP_TRAFFIC), { key: v.SERVER_AP_KEY, iv: v.SERVER_AP_IV });
  assert.deepEqual(trafficKeys(suite, v.CLIENT_AP_TRAFFIC), { key: v.CLIENT_AP_KEY, iv: v.CLIENT_AP_IV });
});

test('key lengths follow the suite: 16 for AES-128-GCM, 32 for AES-256-GCM and ChaCha20-Poly1305; IV 12', () => {
  const secret48 = Buffer.alloc(48, 7);
  assert.equal(trafficKeys(TLS_AES_256_GCM_SHA384, secret48).key.length, 32);
  assert.equal(trafficKeys(TLS_CHACHA20_POLY1305_SHA256, v.SERVER_AP_TRAFFIC).key.length, 32);
  assert.equal(trafficKeys(TLS_AES_256_GCM_SHA384, secret48).iv.length, 12);
});

test('the KeyUpdate secret is HKDF-Expand-Label(secret, "traffic upd", "", Hash.length) (RFC 8446 §7.2)', () => {
  // The HkdfLabel written out by hand: length 32, label "tls13 traffic upd" (17), empty context.
  const info = Buffer.concat([Buffer.of(0, 32, 17), Buffer.from('tls13 traffic upd'), Buffer.of(0)]);
  const next = nextTrafficSecret(TLS_AES_128_GCM_SHA256, v.SERVER_AP_TRAFFIC);
  assert.deepEqual(next, hkdfExpand('sha256', v.SERVER_AP_TRAFFIC, info, 32));
  assert.notDeepEqual(next, v.SERVER_AP_TRAFFIC);
  assert.equal(nextTrafficSecret(TLS_AES_256_GCM_SHA384, Buffer.alloc(48, 1)).length, 48);
});

test('suites by their IANA names; a CCM suite is not carried', () => {
  assert.equal(cipherSuiteNamed('TLS_AES_128_GCM_SHA256'), TLS_AES_128_GCM_SHA256);
  assert.equal(cipherSuiteNamed('TLS_CHACHA20_POLY1305_SHA256'), TLS_CHACHA20_POLY1305_SHA256);
  assert.equal(cipherSuiteNamed('TLS_AES_128_CCM_SHA256'), undefined);
  assert.equal(cipherSuiteNamed('ECDHE-RSA-AES128-GCM-SHA256'), undefined);
});
