import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test("'lightws/redis' is a subpath export with its types, built from src", async () => {
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, { types: string; import: string }>; dependencies?: object };
  const entry = manifest.exports['./redis']!;
  assert.deepEqual(entry, { types: './dist/src/redis/index.d.ts', import: './dist/src/redis/index.js' });
  assert.ok(existsSync(`${root}${entry.types}`) && existsSync(`${root}${entry.import}`));
  assert.equal(manifest.dependencies, undefined, 'still no runtime dependency');
  const specifier = 'lightws/redis'; // resolved by the package's own name, as a user's import would be
  const mod = (await import(specifier)) as { redisTopics?: unknown; REDIS_DEFAULTS?: unknown };
  assert.equal(typeof mod.redisTopics, 'function');
  assert.deepEqual(mod.REDIS_DEFAULTS, { prefix: 'lightws:', maxBufferedBytes: 8 * 1024 * 1024 });
});
