/** Benchmark results, saved with the machine they came from: figures mean little without it. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this module runs as dist/bench/lib/results.js. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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

/** Writes `{ environment, ...data }` as pretty JSON, creating the directory if needed. */
export function writeResults(path: string, data: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ environment: environment(), ...data }, null, 2) + '\n');
}
