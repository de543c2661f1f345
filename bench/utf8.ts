/**
 * UTF-8 validation throughput (RFC 6455 §8.1): our isValidUtf8 / utf8Step / pure-JS validator
 * against node:buffer's isUtf8 and the native addon utf-8-validate that ws uses.
 *
 *   npm run bench:utf8            (QUICK=1 for a faster, rougher run)
 *
 * Our functions validate the message where it lies, as the receiver calls them: a range of the
 * 64 KiB read slab, 6 bytes in. The whole-buffer APIs get a view of exactly the message, made
 * once outside the timing (their best case; a caller would have to make it each time).
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { benchArgs } from './lib/args.js';
import { isValidUtf8, isValidUtf8Js, utf8Step } from '../src/protocol/utf8.js';
import { formatBytes, formatGBps, formatRatio, printTable } from './lib/format.js';
import { compare } from './lib/measure.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';

const { values: args } = benchArgs(import.meta.url, { options: RESULTS_OPTIONS });
const quick = process.env['QUICK'] === '1';
const options = quick ? { minTimeMs: 30, runs: 5 } : { minTimeMs: 100, runs: 7 };
const OFFSET = 6;

type Validate = (input: Uint8Array) => boolean;

/** utf-8-validate, and whether its native binding loaded rather than its JS fallback. */
function loadUtf8Validate(): { validate: Validate; native: boolean } | null {
  const require = createRequire(import.meta.url);
  try {
    const validate = require('utf-8-validate') as Validate;
    const fallback = require('utf-8-validate/fallback.js') as Validate;
    return { validate, native: validate !== fallback && /\[native code\]/.test(String(validate)) };
  } catch {
    return null;
  }
}

/** `size` bytes of valid UTF-8 text: repeats of `sample`, cut at a character and padded with spaces. */
function text(sample: string, size: number): Buffer {
  const unit = Buffer.from(sample);
  const out = Buffer.alloc(size, 0x20);
  for (let at = 0; at < size; at += unit.length) unit.copy(out, at, 0, Math.min(unit.length, size - at));
  // Blank out a character cut short at the end (its lead byte and continuations).
  let i = size;
  while (i > 0 && (out[i - 1]! & 0xc0) === 0x80) i--;
  if (i > 0 && out[i - 1]! >= 0xc0) out.fill(0x20, i - 1);
  if (!isUtf8(out)) throw new Error('generated text is not valid UTF-8');
  return out;
}

const TEXTS = {
  ascii: 'The quick brown fox jumps over the lazy dog; {"id":12345,"op":"update","ok":true} ',
  mixed: 'Hello, мир! Γειά σου κόσμε. 你好，世界。こんにちは 🌍😀 café naïve — שלום ',
};

const utf8Validate = loadUtf8Validate();
const UV_NAME = utf8Validate?.native === false ? 'utf-8-validate (JS fallback)' : 'utf-8-validate (native)';
const slab = Buffer.alloc(64 * 1024 + 64);
const large = Buffer.alloc(1024 * 1024 + 64);

type Bind = (buf: Buffer, start: number, end: number) => () => boolean;

/** Each candidate binds its own closure literal: a separate, monomorphic call site per candidate. */
const candidates: Record<string, Bind> = {
  isValidUtf8: (buf, start, end) => () => isValidUtf8(buf, start, end),
  utf8Step: (buf, start, end) => () => utf8Step(0, buf, start, end) === 0,
  'pure JS': (buf, start, end) => () => isValidUtf8Js(buf, start, end),
  'isUtf8 (view)': (buf, start, end) => {
    const view = buf.subarray(start, end);
    return () => isUtf8(view);
  },
};
if (utf8Validate !== null) {
  candidates[UV_NAME] = (buf, start, end) => {
    const view = buf.subarray(start, end);
    return () => utf8Validate.validate(view);
  };
}

