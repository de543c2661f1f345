import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { VERSION } from '../src/index.js';
import { VERSION as SOURCE_VERSION } from '../src/version.js';

// dist/test → the repository
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The version a package.json declares, read when the test runs (not compiled in). */
function declared(manifest: string): string {
  return (JSON.parse(manifest) as { version: string }).version;
}

test("VERSION is package.json's version: a release bumps both or this fails", () => {
  const version = declared(readFileSync(`${repo}package.json`, 'utf8'));
  assert.match(version, /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, 'package.json has a semver version');
  assert.equal(VERSION, version);
  assert.equal(SOURCE_VERSION, VERSION, 'the public export is src/version.ts');
  // The comparison can fail: a manifest with another version is told apart.
  assert.notEqual(declared(JSON.stringify({ name: 'lightws', version: '9.9.9' })), VERSION);
});

test('the CLI prints it: lightws --version, and the usage names it', async () => {
  const cli = `${repo}dist/src/cli/main.js`;
  const run = promisify(execFile);
  assert.equal((await run(process.execPath, [cli, '--version'])).stdout, `${VERSION}\n`);
  assert.equal((await run(process.execPath, [cli, '-v'])).stdout, `${VERSION}\n`);
  assert.equal((await run(process.execPath, [cli, '--help'])).stdout.split('\n')[0], `lightws ${VERSION}`);
});
