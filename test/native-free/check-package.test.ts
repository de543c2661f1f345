import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPackage } from '../../native-free/check-package.js';

test('the packed package has no addon, gyp file, install script or runtime dependency', () => {
  const { problems, files } = checkPackage();
  assert.deepEqual(problems, []);
  assert.ok(files.some((f) => f.endsWith('.d.ts')), 'type declarations ship');
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/')), 'tests and benchmarks do not ship');
});

test('lightws loads without any addon: no bufferutil, no utf-8-validate, no .node file', async () => {
  await import('../../src/index.js');
  const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache);
  assert.deepEqual(loaded.filter((f) => f.endsWith('.node')), []);
});
