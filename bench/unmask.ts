/**
 * Unmasking throughput (RFC 6455 §5.3): our applyMask against a plain byte loop, a 32-bit-lane
 * variant (the design we did not keep), and the native addon bufferutil that ws uses.
 *
 *   npm run bench:unmask            (QUICK=1 for a faster, rougher run)
 *
 * Payloads are unmasked in place where the server has them: inside a 64 KiB read slab, 6 bytes in
 * (after a 2-byte header and the 4-byte key), so the byte head before the first aligned lane is
 * exercised as in real traffic. 1 MiB does not fit the slab and uses its own buffer.
 */
import { createRequire } from 'node:module';
import { dirname, relative } from 'node:path';
import { benchArgs } from './lib/args.js';
import { applyMask, maskBytes, maskLanes } from '../src/protocol/mask.js';
import { formatBytes, formatGBps, formatRatio, printTable } from './lib/format.js';
import { compare } from './lib/measure.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';

const { values: args } = benchArgs(import.meta.url, { options: RESULTS_OPTIONS });
const quick = process.env['QUICK'] === '1';
const options = quick ? { minTimeMs: 30, runs: 5 } : { minTimeMs: 100, runs: 7 };

const KEY_BYTES = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);
const KEY = 0x37fa213d;
const PAYLOAD_OFFSET = 6;

/** Binds a candidate to one range. Each candidate has its own factory, so each bound call is a
 * separate, monomorphic call site that the JIT can inline, as in a real caller. */
type Bind = (buf: Uint8Array, start: number, end: number) => () => void;

/** The textbook loop, one key lookup per byte: the baseline every ratio is against. */
function byteLoop(buf: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) buf[i]! ^= KEY_BYTES[(i - start) & 3]!;
}

/** The alternative to 64-bit BigInt lanes: 32-bit Int32Array lanes over a cached view. */
let int32Buffer: ArrayBufferLike | null = null;
let int32View: Int32Array<ArrayBufferLike> = new Int32Array(0);
function int32Lanes(buf: Uint8Array, start: number, end: number): void {
  let i = start;
  const head = Math.min((4 - ((buf.byteOffset + i) & 3)) & 3, end - i);
  maskBytes(buf, i, i + head, KEY, 0);
  i += head;
  const rotated = ((KEY << (head * 8)) | (head === 0 ? 0 : KEY >>> (32 - head * 8))) >>> 0;
  const le = (rotated >>> 24) | ((rotated >>> 8) & 0xff00) | ((rotated << 8) & 0xff0000) | (rotated << 24);
  const first = (buf.byteOffset + i) / 4;
  const stop = first + Math.floor((end - i) / 4);
  if (buf.buffer !== int32Buffer || int32View.length < stop) {
    int32Buffer = buf.buffer;
    int32View = new Int32Array(buf.buffer, 0, Math.floor(buf.buffer.byteLength / 4));
  }
  const v = int32View;
  let j = first;
  for (const last = stop - 3; j < last; j += 4) {
    v[j]! ^= le;
    v[j + 1]! ^= le;
    v[j + 2]! ^= le;
    v[j + 3]! ^= le;
  }
  for (; j < stop; j++) v[j]! ^= le;
  maskBytes(buf, i + (stop - first) * 4, end, rotated, 0);
}

interface BufferUtil {
  unmask(buffer: Uint8Array, mask: Uint8Array): void;
}

/** bufferutil, and whether its native binding loaded rather than its JS fallback. */
function loadBufferUtil(): { bu: BufferUtil; native: boolean; binding: string } | null {
  const require = createRequire(import.meta.url);
  let bu: BufferUtil;
  try {
    bu = require('bufferutil') as BufferUtil;
  } catch {
    return null;
  }
  const fallback = require('bufferutil/fallback.js') as BufferUtil;
  const native = bu.unmask !== fallback.unmask && /\[native code\]/.test(String(bu.unmask));
  let binding = 'JS fallback';
  if (native) {
    try {
      const gyp = require('node-gyp-build') as { resolve(dir: string): string };
      binding = relative(process.cwd(), gyp.resolve(dirname(require.resolve('bufferutil'))));
    } catch {
      binding = 'native (path unknown)';
    }
  }
  return { bu, native, binding };
}

const bufferUtil = loadBufferUtil();
const BU_MASK = Buffer.from(KEY_BYTES);

/** Each candidate binds its own closure literal: a separate, monomorphic call site per candidate. */
const candidates: Record<string, Bind> = {
  applyMask: (buf, start, end) => () => applyMask(buf, start, end, KEY, 0),
  'byte loop': (buf, start, end) => () => byteLoop(buf, start, end),
  'int32 lanes': (buf, start, end) => () => int32Lanes(buf, start, end),
};
const BU_NAME = bufferUtil?.native === false ? 'bufferutil (JS fallback)' : 'bufferutil (native)';
if (bufferUtil !== null) {
  // bufferutil unmasks a whole Buffer, so the payload's view is made once, outside the timing.
  candidates[BU_NAME] = (buf, start, end) => {
    const view = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    return () => bufferUtil.bu.unmask(view, BU_MASK);
  };
}

