import type { BufferPool } from '../../pool/buffer-pool.js';

/**
 * A frame written to many connections (broadcast, publish): framed once, the
 * same bytes handed to every socket. Each write the kernel did not finish at
 * once holds a reference; the buffer goes back to the pool when the last one
 * completes.
 */
export class SharedFrame {
  /** One reference is held by the broadcast loop itself until it ends. */
  refs = 1;
  /**
   * The frame's exact bytes: one view made once, so writing it to every
   * receiver allocates nothing per receiver (the pooled buffer is longer).
   */
  readonly bytes: Buffer;

  constructor(
    readonly buffer: Buffer,
    readonly length: number,
    private readonly pool: BufferPool,
  ) {
    this.bytes = buffer.subarray(0, length);
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.pool.release(this.buffer);
  }
}
