/**
 * The TLS 1.3 cipher suites the compact record layer can carry (RFC 8446
 * §B.4), each with its AEAD (as node:crypto names it) and its HKDF hash.
 * TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 are left out: OpenSSL
 * does not enable them by default and no browser offers them; a connection
 * that negotiated one stays on node:tls.
 */
export interface CipherSuite {
  /** The IANA / OpenSSL name, as TLSSocket.getCipher().standardName gives it. */
  readonly name: string;
  /** The AEAD as node:crypto's createCipheriv knows it. */
  readonly aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  /** The hash of HKDF and the transcript (§7.1). */
  readonly hash: 'sha256' | 'sha384';
  /** Hash.length: the length of every secret of the key schedule. */
  readonly hashLength: number;
  /** The AEAD key length (§7.3 key_length). */
  readonly keyLength: number;
}

/** All three AEADs here have a 12-byte nonce (iv_length, §5.3) and a 16-byte tag (§5.2). */
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;

export const TLS_AES_128_GCM_SHA256: CipherSuite = {
  name: 'TLS_AES_128_GCM_SHA256',
  aead: 'aes-128-gcm',
  hash: 'sha256',
  hashLength: 32,
  keyLength: 16,
};

export const TLS_AES_256_GCM_SHA384: CipherSuite = {
  name: 'TLS_AES_256_GCM_SHA384',
  aead: 'aes-256-gcm',
  hash: 'sha384',
  hashLength: 48,
  keyLength: 32,
};

export const TLS_CHACHA20_POLY1305_SHA256: CipherSuite = {
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  aead: 'chacha20-poly1305',
  hash: 'sha256',
  hashLength: 32,
  keyLength: 32,
};

const BY_NAME = new Map<string, CipherSuite>(
  [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256].map((s) => [s.name, s]),
);

/** The suite of this name, or undefined: a suite the compact layer does not carry. */
export function cipherSuiteNamed(name: string): CipherSuite | undefined {
  return BY_NAME.get(name);
}
