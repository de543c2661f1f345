import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { startRedis, type RedisProcess } from './redis-server.js';

/**
 * The documentation's examples are programs: every ```js and ```ts block of a
 * Markdown file is written to a project where `lightws` is this package
 * (built), type-checked (ts: strict, exactOptionalPropertyTypes,
 * noUncheckedIndexedAccess) or syntax-checked (js), run to its end, and must
 * print each line its `// prints:` comments promise. Used by the README's
 * test, the docs' test and the examples' test (which compiles examples/).
 */

export const run = promisify(execFile);
// dist/test/support → the repository
export const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tsc7 = join(repo, 'node_modules/typescript/bin/tsc');

/** The Redis the examples name; the tests point them at their own redis-server. */
export const DOC_REDIS = 'redis://127.0.0.1:6379';

export interface Example {
  /** Where it is, for messages: `docs/api.md:120`. */
  where: string;
  language: 'js' | 'ts';
  line: number;
  code: string;
}

export function examples(markdown: string, file: string): Example[] {
  const found: Example[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const language = match[1]!;
    if (language !== 'js' && language !== 'ts' && language !== 'javascript' && language !== 'typescript') continue;
    const line = markdown.slice(0, match.index).split('\n').length;
    found.push({ where: `${file}:${line}`, language: language.startsWith('t') ? 'ts' : 'js', line, code: match[2]! });
  }
  return found;
}

/** The lines an example promises to print (`// prints: ...`). */
export function promised(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
}

/** Markdown files under `dir` (relative to the repository), recursively, sorted. */
export function markdownFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...markdownFiles(path));
    else if (entry.name.endsWith('.md')) found.push(path);
  }
  return found.sort();
}

export async function node(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd, timeout: 30_000, env: env ?? process.env });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')}:\n${failed.stdout ?? ''}\n${failed.stderr ?? failed.message}`, {
      cause: error,
    });
  }
}

/**
 * A scratch project where `lightws` (this package, built), `@types/node`,
 * `redis` and `ioredis` resolve as they would in a user's. Removed after the test.
 */
export function userProject(t: TestContext, name: string): string {
  const work = mkdtempSync(join(tmpdir(), `lightws-${name}-`));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  mkdirSync(join(work, 'node_modules/@types'), { recursive: true });
  symlinkSync(repo, join(work, 'node_modules/lightws'), 'dir'); // the package by its name, as users import it
  symlinkSync(realpathSync(join(repo, 'node_modules/@types/node')), join(work, 'node_modules/@types/node'), 'dir');
  for (const client of ['redis', 'ioredis'])
    symlinkSync(realpathSync(join(repo, 'node_modules', client)), join(work, 'node_modules', client), 'dir');
  return work;
}

/** Type-checks and emits (to out/) the TypeScript files of a user project, as a user's strict tsconfig would. */
export async function compile(work: string, files: string[]): Promise<void> {
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
        rootDir: '.',
        outDir: 'out',
      },
      files,
    }),
  );
  if (files.length === 0) return;
  try {
    await run(process.execPath, [tsc7, '-p', 'tsconfig.json'], { cwd: work, timeout: 120_000 });
  } catch (error) {
    assert.fail(`a TypeScript example does not compile:\n${(error as { stdout?: string }).stdout ?? String(error)}`);
  }
}

/** Compiles and runs every example; each must print what it promises. A real redis-server stands in for DOC_REDIS. */
export async function runExamples(t: TestContext, all: Example[], name: string): Promise<void> {
  const work = userProject(t, name);
  let redis: RedisProcess | undefined;
  if (all.some((example) => example.code.includes(DOC_REDIS))) {
    redis = await startRedis();
    t.after(() => redis?.stop());
  }
  const files = all.map((example, i) => ({
    example,
    file: `example-${i + 1}-${example.where.replace(/[^\w]+/g, '-')}.${example.language}`,
    code: example.code.replaceAll(DOC_REDIS, redis?.url ?? DOC_REDIS),
  }));
  for (const { file, code } of files) writeFileSync(join(work, file), code);
  await compile(
    work,
    files.filter((f) => f.example.language === 'ts').map((f) => f.file),
  );
  await Promise.all(
    files.map(async ({ example, file, code }) => {
      const script =
        example.language === 'ts' ? join('out', file.replace(/\.ts$/, '.js')) : file.replace(/\.js$/, '.mjs');
      if (example.language === 'js') {
        writeFileSync(join(work, script), code);
        await node(['--check', script], work);
      }
      const stdout = await node([script], work);
      const lines = stdout.split('\n').map((l) => l.trim());
      for (const line of promised(example.code))
        assert.ok(lines.includes(line), `${example.where} should print "${line}"; it printed:\n${stdout}`);
    }),
  );
}
