/**
 * Renders the charts in docs/charts/ from the committed results in bench/results/ (idle, echo,
 * deflate, million):
 *
 *   npm run bench:charts -- [--from bench/out] [--to DIR]
 *
 * --from reads another folder (say the bench/out/ of a run not published yet); --to writes the
 * SVGs elsewhere (default docs/charts/, which docs/benchmarks.md shows). Each chart is drawn only
 * when its results file exists, so it can run after any subset of the benchmarks. Values are the
 * medians the benchmarks recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchArgs } from './lib/args.js';
import { readResults, ROOT, shown } from './lib/results.js';
import { barChart, type Bar } from './lib/svg-chart.js';

const { values: args } = benchArgs(import.meta.url, { options: { from: { type: 'string' }, to: { type: 'string' } } });
const from = args.from === undefined ? join(ROOT, 'bench', 'results') : resolve(args.from);
const to = args.to === undefined ? join(ROOT, 'docs', 'charts') : resolve(args.to);

const LABELS: Record<string, string> = {
  handle: 'lightws (handle)',
  socket: 'lightws (socket)',
  ws: 'ws',
  uws: 'uWebSockets.js',
};

const read = <T>(name: string): T | undefined => readResults<T>(from, name);

function bars(values: Record<string, number | undefined>): Bar[] {
  return Object.entries(values)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]))
    .map(([kind, value]) => ({ label: LABELS[kind] ?? kind, value, ours: kind === 'handle' || kind === 'socket' }));
}

function write(name: string, svg: string): void {
  mkdirSync(to, { recursive: true });
  const path = join(to, `${name}.svg`);
  writeFileSync(path, svg);
  process.stdout.write(`wrote ${shown(path)}\n`);
}

interface IdleSummary {
  rssPerConn: number;
  rssNoYoungPerConn: number;
  heapPerConn: number;
  gcMsTop: number;
}
// Titles say what the run measured, from its own config: a --from folder may hold a smaller run.
const thousands = (n: number): string => `${Number((n / 1000).toFixed(1))}k`;
const idle = read<{ summary: Record<string, IdleSummary>; config?: { connections?: number } }>('idle');
if (idle) {
  const kinds = Object.keys(idle.summary);
  const n = thousands(idle.config?.connections ?? 19_900);
  const pick = (field: keyof IdleSummary) => Object.fromEntries(kinds.map((k) => [k, idle.summary[k]![field]]));
  write(
    'memory-rss-per-connection',
    barChart({
      title: `Server RSS per idle connection (${n} connections, lower is better)`,
      unit: 'B',
      bars: bars(pick('rssPerConn')),
      target: { value: 800, label: 'target 800 B' },
    }),
  );
  write(
    'memory-heap-per-connection',
    barChart({
      title: 'V8 heap per idle connection (lower is better)',
      unit: 'B',
      bars: bars(pick('heapPerConn')),
      target: { value: 200, label: 'target 200 B' },
    }),
  );
  write(
    'gc-pause',
    barChart({
      title: `Full-GC pause with ${n} idle connections (lower is better)`,
      unit: 'ms',
      bars: bars(pick('gcMsTop')),
      target: { value: 15, label: 'target 15 ms' },
    }),
  );
}

type EchoSummary = Record<string, Record<string, { msgsPerServerCpuSec?: number }>>;
interface EchoScenario {
  name: string;
  connections: number;
  mode: string;
  rate: number;
}
const echo = read<{ summary?: EchoSummary; config?: { scenarios?: EchoScenario[] } }>('echo');
const describe = (sc: EchoScenario | undefined, name: string): string =>
  sc === undefined
    ? name
    : `${sc.connections.toLocaleString('en-US')} connections${sc.mode === 'rate' ? `, ${thousands(sc.rate)} msg/s offered` : ' flat out'}`;
if (echo?.summary) {
  for (const [scenario, servers] of Object.entries(echo.summary)) {
    const values = Object.fromEntries(Object.entries(servers).map(([kind, r]) => [kind, r.msgsPerServerCpuSec]));
    const title = `Echo, ${describe(
      echo.config?.scenarios?.find((s) => s.name === scenario),
      scenario,
    )}: messages per server CPU-second`;
    write(`echo-${scenario}`, barChart({ title, unit: 'msg/CPU-s', bars: bars(values) }));
  }
}

// bench:deflate: memory per idle connection with and without permessage-deflate, the three servers.
const deflate = read<{ idle?: { summary?: Record<string, IdleSummary> }; config?: { 'idle-connections'?: string } }>(
  'deflate',
);
if (deflate?.idle?.summary) {
  const summary = deflate.idle.summary;
  const n = thousands(Number(deflate.config?.['idle-connections'] ?? 19_900));
  const names: [string, string][] = [
    ['handle', 'lightws, no deflate'],
    ['handle-shared', 'lightws shared'],
    ['handle-window', 'lightws window (idle)'],
    ['ws', 'ws, no deflate'],
    ['ws-deflate', 'ws deflate'],
    ['uws', 'uWS.js, no deflate'],
    ['uws-shared', 'uWS.js shared'],
  ];
  write(
    'deflate-memory-per-connection',
    barChart({
      title: `RSS per idle connection, permessage-deflate off and negotiated (${n} connections, lower is better)`,
      unit: 'B',
      bars: names
        .filter(([kind]) => summary[kind] !== undefined)
        .map(([kind, label]) => ({ label, value: summary[kind]!.rssPerConn, ours: kind.startsWith('handle') })),
    }),
  );
}

interface MillionRun {
  kind?: string;
  label: string;
  connections: number;
  error?: string;
  memory?: { serverRss: number; serverPss: number };
  verify?: unknown;
}
const million = read<{ runs: MillionRun[] }>('million');
if (million) {
  // The last completed run of each system and size (older runs have no kind: their label says it): memory against connections.
  const done = new Map<string, MillionRun>();
  const system = (run: MillionRun): string => run.kind ?? (run.label.startsWith('ws') ? 'ws' : 'lightws');
  for (const run of million.runs)
    if (run.error === undefined && run.memory !== undefined) done.set(`${system(run)} ${run.connections}`, run);
  const GiB = 1024 ** 3;
  const runs = [...done.values()].sort((a, b) => a.connections - b.connections);
  write(
    'million-server-memory',
    barChart({
      title: 'Server memory against connections (PSS summed over the workers)',
      unit: 'GiB',
      bars: runs.map((run) => ({
        label: `${system(run)} ${(run.connections / 1000).toLocaleString('en-US')}k`,
        value: run.memory!.serverPss / GiB,
        ours: system(run) === 'lightws',
      })),
    }),
  );
}
