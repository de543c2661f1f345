import zlib from 'node:zlib';

/**
 * One zlib stream (raw deflate or raw inflate, RFC 1951), driven
 * synchronously on the calling thread.
 *
 * Why not the public APIs: `zlib.deflateRawSync` and friends build a new
 * context per call (a deflate context is ~90–230 KB of memory to set up and
 * free for every message) and close it at the end; the stream API queues the
 * work in libuv's thread pool, where a burst of messages becomes an unbounded
 * queue of buffers (ws issue 1369). So lightws keeps a persistent
 * `zlib.DeflateRaw`/`InflateRaw` and calls its native handle's `writeSync`
 * itself, as Node's own `*Sync` functions do inside (`processChunkSync`),
 * with the input and output buffers it chooses: pooled output, a bound on the
 * output per call, no thread pool, no queue, no intermediate chunks.
 *
 * Those are Node internals (`_handle.writeSync`, `_writeState`,
 * `_handle.onerror`, `_handle.reset`), stable from Node 10 to 26; they are
 * checked once (checkZlibInternals) before a server or client with deflate
 * starts, so a Node without them fails with a clear message and not mid-message.
 */

/** The native handle of a zlib stream, as lib/zlib.js uses it. */
interface RawZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: ((message: string, errno: number) => void) | undefined;
}

interface ZlibStreamInternals {
  _handle: RawZlibHandle | null;
  _writeState: Uint32Array;
  close(): void;
}

/** Flush values (zlib.h). */
export const Z_SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

/** Settings of a raw deflate context. */
export interface DeflateSettings {
  /** 9–15. */
  readonly windowBits: number;
  /** 1–9. */
  readonly memLevel: number;
  /** 0–9, or -1 for zlib's default (6). */
  readonly level: number;
}

export class ZlibContext {
  /** zlib's message for the last failed call; '' when it succeeded. */
  error = '';
  /** Input bytes the last call left unread. */
  availIn = 0;
  /** Times reset() ran: a caller can tell that the stream restarted during its call. */
  resets = 0;
  private readonly stream: ZlibStreamInternals;
  private readonly handle: RawZlibHandle;
  private readonly state: Uint32Array;

  private constructor(
    stream: unknown,
    /**
     * Created with a dictionary (a window carried by a handover): Node sets it
     * again at every reset, so after one this context's window is not empty.
     */
    readonly primed = false,
  ) {
    this.stream = stream as ZlibStreamInternals;
    this.handle = this.stream._handle!;
    this.state = this.stream._writeState;
    // lib/zlib.js's own handler destroys the stream on the first error; ours records it, so the
    // context can be reset and used again (a corrupt message fails one connection, not the context).
    this.handle.onerror = (message) => {
      this.error = message;
    };
  }

  /** chunkSize 64 (the smallest): the stream's own output buffer is never used. */
  static deflate(settings: DeflateSettings): ZlibContext {
    return new ZlibContext(
      new zlib.DeflateRaw({
        windowBits: settings.windowBits,
        memLevel: settings.memLevel,
        level: settings.level,
        chunkSize: 64,
      }),
    );
  }

  /**
   * A raw inflater; with `dictionary`, its window starts as those bytes (Node
   * calls inflateSetDictionary at once for raw inflate), so the stream can go
   * on where another inflater, whose last output they are, stopped.
   */
  static inflate(windowBits: number, dictionary?: Uint8Array): ZlibContext {
    if (dictionary === undefined || dictionary.length === 0)
      return new ZlibContext(new zlib.InflateRaw({ windowBits, chunkSize: 64 }));
    return new ZlibContext(new zlib.InflateRaw({ windowBits, chunkSize: 64, dictionary }), true);
  }

  /**
   * One call of deflate() or inflate() over `input[inOff, inOff + inLen)`
   * into `out[outOff, outOff + outLen)`. Returns the output space left
   * (avail_out), or -1 when zlib failed (see `error`); `availIn` is set.
   */
  process(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): number {
    this.error = '';
    this.handle.writeSync(flush, input, inOff, inLen, out, outOff, outLen);
    if (this.error !== '') return -1;
    this.availIn = this.state[1]!;
    return this.state[0]!;
  }

  /** deflateReset/inflateReset: the window as at the start, empty unless `primed` (also clears an error). */
  reset(): void {
    this.handle.reset();
    this.error = '';
    this.resets++;
  }

  close(): void {
    this.stream.close();
  }
}

/**
 * Are the internals ZlibContext drives there, and do they behave? One round
 * trip through a deflate and an inflate context, then a corrupt input that
 * must be reported and survived. Returns undefined when all is well, else why.
 */
export function checkZlibInternals(): string | undefined {
  try {
    const probe = new zlib.InflateRaw({ chunkSize: 64 }) as unknown as ZlibStreamInternals;
    const handle = probe._handle;
    const ok =
      handle !== null &&
      typeof handle.writeSync === 'function' &&
      typeof handle.reset === 'function' &&
      probe._writeState instanceof Uint32Array;
    probe.close();
    if (!ok) return 'node:zlib streams have no _handle.writeSync/_handle.reset/_writeState';
    const deflater = ZlibContext.deflate({ windowBits: 15, memLevel: 8, level: -1 });
    const inflater = ZlibContext.inflate(15);
    try {
      const text = Buffer.from('lightws lightws lightws');
      const packed = Buffer.alloc(128);
      const left = deflater.process(Z_SYNC_FLUSH, text, 0, text.length, packed, 0, packed.length);
      const out = Buffer.alloc(128);
      const free = inflater.process(Z_SYNC_FLUSH, packed, 0, packed.length - left, out, 0, out.length);
      if (left < 0 || free < 0 || !out.subarray(0, out.length - free).equals(text))
        return 'a deflate/inflate round trip through _handle.writeSync failed';
      inflater.reset();
      if (inflater.process(Z_SYNC_FLUSH, Buffer.of(0xff, 0xff, 0xff), 0, 3, out, 0, out.length) !== -1)
        return 'corrupt input was not reported through _handle.onerror';
      inflater.reset();
      if (inflater.process(Z_SYNC_FLUSH, packed, 0, packed.length - left, out, 0, out.length) < 0)
        return 'a context could not be reset after an error';
    } finally {
      deflater.close();
      inflater.close();
    }
    return undefined;
  } catch (error) {
    return `node:zlib internals: ${(error as Error).message}`;
  }
}
