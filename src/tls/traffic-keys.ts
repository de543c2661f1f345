import { IV_LENGTH, type CipherSuite } from './cipher-suite.js';
import { hkdfExpandLabel } from './hkdf-label.js';

/** One direction's AEAD key and IV, from its traffic secret. */
export interface TrafficKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
}

const EMPTY = new Uint8Array(0);

/**
 * The traffic key and IV of a traffic secret (RFC 8446 §7.3):
 * key = HKDF-Expand-Label(Secret, "key", "", key_length),
 * iv = HKDF-Expand-Label(Secret, "iv", "", iv_length).
 */
export function trafficKeys(suite: CipherSuite, secret: Uint8Array): TrafficKeys {
  return {
    key: hkdfExpandLabel(suite.hash, secret, 'key', EMPTY, suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', EMPTY, IV_LENGTH),
  };
}

/**
 * The next application traffic secret after a KeyUpdate (RFC 8446 §7.2):
 * application_traffic_secret_N+1 = HKDF-Expand-Label(
 * application_traffic_secret_N, "traffic upd", "", Hash.length).
 */
export function nextTrafficSecret(suite: CipherSuite, secret: Uint8Array): Buffer {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', EMPTY, suite.hashLength);
}
