import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SendResult } from '../../src/api/send-result.js';
import { fakeReactor } from '../support/fake-link.js';

test("SendResult has uWebSockets.js's numbers for the same meanings: 0 backpressure, 1 success, 2 dropped", () => {
  const h = fakeReactor();
  const conn = h.link.open();
  const written = conn.send('taken whole');
  h.link.socket(conn).takes.push(3); // the kernel takes 3 bytes of the next write
  const queued = conn.send('taken in part');
  conn.terminate();
  const dropped = conn.send('too late');
  assert.deepEqual([written, queued, dropped], [SendResult.Written, SendResult.Queued, SendResult.Dropped]);
  // What code ported from uWS checks: `=== 1` success, falsy backpressure, `=== 2` dropped.
  assert.deepEqual([written, queued, dropped], [1, 0, 2]);
  assert.equal(!queued, true, 'backpressure is falsy, as in uWS');
});

// dist/test/reactor → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(repo + dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(`${dir}${entry.name}/`) : entry.name.endsWith('.ts') ? [`${dir}${entry.name}`] : [],
  );
}

test('no code compares what send, ping or pong returned with a number: only with the names', () => {
  // `conn.send(x) === 2`, `result !== 0` where result came from send, ...
  const direct = /\.(send|ping|pong|writeFrame|writeShared|writeHead)\([^;]*\)\s*[!=]==?\s*\d/;
  const offenders: string[] = [];
  for (const file of [...sources('src/'), ...sources('test/'), ...sources('bench/')]) {
    if (file === 'test/api/send-result.test.ts') continue; // the numbers are pinned here on purpose
    readFileSync(repo + file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (direct.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offenders, []);
  assert.equal(direct.test('if (conn.send(data) === 2) retry();'), true, 'the check finds a numeric comparison');
});
