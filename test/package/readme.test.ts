import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createChatServer } from '../../src/chat/chat-server.js';
import { examples, node, promised, repo, runExamples } from '../support/doc-examples.js';

/**
 * The README's examples are programs: every ```js and ```ts block is
 * compiled, run to its end and must print what its `// prints:` comments
 * promise (test/support/doc-examples.ts; docs.test.ts does the same for
 * docs/ and CONTRIBUTING.md). The shell one-liner that tries the demo server
 * is run against a real chat server. The headline table's figures must come
 * from docs/benchmarks.md.
 */

const readme = readFileSync(join(repo, 'README.md'), 'utf8');

describe('README', () => {
  const all = examples(readme, 'README.md');

  test('the README has its quick start, each example promising some output', () => {
    assert.ok(all.length >= 1, `${all.length} examples`);
    for (const example of all)
      assert.ok(promised(example.code).length > 0, `the example at ${example.where} promises no output`);
  });

  test('every js and ts example compiles, runs to its end and prints what it promises', async (t) => {
    await runExamples(t, all, 'readme');
  });

  test('the shell one-liner that tries the demo chat gets its line back', async () => {
    const command = /^node --experimental-websocket -e "(.*)"$/m.exec(readme);
    assert.ok(command, 'the one-liner is in the README');
    const server = createChatServer({ logLevel: 'silent' });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const code = command[1]!.replaceAll('127.0.0.1:9001', `127.0.0.1:${port}`);
      assert.notEqual(code, command[1], 'the one-liner talks to the demo port');
      assert.equal((await node(['--experimental-websocket', '--no-warnings', '-e', code], repo)).trim(), 'cli: hi');
    } finally {
      await server.close();
    }
  });

  test('the headline table quotes docs/benchmarks.md, with a ws and a uWebSockets.js cell in every row', () => {
    const benchmarks = readFileSync(join(repo, 'docs/benchmarks.md'), 'utf8').replaceAll(',', '');
    const section = readme.slice(readme.indexOf('## Headline figures'), readme.indexOf('## Install'));
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    const [header, , ...body] = rows;
    assert.deepEqual(header!.slice(1, 4), ['lightws (`handle`)', 'ws', 'uWebSockets.js']);
    assert.ok(body.length >= 10, `${body.length} rows`);
    for (const row of body) {
      assert.ok(row[2] !== '' && row[3] !== '', `${row[0]}: a ws and a uWS cell ("not measured" when there is none)`);
      for (const cell of row.slice(1, 4)) {
        for (const figure of cell.replaceAll(',', '').match(/\d+(\.\d+)?/g) ?? []) {
          assert.ok(benchmarks.includes(figure), `${row[0]}: ${figure} is not in docs/benchmarks.md`);
        }
      }
    }
    for (const ahead of ['at 20k msg/s', 'Garbage', 'upgrade']) {
      const row = body.find((r) => r[0]!.includes(ahead));
      assert.ok(row !== undefined && row[5]!.includes('uWS ahead'), `the row "${ahead}" says uWS is ahead`);
    }
  });
});
