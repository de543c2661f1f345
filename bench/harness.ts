/**
 * A small benchmark harness: time functions, report the median of several runs, print a table,
 * save results with the machine they came from. The machine is shared and noisy, hence medians of
 * runs long enough (minTimeMs) for timer resolution not to matter, after a JIT warm-up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus } from 'node:os';

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
  const timer = new Function('fn', 'count', 'never', `const t0 = performance.now(); let hits = 0;
    for (let i = 0; i < count; i++) if (fn() === never) hits++;
    return performance.now() - t0 + hits;`) as (fn: () => unknown, count: number, never: symbol) => number;
  return (fn, count) => timer(fn, count, NEVER);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A candidate made ready to time: its own timing loop, a calibrated batch size, warmed up. */
interface Prepared { timeBatch: BatchTimer; batch: number; samples: number[] }

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

/** Calls of `fn` per second (for throughput, multiply by the bytes one call processes). */
export function measure(fn: () => unknown, options: MeasureOptions = {}): Measurement {
  return compare({ fn }, options)['fn']!;
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
  return Object.fromEntries(entries.map(([name], i) => {
    const samples = prepared[i]!.samples;
    const mid = median(samples);
    return [name, { opsPerSec: mid, samples, spread: (Math.max(...samples) - Math.min(...samples)) / mid }];
  }));
}

/** 16 B, 1 KiB, 64 KiB, 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/** Throughput in decimal gigabytes per second, e.g. '6.12 GB/s'. */
export function formatGBps(bytesPerSec: number): string {
  return `${(bytesPerSec / 1e9).toFixed(bytesPerSec < 1e8 ? 3 : 2)} GB/s`;
}

/** A ratio, e.g. '3.41×'. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;
}

type Cell = string | number;
/** An aligned plain-text table: text columns left-aligned, numbers right-aligned. */
export function formatTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => columns.map((_, c) => String(row[c] ?? '')));
  const widths = columns.map((name, c) => Math.max(name.length, ...text.map((row) => row[c]!.length)));
  // A column whose first cell starts with a digit is numeric-looking: right-align it.
  const right = columns.map((_, c) => /^[\d.]/.test(text[0]?.[c] ?? ''));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

export function printTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): void {
  console.log(formatTable(columns, rows));
}

/** What the figures were measured on: they mean little without it. */
export function environment(): Record<string, string | number> {
  const cpuList = cpus();
  const cpu = cpuList[0]?.model.trim() ?? 'unknown';
  const { version: node, platform, arch } = process;
  return { node, v8: process.versions.v8, platform, arch, cpu, cores: cpuList.length, date: new Date().toISOString() };
}

/** Writes `{ environment, ...data }` as pretty JSON, creating the directory if needed. */
export function writeResults(path: string, data: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ environment: environment(), ...data }, null, 2) + '\n');
}
