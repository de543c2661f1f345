/**
 * Masking (RFC 6455 §5.3) 16 bytes at a time with WebAssembly SIMD, over
 * memory that WebAssembly owns: the reactor's read slab is allocated there
 * (`allocateSlab`), so a frame that arrives whole is unmasked where it lies
 * at ~25 GB/s instead of the JavaScript lanes' ~7–9 (mask.ts), the largest
 * cost of a 64 KiB echo after the kernel's. Any other buffer (pooled,
 * caller's) keeps the JavaScript lanes: WebAssembly reaches only its own
 * memory, and copying there and back would cost more than it saves.
 *
 * The module is 120-odd bytes written out below (no toolchain); where
 * WebAssembly or its SIMD is missing, `allocateSlab` returns a plain buffer
 * and nothing changes.
 */

/** Unmasks `[p, end)` of its memory in 64-byte steps with the little-endian key `k`; returns where it stopped. */
type MaskFunction = (p: number, end: number, k: number) => number;

/** What is used of the WebAssembly API (typed here: the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { m: { buffer: ArrayBuffer }; x: MaskFunction } };
}
const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...leb(bytes.length), ...bytes];
}

/** One load, XOR, store of 16 bytes at `p + offset`. */
function xor16(offset: number): number[] {
  // local.get p ×2, v128.load offset, local.get key, v128.xor, v128.store offset
  return [0x20, 0, 0x20, 0, 0xfd, 0x00, 0, ...leb(offset), 0x20, 3, 0xfd, 0x51, 0xfd, 0x0b, 0, ...leb(offset)];
}

/**
 * (func (param p end k) (result i32) (local key v128)
 *   key = i32x4.splat(k)
 *   while (p + 64 <= end) { 4 × xor16; p += 64 }
 *   return p)
 * with its memory exported as "m" and itself as "x".
 */
function moduleBytes(pages: number): Uint8Array {
  const body = [
    ...[1, 1, 0x7b], // one local: v128
    ...[0x20, 2, 0xfd, 0x11, 0x21, 3], // key = i32x4.splat(k)
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    // (i32.const takes a signed LEB128: 64 is 0xc0 0x00, one byte 0x40 would be -64.)
    ...[0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x20, 1, 0x4b, 0x0d, 1], // br_if (p + 64 > end) out
    ...xor16(0),
    ...xor16(16),
    ...xor16(32),
    ...xor16(48),
    ...[0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0, 0x0c, 0], // p += 64, again
    ...[0x0b, 0x0b], // end loop, end block
    ...[0x20, 0, 0x0b], // return p
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // type: (i32 i32 i32) → i32
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0, ...leb(pages)]), // one memory, `pages` of 64 KiB
    ...section(7, [2, 1, 0x6d, 2, 0, 1, 0x78, 0, 0]), // export memory "m", function "x"
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** The function of each slab allocated here, by its ArrayBuffer; the last one looked up, first. */
const masks = new WeakMap<ArrayBufferLike, MaskFunction>();
let lastBuffer: ArrayBufferLike | null = null;
let lastMask: MaskFunction | null = null;

/**
 * A buffer of `size` bytes for the read slab: in WebAssembly memory of its
 * own (never grown, so the view stays valid) when SIMD is there, else a plain one.
 */
export function allocateSlab(size: number): Buffer {
  try {
    const { m: memory, x: mask } = new wasm!.Instance(new wasm!.Module(moduleBytes(Math.ceil(size / 65536))), {}).exports;
    masks.set(memory.buffer, mask);
    return Buffer.from(memory.buffer, 0, size);
  } catch {
    return Buffer.allocUnsafeSlow(size); // no WebAssembly, or no SIMD in it
  }
}

/**
 * Unmasks what it can of `buf[start..end)` if `buf` lies in a slab from
 * `allocateSlab`: whole 64-byte steps, the key byte-swapped from `rotated`
 * (big-endian, its top byte for `buf[start]`). Returns where it stopped
 * (`start` when it did nothing); the caller does the rest.
 */
export function simdMask(buf: Uint8Array, start: number, end: number, rotated: number): number {
  const ab = buf.buffer;
  let mask = lastMask;
  if (ab !== lastBuffer) {
    mask = masks.get(ab) ?? null;
    if (mask === null) return start;
    lastBuffer = ab;
    lastMask = mask;
  }
  const le = (rotated >>> 24) | ((rotated >>> 8) & 0xff00) | ((rotated << 8) & 0xff0000) | (rotated << 24);
  const base = buf.byteOffset;
  return mask!(base + start, base + end, le) - base;
}
