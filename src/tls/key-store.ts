import { IV_LENGTH } from './cipher-suite.js';

/** The most one direction holds: a SHA-384 secret, an AES-256 (or ChaCha20) key and the IV. */
export const MAX_DIRECTION_BYTES = 48 + 32 + IV_LENGTH;
const SLOTS_PER_CHUNK = 512;

/**
 * The traffic secrets, keys and IVs of every compact connection, in slots of
 * a few large shared buffers. An idle connection keeps a slot number, not a
 * Buffer of its own: a small Buffer per direction costs a JS object, an
 * ArrayBuffer, its backing store and a malloc'd block (about 300 bytes for
 * 60 bytes of keys). Per record the key and IV are viewed from the slot.
 * A slot given back is zeroed, so freed keys do not linger in memory (unlike
 * the Buffers they replace); slots are reused, chunks are never freed (a
 * chunk is about 47 KiB: 512 directions).
 */
export class KeyStore {
  private readonly chunks: Buffer[] = [];
  private readonly free: number[] = [];
  private next = 0;

  /** A zeroed slot of MAX_DIRECTION_BYTES. */
  take(): number {
    const slot = this.free.pop() ?? this.next++;
    if (slot >= this.chunks.length * SLOTS_PER_CHUNK)
      this.chunks.push(Buffer.alloc(SLOTS_PER_CHUNK * MAX_DIRECTION_BYTES));
    return slot;
  }

  /** `length` bytes at `offset` of slot `slot`: valid until the slot is given back. */
  view(slot: number, offset: number, length: number): Buffer {
    const chunk = this.chunks[Math.floor(slot / SLOTS_PER_CHUNK)]!;
    const start = (slot % SLOTS_PER_CHUNK) * MAX_DIRECTION_BYTES + offset;
    return chunk.subarray(start, start + length);
  }

  /** Zeroes the slot and makes it available again. */
  give(slot: number): void {
    this.view(slot, 0, MAX_DIRECTION_BYTES).fill(0);
    this.free.push(slot);
  }

  /** Slots in use (for tests). */
  get inUse(): number {
    return this.next - this.free.length;
  }
}

/** The process's one store: every compact connection's key material. */
export const KEY_STORE = new KeyStore();
