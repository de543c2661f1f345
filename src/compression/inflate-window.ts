/**
 * The last 2^bits bytes a connection's own inflater has produced: the LZ77
 * sliding window (RFC 1951 §2.5) that the peer's next messages may refer back
 * into when it uses context takeover (RFC 7692 §7.2.2). zlib keeps its own
 * copy, which no JavaScript API reads; this one exists so that a handover can
 * carry it, and the new process start a fresh inflater primed with it as its
 * dictionary (inflateSetDictionary) where the old one stopped.
 *
 * A ring of exactly the window's size, allocated at the first message and
 * kept until the connection ends (its bytes are reserved with the session's).
 * Each message costs one copy of at most its last 2^bits bytes, whatever its
 * size: only the tail that the window keeps.
 */
export class InflateWindow {
  private ring: Buffer | null = null;
  /** Where the next byte goes. */
  private next = 0;
  /** Bytes held (≤ size); until the ring first fills they are `ring[0, held)`. */
  private held = 0;

  /** `size`: 2^bits, a power of two. */
  constructor(readonly size: number) {}

  /** Bytes held: min(size, everything inflated since the start or the last clear). */
  get length(): number {
    return this.held;
  }

  /** Records `bytes[start, end)`, just inflated. */
  push(bytes: Buffer, start: number, end: number): void {
    const size = this.size;
    const ring = (this.ring ??= Buffer.allocUnsafeSlow(size));
    const n = end - start;
    if (n >= size) {
      bytes.copy(ring, 0, end - size, end);
      this.next = 0;
      this.held = size;
      return;
    }
    const first = Math.min(n, size - this.next);
    bytes.copy(ring, this.next, start, start + first);
    if (first < n) bytes.copy(ring, 0, start + first, end);
    this.next = (this.next + n) & (size - 1);
    this.held = Math.min(size, this.held + n);
  }

  /** The window's bytes, oldest first (a copy of its own); empty when nothing is held. */
  bytes(): Uint8Array {
    const ring = this.ring;
    if (ring === null || this.held === 0) return new Uint8Array(0);
    if (this.held < this.size) return Uint8Array.prototype.slice.call(ring, 0, this.held);
    const out = new Uint8Array(this.size);
    out.set(ring.subarray(this.next), 0);
    out.set(ring.subarray(0, this.next), this.size - this.next);
    return out;
  }

  /** Empty again (zlib restarted the stream); the ring stays for the next message. */
  clear(): void {
    this.next = 0;
    this.held = 0;
  }
}
