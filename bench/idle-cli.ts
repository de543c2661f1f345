/**
 * Memory per idle connection of the `lightws echo` CLI itself, one process, read from outside as a
 * user would (/proc/PID/smaps_rollup, no GC forced): the CLI as shipped, against the same CLI given
 * node's `--semi-space-growth-factor=2` (V8's default, which the CLI then leaves alone: the young
 * generation as V8 sizes it), interleaved run by run.
 *
 *   npm run bench:idle-cli -- [--steps 0,10000,12000,19900] [--runs 3] [--in-flight 256] [--settle-ms 1000]
 *
 * Per step: the load process (load/idle-clients.ts, as bench:idle's) ramps to the step, then RSS is
 * read after --settle-ms. Per connection: "whole" is (RSS at the step − RSS empty) / step, one-time
 * growth such as the young generation's included; "slope" is (RSS at the step − RSS at the second
 * step) / the connections between them. One process holds at most ~19.9k connections here.
 * Results: bench/out/idle-cli.json (--publish: bench/results/, see lib/results.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { printTable } from './lib/format.js';
import { memoryOf } from './lib/proc.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { median } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { ClientCommand, ClientReport } from './load/idle-clients.js';
import { sourceBlock } from './load/sources.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'src', 'cli', 'main.js');
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    steps: { type: 'string', default: '0,10000,12000,19900' },
    runs: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '256' },
    'settle-ms': { type: 'string', default: '1000' },
  },
});
const STEPS = args.steps.split(',').map(Number);
if (STEPS.length < 3 || STEPS[0] !== 0 || STEPS.some((s, i) => i > 0 && !(s > STEPS[i - 1]! && s <= 19_900)))
  throw new RangeError('--steps: 0, then at least two increasing counts up to 19900 (20,000 open files per process)');
const RUNS = Number(args.runs);
/** Node flags of each variant: none (the CLI limits its young generation), or V8's own growth factor. */
const VARIANTS: Record<string, string[]> = {
  'lightws echo': [],
  'lightws echo, V8 default young gen': ['--semi-space-growth-factor=2'],
};

interface Round {
  variant: string;
  run: number;
  points: { connections: number; rss: number; anonymous: number }[];
  figures: Record<string, number>;
}

async function startCli(flags: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...flags, CLI, 'echo', '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>,
    once(child, 'exit').then(() => {
      throw new Error('lightws echo exited before listening');
    }),
  ]);
  return { child, port: Number(/:(\d+)/.exec(line[0])?.[1]) };
}

async function round(variant: string, run: number, index: number): Promise<Round> {
  const { child, port } = await startCli(VARIANTS[variant]!);
  const clients = new IpcChild<ClientCommand, ClientReport>('load generator', join(here, 'load', 'idle-clients.js'), [
    '--port',
    String(port),
    '--sources',
    `${sourceBlock(index)}.1`,
    '--per-source',
    '20000',
    '--in-flight',
    args['in-flight'],
  ]);
  const points: Round['points'] = [];
  try {
    await clients.next('ready', 15_000);
    for (const step of STEPS) {
      if (step > 0) {
        const ramped = await clients.ask({ type: 'ramp', to: step }, 'ramped', 120_000);
        if (ramped.open !== step || ramped.failed > 0 || ramped.closedByPeer > 0)
          throw new Error(`${variant}: ${JSON.stringify(ramped)}`);
      }
      await sleep(Number(args['settle-ms']));
      const { rss, anonymous } = memoryOf([child.pid!]);
      points.push({ connections: step, rss, anonymous });
      status(`${variant} run ${run}: ${step} connections, RSS ${(rss / 2 ** 20).toFixed(1)} MiB`, true);
    }
  } finally {
    await clients.ask({ type: 'quit' }, 'quitted', 15_000).catch(() => null);
    await clients.stop(5000);
    child.kill('SIGKILL');
  }
  const [empty, first] = points as [Round['points'][0], Round['points'][0]];
  const figures: Record<string, number> = {};
  for (const p of points.slice(2)) {
    figures[`whole 0→${p.connections}`] = (p.rss - empty.rss) / p.connections;
    figures[`slope ${first.connections}→${p.connections}`] = (p.rss - first.rss) / (p.connections - first.connections);
  }
  return { variant, run, points, figures };
}

async function main(): Promise<void> {
  const rounds: Round[] = [];
  let index = 0;
  for (let run = 1; run <= RUNS; run++)
    for (const variant of Object.keys(VARIANTS)) rounds.push(await round(variant, run, index++));
  const keys = Object.keys(rounds[0]!.figures);
  const summary = Object.fromEntries(
    Object.keys(VARIANTS).map((variant) => {
      const mine = rounds.filter((r) => r.variant === variant);
      return [variant, Object.fromEntries(keys.map((k) => [k, median(mine.map((r) => r.figures[k]!))]))];
    }),
  );
  console.log(
    `\n${process.version}, RSS per idle connection from outside (no GC), B, medians of ${RUNS} (each run in brackets):`,
  );
  printTable(
    ['variant', ...keys],
    Object.keys(VARIANTS).map((variant) => [
      variant,
      ...keys.map(
        (k) =>
          `${summary[variant]![k]!.toFixed(0)} (${rounds
            .filter((r) => r.variant === variant)
            .map((r) => r.figures[k]!.toFixed(0))
            .join('/')})`,
      ),
    ]),
  );
  const written = writeResults('idle-cli', { node: process.version, steps: STEPS, runs: RUNS, summary, rounds }, args);
  console.log(`\nresults in ${written}`);
}

main().catch((error: unknown) => die('bench:idle-cli failed', error));
