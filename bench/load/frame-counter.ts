/**
 * Counting WebSocket frames in a server's byte stream without copying or decoding payloads: what
 * the raw load processes (load/broadcast-clients.ts, load/garbage-clients.ts) need to prove a
 * delivery while doing the least work on the 2 cores they share with the server measured.
 */

/**
 * Finds the frames in a server→client byte stream, one per connection, across reads: a header
 * split over two reads (rare: it happens only after a frame that ended mid-read) is gathered in a
 * small buffer allocated for that connection the first time it happens.
 */
export class FrameCounter {
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private fin = false;
  private opcode = 0;
  private length = 0;
  private partial: Buffer | null = null;
  private have = 0;

  /** Feeds buf[start, end); calls onFrame(opcode, payloadLength, fin) for every frame completed. */
  feed(buf: Buffer, start: number, end: number, onFrame: (opcode: number, length: number, fin: boolean) => void): void {
    let i = start;
    while (i < end) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, end - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
        continue;
      }
      // A header starts here: 2 bytes, then 0, 2 or 8 bytes of length (servers send no mask).
      if (this.have === 0 && end - i >= 2) {
        const size = headerSize(buf[i + 1]!);
        if (end - i >= size) {
          this.begin(buf, i);
          i += size;
          if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
          continue;
        }
      }
      const partial = (this.partial ??= Buffer.alloc(10));
      partial[this.have++] = buf[i++]!;
      if (this.have >= 2 && this.have === headerSize(partial[1]!)) {
        this.have = 0;
        this.begin(partial, 0);
        if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
      }
    }
  }

  private begin(h: Buffer, at: number): void {
    this.fin = (h[at]! & 0x80) !== 0;
    this.opcode = h[at]! & 0x0f;
    const len7 = h[at + 1]! & 0x7f;
    this.length = len7 === 126 ? h.readUInt16BE(at + 2) : len7 === 127 ? Number(h.readBigUInt64BE(at + 2)) : len7;
    this.remaining = this.length;
  }
}

function headerSize(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
}
