/**
 * Where a benchmark's results go, with the machine they came from (figures mean little without it).
 *
 * By default to bench/out/<name>.json, which git ignores: running a benchmark to try something
 * must not rewrite the committed figures and leave the tree dirty. The committed
 * bench/results/<name>.json (what docs/benchmarks.md quotes and `bench:charts` draws) is written
 * only when asked for, with --publish or BENCH_PUBLISH=1; --out DIR or BENCH_OUT=DIR writes to
 * another folder.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this module runs as dist/bench/lib/results.js. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Spread into each benchmark's parseArgs options: `--publish`, `--out DIR`. */
export const RESULTS_OPTIONS = {
  publish: { type: 'boolean', default: false },
  out: { type: 'string' },
} as const;

export interface ResultsArgs {
  publish?: boolean | undefined;
  out?: string | undefined;
}

/** bench/out (default), bench/results (--publish, BENCH_PUBLISH=1) or the --out / BENCH_OUT folder. */
export function resultsDir(args: ResultsArgs = {}): string {
  const out = args.out ?? process.env['BENCH_OUT'] ?? '';
  const publish = args.publish === true || process.env['BENCH_PUBLISH'] === '1';
  if (out !== '' && publish)
    throw new RangeError('--publish writes bench/results/ and --out names another folder: give one of them');
  if (out !== '') return resolve(out);
  return join(ROOT, 'bench', publish ? 'results' : 'out');
}

/** A path as people type it: relative to the repository root when inside it. */
export function shown(path: string): string {
  const rel = relative(ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** What the figures were measured on. */
export function environment(): Record<string, string | number> {
  const cpuList = cpus();
  const cpu = cpuList[0]?.model.trim() ?? 'unknown';
  const { version: node, platform, arch } = process;
  return { node, v8: process.versions.v8, platform, arch, cpu, cores: cpuList.length, date: new Date().toISOString() };
}

/** The installed version of a package the benchmark compares against (ws, uWS). */
export function packageVersion(name: string): string {
  const manifest = join(ROOT, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** How this run was started: node flags, script and arguments. */
function commandLine(): string {
  return [process.argv0, ...process.execArgv, ...process.argv.slice(1).map((a, i) => (i === 0 ? shown(a) : a))].join(
    ' ',
  );
}

function writeJson(path: string, value: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return shown(path);
}

/** Writes `{ environment, command, ...data }` to <results dir>/<name>.json; returns the path written. */
export function writeResults(name: string, data: Record<string, unknown>, args: ResultsArgs = {}): string {
  return writeJson(join(resultsDir(args), `${name}.json`), {
    environment: environment(),
    command: commandLine(),
    ...data,
  });
}

/**
 * For a benchmark whose file keeps every run (bench:million: each size is a separate, long run):
 * reads <name>.json if it is there, appends `run`, writes it back; returns the path written.
 */
export function appendRun(name: string, run: Record<string, unknown>, args: ResultsArgs = {}): string {
  const path = join(resultsDir(args), `${name}.json`);
  let runs: unknown[] = [];
  if (existsSync(path)) {
    try {
      runs = (JSON.parse(readFileSync(path, 'utf8')) as { runs?: unknown[] }).runs ?? [];
    } catch {
      runs = []; // unreadable: start the file over rather than lose this run
    }
  }
  return writeJson(path, { benchmark: name, environment: environment(), runs: [...runs, run] });
}

/** Reads <dir>/<name>.json, or undefined when that benchmark has not written it. */
export function readResults<T>(dir: string, name: string): T | undefined {
  const path = join(dir, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}
