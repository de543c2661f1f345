/**
 * Payload material for the generator: pools of random bytes and random valid
 * UTF-8 made once per run, slices of them, invalid UTF-8, and payload sizes.
 */
import { caseSeed, Rng } from './rng.js';

/** Random bytes and random valid UTF-8 text, generated once per run; payloads are slices of them. */
export interface Pools {
  bin: Buffer;
  text: Buffer;
}

const EDGE_CODEPOINTS = [
  0x0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10ffff, 0x1f600,
];

export function makePools(seed: number): Pools {
  const r = new Rng(caseSeed(seed, -1));
  const bin = r.bytes(256 * 1024);
  const parts: string[] = [];
  let length = 0;
  while (length < 256 * 1024) {
    let s = '';
    for (let i = 0; i < 256; i++) {
      const k = r.float();
      let cp: number;
      if (k < 0.03) cp = r.pick(EDGE_CODEPOINTS);
      else if (k < 0.55) cp = r.range(0x20, 0x7e);
      else if (k < 0.72) cp = r.range(0x80, 0x7ff);
      else if (k < 0.9) {
        cp = r.range(0x800, 0xffff - 0x800);
        if (cp >= 0xd800) cp += 0x800; // skip the surrogates
      } else cp = r.range(0x10000, 0x10ffff);
      s += String.fromCodePoint(cp);
    }
    parts.push(s);
    length += Buffer.byteLength(s);
  }
  return { bin, text: Buffer.from(parts.join(''), 'utf8') };
}

export function binSlice(r: Rng, pools: Pools, n: number): Buffer {
  if (n <= pools.bin.length) {
    const start = r.int(pools.bin.length - n + 1);
    return pools.bin.subarray(start, start + n);
  }
  return r.bytes(n);
}

/** Valid UTF-8 of about `n` bytes (at most n + 3): a slice cut at character boundaries. */
export function textSlice(r: Rng, pools: Pools, n: number): Buffer {
  const t = pools.text;
  let start = r.int(t.length - n - 8);
  while ((t[start]! & 0xc0) === 0x80) start++;
  let end = start + n;
  while (end < t.length && (t[end]! & 0xc0) === 0x80) end++;
  return t.subarray(start, end);
}

/** Valid UTF-8 of at most `max` bytes. */
export function textUpTo(r: Rng, pools: Pools, max: number): Buffer {
  let s = textSlice(r, pools, Math.max(0, max - 3));
  while (s.length > max) s = s.subarray(0, s.length - 1);
  // The trim may have cut a character: drop the partial one.
  let end = s.length;
  let i = end - 1;
  while (i >= 0 && (s[i]! & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = s[i]!;
    const need = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    if (end - i < need) end = i;
  }
  return s.subarray(0, end);
}

const INVALID_UTF8: readonly number[][] = [
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xe0, 0x9f, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xe2, 0x28, 0xa1],
  [0xc2, 0x41],
  [0xf0, 0x9f, 0x98, 0x41],
];
/** Sequences that are valid prefixes but invalid as an ending. */
export const TRUNCATED_UTF8: readonly number[][] = [
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xf4, 0x8f],
  [0xe0, 0xa0],
];

export function withInvalidUtf8(r: Rng, pools: Pools, size: number): Buffer {
  const bad = Buffer.from(r.pick(INVALID_UTF8));
  const before = textSlice(r, pools, r.int(size + 1));
  const after = textSlice(r, pools, r.int(size + 1));
  return Buffer.concat([before, bad, after]);
}

export function payloadSize(r: Rng): number {
  const k = r.float();
  if (k < 0.03) return r.pick([0, 1, 2, 125, 126, 127, 128, 1023, 1024, 65535, 65536]);
  if (k < 0.8) return r.int(41);
  if (k < 0.93) return r.range(41, 700);
  if (k < 0.985) return r.range(126, 8192);
  if (k < 0.997) return r.range(8192, 65535);
  return r.range(65536 - 64, 65536);
}
