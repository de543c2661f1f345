import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incompleteBecause, statsOfEveryWorker, type ClusterStatsLine } from '../../bench/lib/cluster-stats.js';

/**
 * bench:million's stats are a sum over every worker or an error (issue #25, item 5): a 1M run once
 * reported 943,416 connections because three busy workers answered after the cluster's timeout.
 */

const line = (perWorker: number[], missing: number[] = []): ClusterStatsLine => ({
  workers: perWorker.length,
  missing,
  connections: perWorker.reduce((s, n) => s + n, 0),
  connectionsPerWorker: perWorker,
});

test('a sum over every worker is whole; a missing worker, a short count or a wrong total is not', () => {
  assert.equal(incompleteBecause(line([10, 20, 30]), 3), null);
  assert.equal(incompleteBecause(line([10, 30], [1]), 3), 'worker 1 did not answer');
  assert.equal(incompleteBecause(line([10], [1, 2]), 3), 'workers 1, 2 did not answer');
  assert.equal(incompleteBecause(line([10, 20]), 3), '2 of 3 workers answered');
  assert.equal(
    incompleteBecause({ ...line([10, 20]), connections: 25 }, 2),
    "the workers' connections add up to 30, the sum says 25",
  );
});

test('a late worker is asked for again, and the whole answer is the one reported', async () => {
  const answers = [line([18_868, 18_868], [2]), line([18_868, 18_868, 18_864])];
  let asked = 0;
  const stats = await statsOfEveryWorker(() => Promise.resolve(answers[asked++]!), 3);
  assert.equal(asked, 2);
  assert.equal(stats.connections, 56_600);
});

test('a worker that never answers fails the run, naming it, rather than report a partial sum', async () => {
  let asked = 0;
  await assert.rejects(
    statsOfEveryWorker(
      () => {
        asked++;
        return Promise.resolve(line([18_868, 18_868], [2]));
      },
      3,
      4,
    ),
    /cluster stats incomplete after 4 tries: worker 2 did not answer/,
  );
  assert.equal(asked, 4);
});
