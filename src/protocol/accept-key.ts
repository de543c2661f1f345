import * as crypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';

/** The GUID that RFC 6455 §1.3 appends to the client's key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * The |Sec-WebSocket-Accept| value for a |Sec-WebSocket-Key| (RFC 6455 §4.2.2
 * item 5.4): base64(SHA-1(key + GUID)). The key is hashed as sent (trimmed of
 * OWS by the header parser), not base64-decoded.
 */
export function acceptKey(key: string): string {
  return acceptKeyWith(oneShotHash, key);
}

/** `crypto.hash` (Node ≥ 20.12 / 21.7): one call, no Hash object, about 2.7× faster than createHash here. */
export type OneShotHash = (algorithm: string, data: string, outputEncoding: 'base64') => string;

const oneShotHash = (crypto as { hash?: OneShotHash }).hash;

/**
 * acceptKey with the one-shot hash when there is one (undefined: the
 * createHash road of older Nodes). The one-shot hash reads a string as
 * UTF-8, the same bytes as latin1 only for ASCII: any other key (which
 * isValidKey never lets through, but acceptKey is public) takes createHash.
 */
export function acceptKeyWith(hash: OneShotHash | undefined, key: string): string {
  if (hash !== undefined && isAscii(key)) return hash('sha1', key + WEBSOCKET_GUID, 'base64');
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID, 'latin1')
    .digest('base64');
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A fresh |Sec-WebSocket-Key| for the client role: 16 random bytes, base64 (RFC 6455 §4.1 item 7). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** Base64 alphabet (RFC 4648 §4), as a lookup table. */
const BASE64 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64[c.charCodeAt(0)] = 1;

/**
 * Does `key` base64-decode to exactly 16 bytes (RFC 6455 §4.2.1 item 5)? That
 * is 22 alphabet characters and `==`. The 4 unused bits of the 22nd character
 * are not checked: decoders ignore them, and so do ws and browsers.
 */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || BASE64[c] !== 1) return false;
  }
  return true;
}
