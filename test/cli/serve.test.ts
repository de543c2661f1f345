import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reloadLine } from '../../src/cli/serve.js';

test('the reload line names each slot that failed and why (a bench at 100k once showed "2 workers failed" and no reason)', () => {
  const ok = { moved: 10, refused: 1, kept: 0, durationMs: 5 };
  const line = reloadLine({
    workers: [
      ok,
      {
        moved: 0,
        refused: 0,
        kept: 0,
        durationMs: 0,
        error: 'the new worker did not start: worker 1 exited before it listened',
      },
      ok,
    ],
    moved: 20,
    refused: 2,
    kept: 0,
    durationMs: 7,
  });
  assert.equal(
    line,
    'reloaded: moved 20, closed 1012 2, kept 0 (1 failed to hand over and kept their connections: worker 1: the new worker did not start: worker 1 exited before it listened) in 7 ms',
  );
  assert.equal(
    reloadLine({ workers: [ok], moved: 10, refused: 1, kept: 0, durationMs: 5 }),
    'reloaded: moved 10, closed 1012 1, kept 0 in 5 ms',
  );
});
