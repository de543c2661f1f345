import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { examples, markdownFiles, promised, repo, runExamples, type Example } from '../support/doc-examples.js';

/**
 * Every ```js and ```ts block of docs/**\/*.md and CONTRIBUTING.md is a
 * program: compiled (ts, strict), run to its end, and it must print what its
 * `// prints:` comments promise, as the README's are (readme.test.ts).
 */

const files = [...markdownFiles('docs'), 'CONTRIBUTING.md'];
const all: Example[] = files.flatMap((file) => examples(readFileSync(join(repo, file), 'utf8'), file));

test('the docs have their examples, each promising some output; the API reference and every guide have some', () => {
  assert.ok(all.length >= 10, `${all.length} examples`);
  for (const example of all)
    assert.ok(promised(example.code).length > 0, `the example at ${example.where} promises no output`);
  for (const file of files.filter((f) => f === 'docs/api.md' || f.startsWith('docs/guides/')))
    assert.ok(
      all.some((example) => example.where.startsWith(`${file}:`)),
      `${file} has no example the tests run`,
    );
});

test('every js and ts example in docs/ and CONTRIBUTING.md compiles, runs to its end and prints what it promises', async (t) => {
  await runExamples(t, all, 'docs');
});

/** The names an entry point exports: `export { a, type B } from`, `export type { C }`, `export function d`, ... */
function exportedNames(source: string): string[] {
  const names = new Set<string>();
  for (const list of source.matchAll(/^export (?:type )?\{([^}]*)\}/gm))
    for (const item of list[1]!.split(','))
      if (item.trim() !== '')
        names.add(
          item
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)
            .pop()!,
        );
  for (const declaration of source.matchAll(
    /^export (?:declare )?(?:async )?(?:function|const|class|interface|type|enum) (\w+)/gm,
  ))
    names.add(declaration[1]!);
  return [...names].sort();
}

test('docs/api.md names every export of lightws and lightws/redis', () => {
  const api = readFileSync(join(repo, 'docs/api.md'), 'utf8');
  const main = exportedNames(readFileSync(join(repo, 'src/index.ts'), 'utf8'));
  const redis = exportedNames(readFileSync(join(repo, 'src/redis/index.ts'), 'utf8'));
  assert.ok(
    main.includes('createServer') && main.includes('Connection') && main.length >= 60,
    `${main.length} exports`,
  );
  assert.ok(redis.includes('redisTopics') && redis.includes('IoRedisClient'), redis.join(', '));
  const missing = [...main, ...redis].filter((name) => !api.includes(`\`${name}`));
  assert.deepEqual(missing, [], 'exports docs/api.md does not name (as `Name`)');
  // The reader must see a name a new export would add.
  assert.deepEqual(exportedNames('export { a, type B as C } from "x";\nexport interface D {}\n'), ['C', 'D', 'a']);
});

test('docs/api.md names every option (EndpointOptions, ServerSettings, ClusterOptions) and every handler', () => {
  const api = readFileSync(join(repo, 'docs/api.md'), 'utf8');
  /** The property names an interface declares in a source file (`name?:` or `name(`). */
  const members = (file: string, name: string): string[] => {
    const source = readFileSync(join(repo, file), 'utf8');
    const start = source.indexOf(`export interface ${name}`);
    assert.ok(start >= 0, `${name} in ${file}`);
    const body = source.slice(start, source.indexOf('\n}\n', start));
    return [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??[(:]/gm)].map((m) => m[1]!);
  };
  const names = [
    ...members('src/api/options.ts', 'EndpointOptions'),
    ...members('src/server.ts', 'ServerSettings'),
    ...members('src/cluster/cluster.ts', 'ClusterOptions'),
    ...members('src/api/handlers.ts', 'ConnectionHandlers'),
    ...members('src/api/handlers.ts', 'Handlers'),
  ];
  assert.ok(names.length >= 45 && names.includes('maxMessageSize') && names.includes('upgrade'), names.join(', '));
  assert.deepEqual(
    names.filter((name) => !api.includes(`\`${name}`)),
    [],
    'options and handlers docs/api.md does not name',
  );
});
