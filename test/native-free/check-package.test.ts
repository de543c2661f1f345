import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPackage, scriptProblems } from '../../native-free/check-package.js';

test('the packed package has no addon, gyp file, install script or runtime dependency', () => {
  const { problems, files } = checkPackage();
  assert.deepEqual(problems, []);
  assert.ok(
    files.some((f) => f.endsWith('.d.ts')),
    'type declarations ship',
  );
  assert.ok(
    !files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/')),
    'tests and benchmarks do not ship',
  );
});

test('install scripts are refused; a prepare that compiles TypeScript passes, one that builds native code does not', () => {
  assert.deepEqual(scriptProblems({ prepare: 'tsc -p tsconfig.build.json', test: 'node --test' }), []);
  assert.deepEqual(scriptProblems({ postinstall: 'node setup.js' }), ['package.json has a "postinstall" script']);
  assert.equal(scriptProblems({ install: 'node-gyp rebuild' }).length, 1);
  assert.deepEqual(scriptProblems({ prepare: 'node-gyp rebuild && tsc' }), [
    'package.json "prepare" builds native code: node-gyp rebuild && tsc',
  ]);
  assert.equal(scriptProblems({ prepack: 'cmake-js compile' }).length, 1);
});

test('lightws loads without any addon: no bufferutil, no utf-8-validate, no .node file', async () => {
  await import('../../src/index.js');
  const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache);
  assert.deepEqual(
    loaded.filter((f) => f.endsWith('.node')),
    [],
  );
});
