/**
 * Summary statistics for benchmark samples. The machine is shared and noisy, so figures are
 * medians of repeated runs, with the spread beside them to say how far to trust each one.
 */

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Population standard deviation. */
export function stdev(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
}

/**
 * The p-th percentile (0..100): the sample at rank floor(p/100 × n) of the sorted samples, no
 * interpolation (with 20 samples, p90 is the 19th smallest, an observed value).
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** (max − min) / median: how far apart the runs were, relative to the figure reported. */
export function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/** Least-squares slope of y against x (NaN when every x is the same). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * A ratio between two servers taken run by run, then the median over runs: each run's rounds of
 * the two ran minutes apart at most, so slow drift in the shared machine's load cancels, which a
 * ratio of two medians (possibly from different runs) does not do. NaN when they never met.
 */
export function pairedRatio<R extends { kind: string; run: number }>(
  rounds: readonly R[],
  kind: string,
  ref: string,
  value: (r: R) => number,
): number {
  const ratios: number[] = [];
  for (const a of rounds) {
    if (a.kind !== kind) continue;
    const b = rounds.find((r) => r.kind === ref && r.run === a.run);
    if (b !== undefined) ratios.push(value(a) / value(b));
  }
  return median(ratios);
}

/** The median of each named field over the rows: a benchmark's summary of its runs. */
export function medians<F extends string>(rows: readonly Record<F, number>[], fields: readonly F[]): Record<F, number> {
  return Object.fromEntries(fields.map((f) => [f, median(rows.map((r) => r[f]))])) as Record<F, number>;
}
