import { randomFillSync } from 'node:crypto';

/**
 * Masking keys for client frames. RFC 6455 §5.3: "The masking key MUST be
 * derived from a strong source of entropy" and be unpredictable per frame.
 * Drawing 4 bytes from the CSPRNG per frame costs a call into OpenSSL each
 * time; this takes them from a 4 KiB block filled at once instead.
 */
export class MaskKeySource {
  private readonly block = Buffer.allocUnsafeSlow(4096);
  private at = this.block.length;

  /** The next key, as a big-endian uint32 (the form applyMask takes). */
  next(): number {
    if (this.at === this.block.length) {
      randomFillSync(this.block);
      this.at = 0;
    }
    const key = this.block.readUInt32BE(this.at);
    this.at += 4;
    return key;
  }
}
