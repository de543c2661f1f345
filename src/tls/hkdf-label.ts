import { createHmac } from 'node:crypto';
import type { CipherSuite } from './cipher-suite.js';

/**
 * HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i), the
 * first `length` bytes of T(1) | T(2) | ... node:crypto's hkdfSync always
 * runs Extract first, and TLS 1.3 expands secrets that are already PRKs, so
 * Expand is written out here (a handful of HMACs per key change).
 */
export function hkdfExpand(hash: string, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let previous = Buffer.alloc(0);
  let filled = 0;
  for (let i = 1; filled < length; i++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.of(i)).digest();
    filled += previous.copy(out, filled);
  }
  return out;
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1): the info is the HkdfLabel struct,
 * uint16 length | opaque label<7..255> = "tls13 " + Label | opaque
 * context<0..255>.
 */
export function hkdfExpandLabel(
  hash: string,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  const fullLabel = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.allocUnsafe(2 + 1 + fullLabel.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return hkdfExpand(hash, secret, info, length);
}

/**
 * Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1), given the
 * transcript hash of Messages (the compact layer never sees the handshake,
 * so it takes the hash, not the messages).
 */
export function deriveSecret(
  suite: CipherSuite,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Buffer {
  return hkdfExpandLabel(suite.hash, secret, label, transcriptHash, suite.hashLength);
}