/** GB/s of each candidate on `message`, placed at OFFSET in the slab (or a larger buffer). */
function throughput(binds: Readonly<Record<string, Bind>>, message: Buffer): Record<string, number> {
  const buf = message.length + OFFSET <= slab.length ? slab : large;
  message.copy(buf, OFFSET);
  const end = OFFSET + message.length;
  const bound = Object.fromEntries(Object.entries(binds).map(([n, b]) => [n, b(buf, OFFSET, end)]));
  for (const [name, fn] of Object.entries(bound)) if (fn() !== true) throw new Error(`${name} rejected valid text`);
  const measured = compare(bound, options);
  return Object.fromEntries(Object.entries(measured).map(([n, m]) => [n, (m.opsPerSec * message.length) / 1e9]));
}

// A fast wrong answer is worthless: every candidate must reject a surrogate late in the text.
for (const [name, bind] of Object.entries(candidates)) {
  const bad = Buffer.concat([text(TEXTS.mixed, 500), Buffer.from([0xed, 0xa0, 0x80])]);
  if (bind(bad, 0, bad.length)() !== false) throw new Error(`${name} accepted a surrogate`);
}

console.log(
  `utf-8-validate: ${utf8Validate === null ? 'not installed' : utf8Validate.native ? 'native binding' : 'JS fallback'}`,
);
console.log(`median of ${options.runs} runs of ${options.minTimeMs} ms; message at slab offset ${OFFSET}\n`);
const results: Array<Record<string, number | string>> = [];
const rows: string[][] = [];
for (const [kind, sample] of Object.entries(TEXTS)) {
  for (const size of [16, 1024, 64 * 1024, 1024 * 1024]) {
    const gbps = throughput(candidates, text(sample, size));
    const ours = gbps['isValidUtf8']!;
    const vsJs = ours / gbps['pure JS']!;
    const vsNative = ours / (gbps[UV_NAME] ?? NaN);
    results.push({ text: kind, size, ...gbps, oursVsPureJs: vsJs, oursVsUtf8Validate: vsNative });
    rows.push([
      kind,
      formatBytes(size),
      ...Object.values(gbps).map((g) => formatGBps(g * 1e9)),
      formatRatio(vsJs),
      formatRatio(vsNative),
    ]);
  }
}
printTable(['text', 'size', ...Object.keys(candidates), 'ours/pure', 'ours/u-8-v'], rows);

// Where isValidUtf8 hands over from the pure decoder to isUtf8 (NATIVE_THRESHOLD and
// ASCII_PREFIX_MAX in utf8.ts): the pure decoder against isUtf8 on a view made per call, as
// isValidUtf8 must make one for a range (its cache spares it the `buffer`/`byteOffset` getters,
// and so does this), and isValidUtf8 itself, which should track the faster of the two.
const crossover: Array<Record<string, number | string>> = [];
const crossRows: string[][] = [];
for (const [kind, sample] of Object.entries(TEXTS)) {
  for (const size of [16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096]) {
    const gbps = throughput(
      {
        'pure JS': (buf, start, end) => () => isValidUtf8Js(buf, start, end),
        'isUtf8 + view': (buf, start, end) => {
          const { buffer, byteOffset } = buf;
          return () => isUtf8(new Uint8Array(buffer, byteOffset + start, end - start));
        },
        isValidUtf8: (buf, start, end) => () => isValidUtf8(buf, start, end),
      },
      text(sample, size),
    );
    crossover.push({ text: kind, size, ...gbps });
    const js = gbps['pure JS']!;
    const native = gbps['isUtf8 + view']!;
    const ours = gbps['isValidUtf8']!;
    crossRows.push([
      kind,
      formatBytes(size),
      ...[js, native, ours].map((g) => formatGBps(g * 1e9)),
      formatRatio(native / js),
      formatRatio(ours / Math.max(js, native)),
    ]);
  }
}
console.log('\ncrossover: pure JS vs isUtf8 on a view made per call, and isValidUtf8 choosing between them');
printTable(['text', 'size', 'pure JS', 'isUtf8 + view', 'isValidUtf8', 'isUtf8/pure', 'ours/best'], crossRows);

const written = writeResults(
  'utf8',
  {
    unit: 'GB/s (1e9 bytes/s), median of runs',
    options,
    messageOffset: OFFSET,
    utf8Validate: utf8Validate === null ? 'not installed' : { native: utf8Validate.native },
    results,
    crossover,
  },
  args,
);
console.log(`\nresults in ${written}`);
