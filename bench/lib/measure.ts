/**
 * Timing for the in-process micro-benchmarks (bench:unmask, bench:utf8, bench:decode): calls per
 * second, the median of several runs long enough (minTimeMs) for timer resolution not to matter,
 * after a JIT warm-up.
 */
import { median, spread } from './stats.js';

export interface MeasureOptions {
  /** Length of one run, in milliseconds (default 100). */
  minTimeMs?: number;
  /** Number of timed runs; the median is reported (default 7). */
  runs?: number;
  /** Untimed warm-up before the first run, in milliseconds (default 2 × minTimeMs). */
  warmupMs?: number;
}

export interface Measurement {
  /** Median operations per second over the runs. */
  opsPerSec: number;
  /** Operations per second of each run, in the order they were taken. */
  samples: number[];
  /** (max - min) / median of the samples: how much to trust the median on this machine. */
  spread: number;
}

type BatchTimer = (fn: () => unknown, count: number) => number;
/** Each result is compared with this, so the JIT can't drop a call whose value goes unused. */
const NEVER = Symbol('never');

/**
 * A fresh timing loop for each measurement. If every benchmark shared one loop, its `fn()` call
 * site would turn megamorphic after the second candidate, and the first one measured would be the
 * only one the JIT inlined: an unfair head start. A new Function has its own call-site feedback,
 * as a real caller of the code under test would.
 */
function makeBatchTimer(): BatchTimer {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- deliberate: see above
  const timer = new Function(
    'fn',
    'count',
    'never',
    `const t0 = performance.now(); let hits = 0;
    for (let i = 0; i < count; i++) if (fn() === never) hits++;
    return performance.now() - t0 + hits;`,
  ) as (fn: () => unknown, count: number, never: symbol) => number;
  return (fn, count) => timer(fn, count, NEVER);
}

/** A candidate made ready to time: its own timing loop, a calibrated batch size, warmed up. */
interface Prepared {
  timeBatch: BatchTimer;
  batch: number;
  samples: number[];
}

function prepare(fn: () => unknown, minTimeMs: number, warmupMs: number): Prepared {
  const timeBatch = makeBatchTimer();
  // A batch takes ~1/20 of a run: reading the clock is negligible, runs still end near minTimeMs.
  let batch = 1;
  while (timeBatch(fn, batch) < minTimeMs / 20 && batch < 2 ** 30) batch *= 2;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) timeBatch(fn, batch);
  return { timeBatch, batch, samples: [] };
}

/** One timed run of at least minTimeMs; returns operations per second. */
function run(fn: () => unknown, p: Prepared, minTimeMs: number): number {
  let ops = 0;
  let elapsed = 0;
  while (elapsed < minTimeMs) {
    elapsed += p.timeBatch(fn, p.batch);
    ops += p.batch;
  }
  return (ops * 1000) / elapsed;
}

/**
 * Measures several candidates for the same job, taking their runs in turn (A B C A B C ...)
 * rather than one after another, so that a burst of load from elsewhere on a shared machine hits
 * all of them alike and their ratios stay meaningful.
 */
export function compare(
  candidates: Readonly<Record<string, () => unknown>>,
  options: MeasureOptions = {},
): Record<string, Measurement> {
  const minTimeMs = options.minTimeMs ?? 100;
  const runs = options.runs ?? 7;
  const warmupMs = options.warmupMs ?? 2 * minTimeMs;
  const entries = Object.entries(candidates);
  const prepared = entries.map(([, fn]) => prepare(fn, minTimeMs, warmupMs));
  for (let r = 0; r < runs; r++) {
    entries.forEach(([, fn], i) => prepared[i]!.samples.push(run(fn, prepared[i]!, minTimeMs)));
  }
  return Object.fromEntries(
    entries.map(([name], i) => {
      const samples = prepared[i]!.samples;
      return [name, { opsPerSec: median(samples), samples, spread: spread(samples) }];
    }),
  );
}
