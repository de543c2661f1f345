import type { BufferPool } from '../pool/buffer-pool.js';

/**
 * A frame written to many connections (broadcast, publish): framed once, the
 * same bytes handed to every socket. Each write the kernel did not finish at
 * once holds a reference; the buffer goes back to the pool when the last one
 * completes.
 */
export class SharedFrame {
  /** One reference is held by the broadcast loop itself until it ends. */
  refs = 1;

  constructor(
    readonly buffer: Buffer,
    readonly length: number,
    private readonly pool: BufferPool,
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.pool.release(this.buffer);
  }
}
