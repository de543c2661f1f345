/**
 * A log-scale latency histogram: load processes fill one each, and the orchestrator merges them
 * exactly before taking percentiles (percentiles of percentiles would not be percentiles).
 */

/** 32 buckets per doubling: ~2.2% wide, plenty for p50/p99 on a noisy machine. */
const PER_OCTAVE = 32;
/** Up to 2^26 µs (67 s); anything slower lands in the last bucket. */
export const HIST_SIZE = 26 * PER_OCTAVE;

/** The bucket of a latency in µs. */
export function bucketOf(us: number): number {
  if (!(us > 1)) return 0;
  const i = Math.floor(Math.log2(us) * PER_OCTAVE);
  return i < HIST_SIZE ? i : HIST_SIZE - 1;
}

export function mergeHists(hists: readonly (readonly number[])[]): number[] {
  const out = new Array<number>(HIST_SIZE).fill(0);
  for (const h of hists) for (let i = 0; i < HIST_SIZE; i++) out[i]! += h[i] ?? 0;
  return out;
}

/** The p-th percentile (0..100) in µs: the geometric middle of its bucket. NaN when empty. */
export function histPercentile(hist: readonly number[], p: number): number {
  const total = hist.reduce((s, n) => s + n, 0);
  if (total === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return 2 ** ((i + 0.5) / PER_OCTAVE);
  }
  return NaN;
}
