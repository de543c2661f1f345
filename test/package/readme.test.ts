import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createChatServer } from '../../src/chat/chat-server.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';

/**
 * The README's examples are programs: every ```js and ```ts block is written
 * to a project where `lightws` is this package (built), type-checked (ts:
 * strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess) or
 * syntax-checked (js), run to its end, and must print each line its
 * `// prints:` comments promise. The shell one-liner that tries the demo
 * server is run against a real echo server. The headline table's figures
 * must come from docs/benchmarks.md.
 */

const run = promisify(execFile);
// dist/test/package → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const tsc7 = join(repo, 'node_modules/typescript/bin/tsc');

/** The Redis the README's examples name; the test points them at its own redis-server. */
const README_REDIS = 'redis://127.0.0.1:6379';

interface Example {
  language: 'js' | 'ts';
  line: number;
  code: string;
}

function examples(markdown: string): Example[] {
  const found: Example[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const language = match[1]!;
    if (language !== 'js' && language !== 'ts' && language !== 'javascript' && language !== 'typescript') continue;
    const line = markdown.slice(0, match.index).split('\n').length;
    found.push({ language: language.startsWith('t') ? 'ts' : 'js', line, code: match[2]! });
  }
  return found;
}

/** The lines an example promises to print (`// prints: ...`). */
function promised(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
}

async function node(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd, timeout: 30_000 });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')}:\n${failed.stdout ?? ''}\n${failed.stderr ?? failed.message}`, {
      cause: error,
    });
  }
}

describe('README', () => {
  const all = examples(readme);

  test('the README has its examples, each promising some output', () => {
    assert.ok(all.length >= 6, `${all.length} examples`);
    for (const example of all)
      assert.ok(promised(example.code).length > 0, `the example at README.md:${example.line} promises no output`);
  });

  test('every js and ts example compiles, runs to its end and prints what it promises', async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'lightws-readme-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    writeFileSync(
      join(work, 'package.json'),
      JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }),
    );
    mkdirSync(join(work, 'node_modules/@types'), { recursive: true });
    symlinkSync(repo, join(work, 'node_modules/lightws'), 'dir'); // the package by its name, as users import it
    symlinkSync(realpathSync(join(repo, 'node_modules/@types/node')), join(work, 'node_modules/@types/node'), 'dir');
    // The "Several servers" examples talk to a real redis-server: ours, on a free port.
    for (const client of ['redis', 'ioredis'])
      symlinkSync(realpathSync(join(repo, 'node_modules', client)), join(work, 'node_modules', client), 'dir');
    let redis: RedisProcess | undefined;
    if (all.some((example) => example.code.includes(README_REDIS))) {
      redis = await startRedis();
      t.after(() => redis?.stop());
    }
    const files = all.map((example, i) => ({
      example,
      file: `example-${i + 1}-line-${example.line}.${example.language}`,
    }));
    for (const { example, file } of files)
      writeFileSync(join(work, file), example.code.replaceAll(README_REDIS, redis?.url ?? README_REDIS));
    const typescript = files.filter((f) => f.example.language === 'ts').map((f) => f.file);
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          types: ['node'],
          outDir: 'out',
        },
        files: typescript,
      }),
    );
    if (typescript.length > 0) {
      try {
        await run(process.execPath, [tsc7, '-p', 'tsconfig.json'], { cwd: work, timeout: 60_000 });
      } catch (error) {
        assert.fail(
          `a README TypeScript example does not compile:\n${(error as { stdout?: string }).stdout ?? String(error)}`,
        );
      }
    }
    await Promise.all(
      files.map(async ({ example, file }) => {
        const script =
          example.language === 'ts' ? join('out', file.replace(/\.ts$/, '.js')) : file.replace(/\.js$/, '.mjs');
        if (example.language === 'js') {
          writeFileSync(join(work, script), example.code.replaceAll(README_REDIS, redis?.url ?? README_REDIS));
          await node(['--check', script], work);
        }
        const stdout = await node([script], work);
        const lines = stdout.split('\n').map((l) => l.trim());
        for (const line of promised(example.code))
          assert.ok(lines.includes(line), `README.md:${example.line} should print "${line}"; it printed:\n${stdout}`);
      }),
    );
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
    for (const ahead of ['at 20k msg/s', '1 MiB binary', 'Garbage', 'upgrade']) {
      const row = body.find((r) => r[0]!.includes(ahead));
      assert.ok(row !== undefined && row[5]!.includes('uWS ahead'), `the row "${ahead}" says uWS is ahead`);
    }
  });
});
