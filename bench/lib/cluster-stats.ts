/**
 * The stats of a benchmark's cluster, from every worker or not at all. A
 * cluster's stats() sums the workers that answered within its timeout and
 * names the others in `missing`: at a million connections on 2 cores a
 * worker busy with a GC or a heartbeat batch once answered too late, and the
 * sum said 943,416 connections where 1,000,000 were open. A benchmark that
 * reports that sum must ask again, and fail rather than report a partial one.
 */

/** What servers/million-cluster.ts answers to 'stats': the sums, and who they cover. */
export interface ClusterStatsLine {
  [field: string]: unknown;
  /** How many workers answered: the sums are theirs. */
  workers: number;
  /** The indexes of the workers that did not answer. */
  missing: number[];
  connections: number;
  connectionsPerWorker: number[];
}

/** Why `line` is not a sum over all `expected` workers, or null when it is. */
export function incompleteBecause(line: ClusterStatsLine, expected: number): string | null {
  if (line.missing.length > 0)
    return `worker${line.missing.length > 1 ? 's' : ''} ${line.missing.join(', ')} did not answer`;
  if (line.workers !== expected || line.connectionsPerWorker.length !== expected)
    return `${line.workers} of ${expected} workers answered`;
  const summed = line.connectionsPerWorker.reduce((s, n) => s + n, 0);
  if (summed !== line.connections)
    return `the workers' connections add up to ${summed}, the sum says ${line.connections}`;
  return null;
}

/**
 * Asks (`askOnce`) until every one of `expected` workers is in the answer, at
 * most `tries` times; throws, saying who is missing, if none is whole.
 */
export async function statsOfEveryWorker(
  askOnce: () => Promise<ClusterStatsLine>,
  expected: number,
  tries = 5,
): Promise<ClusterStatsLine> {
  let why = '';
  for (let attempt = 1; attempt <= tries; attempt++) {
    const line = await askOnce();
    const reason = incompleteBecause(line, expected);
    if (reason === null) return line;
    why = reason;
  }
  throw new Error(`cluster stats incomplete after ${tries} tries: ${why}`);
}
