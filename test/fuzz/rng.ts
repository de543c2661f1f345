/**
 * Seeded randomness for the fuzz harness: every case is a pure function of
 * (seed, profile, case index), so any case replays alone.
 */
import { prng } from '../support/prng.js';

/** mulberry32: small, fast, good enough for fuzzing; the same sequence for the same seed everywhere. */
export class Rng {
  /** The shared mulberry32 (test/support/prng.ts): its floats are the 32-bit outputs over 2^32, exactly. */
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  u32(): number {
    return this.next() * 4294967296;
  }
  float(): number {
    return this.next();
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let x = this.float() * total;
    for (const [v, w] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return table[table.length - 1]![0];
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** The seed of case `index` of a run: independent streams per case, so any case replays alone. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9) ^ Math.imul(Math.floor(seed / 4294967296), 0x27d4eb2f)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
