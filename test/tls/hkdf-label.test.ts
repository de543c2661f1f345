import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { deriveSecret, hkdfExpand, hkdfExpandLabel } from '../../src/tls/hkdf-label.js';
import { TLS_AES_128_GCM_SHA256 } from '../../src/tls/cipher-suite.js';
import * as v from './rfc8448.js';

test('HKDF-Expand: RFC 5869 test case 1 (A.1)', () => {
  const prk = v.hex('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  const info = v.hex('f0f1f2f3f4f5f6f7f8f9');
  const okm = v.hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  assert.deepEqual(hkdfExpand('sha256', prk, info, 42), okm);
});

test('HKDF-Expand agrees with node:crypto HKDF (Extract then Expand) at lengths across block edges', () => {
  const ikm = Buffer.from('input keying material');
  const salt = Buffer.from('salt');
  for (const hash of ['sha256', 'sha384']) {
    const prk = createHmac(hash, salt).update(ikm).digest();
    for (const length of [1, 12, 16, 32, 33, 48, 64, 65, 255]) {
      const want = Buffer.from(hkdfSync(hash, ikm, salt, Buffer.from('info'), length));
      assert.deepEqual(hkdfExpand(hash, prk, Buffer.from('info'), length), want, `${hash} ${length}`);
    }
  }
});

test('HKDF-Expand-Label builds the HkdfLabel of RFC 8448 (key info 00 10 09 "tls13 key" 00)', () => {
  // The "key info (13 octets)" block of every "derive write traffic keys" step.
  const info = v.hex('00 10 09 74 6c 73 31 33 20 6b 65 79 00');
  assert.deepEqual(
    hkdfExpandLabel('sha256', v.SERVER_HS_TRAFFIC, 'key', new Uint8Array(0), 16),
    hkdfExpand('sha256', v.SERVER_HS_TRAFFIC, info, 16),
  );
  assert.deepEqual(hkdfExpandLabel('sha256', v.SERVER_HS_TRAFFIC, 'key', new Uint8Array(0), 16), v.SERVER_HS_KEY);
});

test('Derive-Secret reproduces RFC 8448 §3 handshake and application traffic secrets', () => {
  const suite = TLS_AES_128_GCM_SHA256;
  assert.deepEqual(deriveSecret(suite, v.HANDSHAKE_SECRET, 'c hs traffic', v.HELLO_HASH), v.CLIENT_HS_TRAFFIC);
  assert.deepEqual(deriveSecret(suite, v.HANDSHAKE_SECRET, 's hs traffic', v.HELLO_HASH), v.SERVER_HS_TRAFFIC);
  assert.deepEqual(deriveSecret(suite, v.MASTER_SECRET, 'c ap traffic', v.SERVER_FINISHED_HASH), v.CLIENT_AP_TRAFFIC);
  assert.deepEqual(deriveSecret(suite, v.MASTER_SECRET, 's ap traffic', v.SERVER_FINISHED_HASH), v.SERVER_AP_TRAFFIC);
  assert.deepEqual(deriveSecret(suite, v.MASTER_SECRET, 'exp master', v.SERVER_FINISHED_HASH), v.EXPORTER_MASTER);
});
