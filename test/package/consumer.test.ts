import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publicDeclarations, typesEntries } from '../support/public-declarations.js';

/**
 * The package as a user gets it: packed with `npm pack` from a checkout
 * without dist/ (so `prepare` must build it), installed from the tarball
 * into a consumer project, compiled there with TypeScript 7 (our
 * devDependency) and 5.9 (from the npm registry, cached) under strict,
 * exactOptionalPropertyTypes and noUncheckedIndexedAccess with nodenext,
 * node16 and bundler resolution, then run: ESM import and CommonJS require.
 * The consumer's sources are test/package/consumer/.
 */

const run = promisify(execFile);
// dist/test/package → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const consumerSources = join(repo, 'test/package/consumer');
const tsc7 = join(repo, 'node_modules/typescript/bin/tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];
const TS5 = '5.9';

async function sh(
  file: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(file, args, { cwd, timeout, maxBuffer: 16 << 20 });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}:\n${failed.stdout ?? ''}\n${failed.stderr ?? failed.message}`,
      { cause: error },
    );
  }
}

/** The files of a fresh clone: what git tracks (and is not ignored), read from the working tree. */
async function checkoutFiles(): Promise<string[]> {
  const { stdout } = await sh('git', ['ls-files', '--cached', '--others', '--exclude-standard'], repo);
  return stdout.split('\n').filter((file) => file !== '' && file !== 'node_modules' && existsSync(join(repo, file)));
}

/** TypeScript 5.9 from the registry into a cache shared by runs; undefined when the registry cannot be reached. */
async function typescript5(): Promise<{ tsc: string } | { unreachable: string }> {
  const cache = join(process.env.LIGHTWS_TEST_CACHE ?? join(tmpdir(), 'lightws-test-cache'), `typescript-${TS5}`);
  const tsc = join(cache, 'node_modules/typescript/bin/tsc');
  if (existsSync(tsc)) return { tsc };
  mkdirSync(dirname(cache), { recursive: true });
  // Install beside the cache and move it into place whole: two runs at once never see half of it.
  const staging = mkdtempSync(`${cache}.installing-`);
  try {
    await run(NPM, ['install', '--prefix', staging, '--no-save', ...npmQuiet, `typescript@${TS5}`], {
      timeout: 180_000,
    });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const output = `${(error as { stderr?: string }).stderr ?? ''} ${(error as Error).message}`;
    if (/E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|HOSTUNREACH)|network|offline/i.test(output))
      return { unreachable: output.trim().split('\n')[0]! };
    throw error;
  }
  try {
    renameSync(staging, cache);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run got there first
  }
  return { tsc };
}

function tsconfig(
  module: string,
  moduleResolution: string,
  files: string[],
  emit: boolean,
  skipLibCheck: boolean,
): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module,
      moduleResolution,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck,
      types: ['node'],
      ...(emit ? { outDir: 'out' } : { noEmit: true }),
    },
    files,
  });
}

test('npm pack of a fresh checkout installs into a consumer project that compiles with TypeScript 7 and 5.9 and runs (import and require)', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'lightws-package-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const ts5 = typescript5(); // meanwhile

  // A fresh checkout: no dist/. Only devDependencies are needed, for prepare; link ours.
  const checkout = join(work, 'checkout');
  for (const file of await checkoutFiles()) cpSync(join(repo, file), join(checkout, file), { recursive: true });
  assert.equal(existsSync(join(checkout, 'dist')), false);
  symlinkSync(realpathSync(join(repo, 'node_modules')), join(checkout, 'node_modules'), 'dir');
  const packed = await sh(NPM, ['pack', '--json', '--pack-destination', work, ...npmQuiet], checkout);
  const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = manifest!.files.map((f) => f.path);
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
    'dist/src/api/connection.d.ts',
    'dist/src/chat/public/index.html',
    'dist/src/chat/public/chat.js',
    'dist/src/chat/public/chat.css',
  ]) {
    assert.ok(files.includes(needed), `the tarball holds ${needed}`);
  }
  assert.deepEqual(
    files.filter((f) => !f.startsWith('dist/src/') && !['package.json', 'README.md', 'LICENSE'].includes(f)),
    [],
    'nothing but dist/src, README, LICENSE and package.json',
  );
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
    'no sources or maps',
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/src/chat/public/')).sort(),
    ['dist/src/chat/public/chat.css', 'dist/src/chat/public/chat.js', 'dist/src/chat/public/index.html'],
    'the chat page, copied by prepare',
  );

  // The consumer: the tarball and @types/node (linked from ours), nothing from the registry.
  const consumer = join(work, 'consumer');
  cpSync(consumerSources, consumer, { recursive: true });
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: { lightws: `file:${join(work, manifest!.filename)}` },
      devDependencies: { '@types/node': `file:${realpathSync(join(repo, 'node_modules/@types/node'))}` },
    }),
  );
  await sh(NPM, ['install', '--offline', ...npmQuiet], consumer);
  const installed = JSON.parse(readFileSync(join(consumer, 'node_modules/lightws/package.json'), 'utf8')) as {
    exports: Record<string, Record<string, string>>;
  };
  assert.deepEqual(Object.keys(installed.exports['.']!), ['types', 'import', 'default']);
  assert.deepEqual(installed.exports['./redis'], {
    types: './dist/src/redis/index.d.ts',
    import: './dist/src/redis/index.js',
    default: './dist/src/redis/index.js',
  });
  const reachable = publicDeclarations(join(consumer, 'node_modules/lightws/dist/src'), typesEntries(installed));
  assert.ok(
    reachable.includes('api/connection.d.ts') && reachable.includes('redis/index.d.ts'),
    'both entry points (. and ./redis) are walked',
  );
  // The public types live in api/; of the engine, only the options a user passes (reactor/options) are reachable.
  assert.deepEqual(
    reachable.filter((f) => f.startsWith('reactor/') && f !== 'reactor/options.d.ts'),
    [],
    "no public type leads to the reactor's own classes",
  );
  const help = await sh(join(consumer, 'node_modules/.bin/lightws'), ['--help'], consumer);
  assert.match(help.stdout, /lightws echo/, 'the bin is installed');
  assert.match(help.stdout, /lightws chat/);
  // The installed chat finds its page: the files it reads sit where it looks for them.
  const chat = spawn(
    join(consumer, 'node_modules/.bin/lightws'),
    ['chat', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      chat.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      chat.once('exit', (code) => reject(new Error(`lightws chat exited (${code})`)));
    });
    const page = await fetch(`${/http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0]}`);
    assert.match(await page.text(), /<title>lightws chat<\/title>/);
  } finally {
    chat.kill('SIGTERM');
    await new Promise((resolve) => chat.once('exit', resolve));
  }

  // Compile: nodenext emits (and checks our .d.ts in full); node16 and bundler check resolution.
  writeFileSync(
    join(consumer, 'tsconfig.nodenext.json'),
    tsconfig('nodenext', 'nodenext', ['esm.ts', 'cjs.cts'], true, false),
  );
  writeFileSync(join(consumer, 'tsconfig.node16.json'), tsconfig('node16', 'node16', ['esm.ts'], false, true));
  writeFileSync(join(consumer, 'tsconfig.bundler.json'), tsconfig('esnext', 'bundler', ['esm.ts'], false, true));
  const configs = ['nodenext', 'node16', 'bundler'];
  const five = await ts5;
  if ('unreachable' in five)
    t.diagnostic(`TypeScript ${TS5} not checked: the npm registry is unreachable (${five.unreachable})`);
  // All at once; one compiler emits what is run: 5.9 when it is here, else 7.
  const emitter = 'unreachable' in five ? tsc7 : five.tsc;
  await Promise.all(
    [tsc7, ...('unreachable' in five ? [] : [five.tsc])].flatMap((tsc) =>
      configs.map((config) =>
        sh(
          process.execPath,
          [tsc, '-p', `tsconfig.${config}.json`, ...(tsc === emitter ? [] : ['--noEmit'])],
          consumer,
        ),
      ),
    ),
  );

  // Run what nodenext emitted: ESM import, then require().
  const esm = await sh(process.execPath, ['out/esm.js'], consumer, 20_000);
  assert.equal(esm.stdout.trim(), 'esm ok: /whoami/alice, hello');
  const cjs = await sh(process.execPath, ['out/cjs.cjs'], consumer, 20_000);
  assert.equal(cjs.stdout.trim(), 'cjs ok: required');
  // Plain CommonJS, no TypeScript: require() of both entry points of the installed package.
  const required = await sh(process.execPath, ['require-both.cjs'], consumer, 20_000);
  assert.equal(required.stdout.trim(), 'require ok: lightws createServer function, lightws/redis redisTopics function');
  // Where Node cannot require() an ES module (before 20.19 / 22.12, or with the feature off): a clear error.
  if (process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')) {
    await assert.rejects(
      sh(process.execPath, ['--no-experimental-require-module', 'out/cjs.cjs'], consumer, 20_000),
      /ERR_REQUIRE_ESM/,
    );
  }
});
