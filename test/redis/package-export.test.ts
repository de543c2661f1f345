import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** What `lightws/redis` exports at run time, and what its types declare: the whole public surface, so an export added or lost shows here. */
const RUNTIME_EXPORTS = ['REDIS_DEFAULTS', 'redisTopics'];
const DECLARED_EXPORTS = [
  'IoRedisClient',
  'NodeRedisClient',
  'REDIS_DEFAULTS',
  'RedisClient',
  'RedisTopics',
  'RedisTopicsOptions',
  'redisTopics',
];

/** The names a .d.ts exports: declarations, and `export type { … }` lists. */
function declaredExports(dts: string): string[] {
  const names = [...dts.matchAll(/^export (?:declare )?(?:const|function|interface|type|class|enum) (\w+)/gm)].map(
    (m) => m[1]!,
  );
  for (const list of dts.matchAll(/^export (?:type )?\{([^}]*)\}/gm))
    names.push(
      ...list[1]!
        .split(',')
        .map((name) =>
          name
            .trim()
            .split(/\s+as\s+/)
            .at(-1)!,
        )
        .filter(Boolean),
    );
  return names.sort();
}

test("'lightws/redis' is a subpath export with its types, built from src", async () => {
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
    exports: Record<string, unknown>;
    dependencies?: object;
    peerDependencies?: object;
  };
  assert.deepEqual(manifest.exports, {
    '.': { types: './dist/src/index.d.ts', import: './dist/src/index.js', default: './dist/src/index.js' },
    // The same conditions as '.': `default` lets require() reach the ES module where Node can (20.19+, 22.12+).
    './redis': {
      types: './dist/src/redis/index.d.ts',
      import: './dist/src/redis/index.js',
      default: './dist/src/redis/index.js',
    },
    './package.json': './package.json',
  });
  const entry = manifest.exports['./redis'];
  assert.ok(existsSync(`${root}${entry.types}`) && existsSync(`${root}${entry.import}`));
  assert.equal(manifest.dependencies, undefined, 'still no runtime dependency');
  assert.equal(manifest.peerDependencies, undefined, "the Redis client is the user's, not a peer dependency");

  const specifier = 'lightws/redis'; // resolved by the package's own name, as a user's import would be
  const mod = (await import(specifier)) as Record<string, unknown>;
  assert.equal(mod, await import(pathToFileURL(`${root}${entry.import}`).href), 'the name resolves to the built file');
  assert.deepEqual(Object.keys(mod).sort(), RUNTIME_EXPORTS);
  const redisTopics = mod.redisTopics as (...args: unknown[]) => unknown;
  assert.equal(typeof redisTopics, 'function');
  assert.equal(redisTopics.length, 2, 'redisTopics(server, options)');
  assert.throws(() => redisTopics({}, {}), {
    name: 'TypeError',
    message: 'redisTopics needs a lightws server (createServer())',
  });
  assert.deepEqual(mod.REDIS_DEFAULTS, {
    prefix: 'lightws:',
    maxBufferedBytes: 8 * 1024 * 1024,
    resubscribeWaitMs: 5000,
  });
  assert.deepEqual(declaredExports(readFileSync(`${root}${entry.types}`, 'utf8')), DECLARED_EXPORTS);
});

test('the declared-exports reader sees declarations and export lists, and misses nothing it is shown', () => {
  // The check must be able to fail: it must see a name that a real .d.ts could add.
  const dts =
    'export declare const A: 1;\nexport interface B {}\nexport type { C, D as E } from "./x.js";\nexport declare function f(): void;\ndeclare const hidden: 2;\n';
  assert.deepEqual(declaredExports(dts), ['A', 'B', 'C', 'E', 'f']);
  assert.notDeepEqual(
    declaredExports(`${readFileSync(`${root}dist/src/redis/index.d.ts`, 'utf8')}export declare const EXTRA: 1;\n`),
    DECLARED_EXPORTS,
  );
});
