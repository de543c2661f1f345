import { createCipheriv } from 'node:crypto';
import type { CipherSuite } from '../../src/tls/cipher-suite.js';
import { recordNonce } from '../../src/tls/record-protection.js';
import type { TrafficKeys } from '../../src/tls/traffic-keys.js';

/**
 * A record sealed with a valid tag around any TLSInnerPlaintext, limits
 * ignored: what a broken or hostile peer that holds the keys can send.
 */
export function sealRaw(suite: CipherSuite, keys: TrafficKeys, seq: number, inner: Uint8Array): Buffer {
  const header = Buffer.of(23, 3, 3, 0, 0);
  header.writeUInt16BE(inner.length + 16, 3);
  const cipher = createCipheriv(suite.aead as 'aes-128-gcm', keys.key, recordNonce(keys.iv, seq), {
    authTagLength: 16,
  });
  cipher.setAAD(header);
  return Buffer.concat([header, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
}