const slab = Buffer.alloc(64 * 1024 + 64);
const large = Buffer.alloc(1024 * 1024 + 64);

/** GB/s of each candidate on a payload of `size` bytes at the realistic slab offset. */
function throughput(binds: Readonly<Record<string, Bind>>, size: number): Record<string, number> {
  const buf = size + PAYLOAD_OFFSET <= slab.length ? slab : large;
  // Every call unmasks the same bytes again: XOR twice is a no-op, so the data stays bounded.
  const bound = Object.fromEntries(
    Object.entries(binds).map(([n, b]) => [n, b(buf, PAYLOAD_OFFSET, PAYLOAD_OFFSET + size)]),
  );
  const measured = compare(bound, options);
  return Object.fromEntries(Object.entries(measured).map(([n, m]) => [n, (m.opsPerSec * size) / 1e9]));
}

// A fast wrong answer is worthless: check every candidate against the byte loop first.
for (const [name, bind] of Object.entries(candidates)) {
  for (const [start, end] of [
    [6, 1006],
    [1, 2],
    [3, 70],
    [0, 64 * 1024],
  ] as const) {
    const expected = Buffer.from(slab.map((_, i) => (i * 131) & 0xff));
    const actual = Buffer.from(expected);
    byteLoop(expected, start, end);
    bind(actual, start, end)();
    if (!actual.equals(expected)) throw new Error(`${name} is wrong for [${start}, ${end})`);
  }
}

console.log(`bufferutil: ${bufferUtil === null ? 'not installed' : bufferUtil.binding}`);
console.log(`median of ${options.runs} runs of ${options.minTimeMs} ms; payload at slab offset ${PAYLOAD_OFFSET}\n`);
const results: Array<Record<string, number>> = [];
const rows: string[][] = [];
for (const size of [16, 125, 1024, 16 * 1024, 64 * 1024, 1024 * 1024]) {
  const gbps = throughput(candidates, size);
  const ours = gbps['applyMask']!;
  const vsLoop = ours / gbps['byte loop']!;
  const vsNative = ours / (gbps[BU_NAME] ?? NaN);
  results.push({ size, ...gbps, oursVsByteLoop: vsLoop, oursVsBufferutil: vsNative });
  rows.push([
    formatBytes(size),
    ...Object.values(gbps).map((g) => formatGBps(g * 1e9)),
    formatRatio(vsLoop),
    formatRatio(vsNative),
  ]);
}
printTable(['size', ...Object.keys(candidates), 'ours/loop', 'ours/bufferutil'], rows);

// Where applyMask switches from the byte loop to 64-bit lanes (LANE_THRESHOLD in mask.ts), both
// when the buffer is the one seen last (the read slab: the common case) and when every call
// brings another ArrayBuffer (COLD_LANE_THRESHOLD): there the lane path must read the buffer's
// slow getters and make a view first.
const other = Buffer.alloc(slab.length);
const crossover: Array<Record<string, number>> = [];
const crossRows: string[][] = [];
for (const size of [8, 16, 24, 32, 48, 64, 96, 128, 192, 256]) {
  const gbps = throughput(
    {
      bytes: (buf, start, end) => () => maskBytes(buf, start, end, KEY, 0),
      lanes: (buf, start, end) => () => maskLanes(buf, start, end, KEY, 0),
      'bytes, alternating': (buf, start, end) => {
        let flip = false;
        return () => {
          flip = !flip;
          maskBytes(flip ? buf : other, start, end, KEY, 0);
        };
      },
      'lanes, alternating': (buf, start, end) => {
        let flip = false;
        return () => {
          flip = !flip;
          maskLanes(flip ? buf : other, start, end, KEY, 0);
        };
      },
    },
    size,
  );
  crossover.push({ size, ...gbps });
  const bytes = gbps['bytes']!;
  const lanes = gbps['lanes']!;
  const coldBytes = gbps['bytes, alternating']!;
  const coldLanes = gbps['lanes, alternating']!;
  crossRows.push([
    formatBytes(size),
    ...[bytes, lanes, coldBytes, coldLanes].map((g) => formatGBps(g * 1e9)),
    formatRatio(lanes / bytes),
    formatRatio(coldLanes / coldBytes),
  ]);
}
console.log('\ncrossover: maskBytes vs maskLanes, same buffer each call / two ArrayBuffers alternating');
printTable(['size', 'bytes', 'lanes', 'bytes (alt.)', 'lanes (alt.)', 'lanes/bytes', 'alt. lanes/bytes'], crossRows);

const written = writeResults(
  'unmask',
  {
    unit: 'GB/s (1e9 bytes/s), median of runs',
    options,
    payloadOffset: PAYLOAD_OFFSET,
    bufferutil: bufferUtil === null ? 'not installed' : { native: bufferUtil.native, binding: bufferUtil.binding },
    results,
    crossover,
  },
  args,
);
console.log(`\nresults in ${written}`);
