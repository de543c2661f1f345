/**
 * bench:sitting's parts: which benchmark of this folder stands behind each comparative table of
 * docs/benchmarks.md, with what arguments (the sitting's settings, and the --quick ones that only
 * check the machinery), and how its results file becomes rows of lightws against ws, uWS and Bun.
 *
 * A row's ratio is lightws's advantage: > 1 where lightws is better (more per second, or less CPU
 * or memory), < 1 where it loses. Paired run by run (lib/stats.ts pairedRatio) where the benchmark
 * keeps its runs, else taken from the medians.
 */
import { pairedRatio } from './stats.js';

export type Ref = 'ws' | 'uws' | 'bun';
export const REFS: readonly Ref[] = ['ws', 'uws', 'bun'];

export interface Row {
  table: string;
  measure: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The lightws server of the row (its kind's name in the benchmark). */
  lightws: string;
  /** Medians; undefined where that server did not run (uWS off Node 20, no Bun, or n/a). */
  values: Partial<Record<'lightws' | Ref, number>>;
  ratios: Partial<Record<Ref, number>>;
  paired: boolean;
}

/**
 * A part's arguments: its settings (or --quick's, with one run), --runs, and the --kinds this
 * sitting can run (`available`: uWS only where its native binary loads, Bun only where found).
 */
export function partArgs(part: Part, quick: boolean, runs: number, available: (kind: string) => boolean): string[] {
  return [
    ...(quick ? part.quick : part.full),
    ...(part.runs === false ? [] : ['--runs', String(quick ? 1 : runs)]),
    ...(part.kinds === undefined ? [] : ['--kinds', part.kinds.filter(available).join(',')]),
  ];
}

export interface Part {
  /** The part's name (--only, --skip) and the script run, dist/bench/<name>.js, which writes <name>.json. */
  name: string;
  /** The section of docs/benchmarks.md the part re-measures. */
  section: string;
  nodeArgs?: string[];
  /** The servers, for its --kinds (left out: the benchmark chooses them). */
  kinds?: readonly string[];
  /** Whether it takes --runs (default yes). */
  runs?: false;
  /** Its arguments in the sitting, and with --quick; --runs, --kinds and --out are added. */
  full: readonly string[];
  quick: readonly string[];
  /** What the sitting's settings change from the docs' command, and why the ratios still hold. */
  settings: string;
  /** Where a server of the docs' table is not in the part, and why. */
  notApplicable?: string;
  /** The part's results file (its benchmark's shape, which each part knows) as rows. */
  rows(json: unknown): Row[];
}

type Summary = Record<string, Record<string, number>>;
/** The results files of the benchmarks that keep a summary by kind and their rounds (echo, handshake, http). */
interface RoundsJson {
  summary: Summary;
  rounds: (Sample & Record<string, number>)[];
}
interface SizedRow {
  kind: string;
  /** Connections (bench:broadcast); bench:garbage's rows have none. */
  n?: number;
  size: number;
  [field: string]: number | string | undefined;
}

interface Sample {
  kind: string;
  run: number;
}

/**
 * One row: `median(kind)` for each server; ratios paired over `samples` (each with kind and run)
 * by `value` when given, else of the medians.
 */
function row<S extends Sample>(
  spec: Pick<Row, 'table' | 'measure' | 'unit' | 'better' | 'lightws'>,
  refs: Partial<Record<Ref, string>>,
  median: (kind: string) => number | undefined,
  paired?: { samples: readonly S[]; value: (s: S) => number },
): Row {
  const values: Row['values'] = {};
  const ratios: Row['ratios'] = {};
  // A NaN written as null (no rounds) is no figure; a ratio needs two positive ones (an idle slope can come out ≤ 0).
  const figure = (kind: string): number | undefined => {
    const v = median(kind);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const mine = figure(spec.lightws);
  if (mine !== undefined) values.lightws = mine;
  for (const ref of REFS) {
    const kind = refs[ref];
    const theirs = kind === undefined ? undefined : figure(kind);
    if (kind === undefined || theirs === undefined) continue;
    values[ref] = theirs;
    if (mine === undefined || mine <= 0 || theirs <= 0) continue;
    const ratio =
      paired === undefined
        ? mine / theirs
        : pairedRatio(paired.samples, spec.lightws, kind, paired.value) || mine / theirs;
    ratios[ref] = spec.better === 'higher' ? ratio : 1 / ratio;
  }
  return { ...spec, values, ratios, paired: paired !== undefined };
}

/** `{ kind: [run 1, run 2, …] }` as samples with a run number, for pairing. */
function fromArrays(byKind: Record<string, number[]> | undefined): { kind: string; run: number; v: number }[] {
  return Object.entries(byKind ?? {}).flatMap(([kind, values]) => values.map((v, run) => ({ kind, run, v })));
}

const field =
  (summary: Summary | undefined, name: string) =>
  (kind: string): number | undefined =>
    summary?.[kind]?.[name];

const STANDARD = { ws: 'ws', uws: 'uws', bun: 'bun' } as const;

/** A measure: what it is, its unit, which way is better, and its field in the results. */
type Measure = readonly [what: string, unit: string, better: Row['better'], field: string];

/** Rows of a benchmark with a summary by kind and its rounds (echo's machinery: handshake, http), paired. */
function roundsRows(table: string, json: unknown, measures: readonly Measure[]): Row[] {
  const j = json as RoundsJson;
  return measures.map(([measure, unit, better, name]) =>
    row({ table, measure, unit, better, lightws: 'handle' }, STANDARD, field(j.summary, name), {
      samples: j.rounds,
      value: (r) => r[name]!,
    }),
  );
}

/** Rows of a benchmark whose summary is a list of { kind, size, … } (broadcast, garbage), one set per size. */
function sizedRows(
  table: string,
  json: unknown,
  measures: readonly Measure[],
  refs: Partial<Record<Ref, string>>,
  lightws = 'handle',
): Row[] {
  const summary = (json as { summary: SizedRow[] }).summary;
  const sizes = [...new Set(summary.map((r) => r.size))];
  return sizes.flatMap((size) => {
    const at = summary.filter((r) => r.size === size);
    return measures.map(([what, unit, better, name]) =>
      row(
        {
          table,
          measure: `${at[0]!.n === undefined ? '' : `${at[0]!.n} conns, `}${size} B: ${what}`,
          unit,
          better,
          lightws,
        },
        refs,
        (kind) => at.find((r) => r.kind === kind)?.[name] as number | undefined,
      ),
    );
  });
}

export const PARTS: readonly Part[] = [
  {
    name: 'handshake',
    section: 'Handshakes',
    kinds: ['handle', 'ws', 'uws', 'bun'],
    full: ['--seconds', '3', '--warmup', '1'],
    quick: ['--seconds', '1', '--warmup', '1'],
    settings: '3 s windows after 1 s warm-up (docs: 5 s after 2 s); `socket` left out (not a ratio row)',
    rows: (json) =>
      roundsRows('handshakes', json, [
        ['server CPU per upgrade', 'µs', 'lower', 'serverCpuUsPerUpgrade'],
        ['upgrades per second', '/s', 'higher', 'upgradesPerSec'],
      ]),
  },
  {
    name: 'echo',
    section: 'Echo: messages per server CPU-second (with the large messages)',
    kinds: ['handle', 'ws', 'uws', 'bun'],
    full: ['--seconds', '3', '--warmup', '1'],
    quick: ['--seconds', '1', '--warmup', '1', '--big', '500', '--rate', '2000', '--big-connections', '2'],
    settings: 'all six scenarios, 3 s windows after 1 s warm-up (docs: 4 s after 2 s); `socket` left out',
    rows: (json) => {
      const j = json as {
        config: { scenarios: { name: string; describe: string }[] };
        summary: Record<string, Record<string, { msgsPerServerCpuSec: number }>>;
        rounds: (Sample & { scenario: string; msgsPerServerCpuSec: number })[];
      };
      return j.config.scenarios.map((sc) =>
        row(
          {
            table: 'echo',
            measure: `${sc.describe}: msgs per server CPU-s`,
            unit: 'msgs/CPU-s',
            better: 'higher',
            lightws: 'handle',
          },
          STANDARD,
          (kind) => j.summary[sc.name]?.[kind]?.msgsPerServerCpuSec,
          { samples: j.rounds.filter((r) => r.scenario === sc.name), value: (r) => r.msgsPerServerCpuSec },
        ),
      );
    },
  },
  {
    name: 'idle',
    section: 'Memory per idle connection, and one process as dense as a cluster worker',
    nodeArgs: ['--expose-gc'],
    kinds: ['handle', 'handle-young1', 'ws', 'uws', 'bun'],
    full: ['--connections', '19900', '--steps', '0,10000,15000,19900'],
    quick: ['--connections', '1000', '--steps', '0,500,1000', '--settle-ms', '200'],
    settings:
      'steps 0, 10k, 15k, 19.9k (docs: 0, 5k, 10k, … 17.5k; the slope is taken from 10k up either way); `socket` left out',
    rows: (json) =>
      (
        [
          ['handle', 'RSS per idle connection, outside (no GC)', 'rssNoGcPerConn'],
          ['handle-young1', 'RSS per idle connection, outside (no GC)', 'rssNoGcPerConn'],
          ['handle', 'RSS − young generation per idle connection', 'rssNoYoungPerConn'],
          ['handle', 'RSS per idle connection, whole range 0→top', 'rssPerConnAll'],
          ['handle-young1', 'RSS per idle connection, whole range 0→top', 'rssPerConnAll'],
        ] as const
      ).map(([lightws, measure, name]) =>
        row(
          { table: 'idle memory', measure, unit: 'B', better: 'lower', lightws },
          STANDARD,
          field((json as { summary: Summary }).summary, name),
        ),
      ),
  },
  {
    name: 'http',
    section: 'Plain HTTP beside 19,000 idle WebSockets',
    kinds: ['handle', 'ws', 'uws', 'bun'],
    full: ['--seconds', '2', '--warmup', '1', '--idle', '10000'],
    quick: ['--seconds', '1', '--warmup', '1', '--idle', '300'],
    settings:
      '10,000 idle WebSockets (docs: 19,000; they cost the HTTP path nothing visible there), 2 s windows after 1 s (~80k requests each); `socket` left out',
    rows: (json) =>
      roundsRows('HTTP beside idle', json, [
        ['server CPU per request', 'µs', 'lower', 'serverCpuUsPerRequest'],
        ['requests per second', '/s', 'higher', 'requestsPerSec'],
      ]),
  },
  {
    name: 'broadcast',
    section: 'Broadcast (with Bun)',
    kinds: ['handle', 'ws', 'uws', 'bun'],
    runs: false,
    full: ['--connections', '10000', '--sizes', '16,1024', '--broadcasts', '10', '--warmup', '2'],
    quick: ['--connections', '300', '--sizes', '16', '--broadcasts', '3', '--warmup', '1', '--processes', '1'],
    settings:
      '10,000 connections, 16 B and 1 KiB, median of 10 broadcasts after 2 (docs: 20 after 3, in three sittings)',
    rows: (json) =>
      sizedRows(
        'broadcast',
        json,
        [
          ['server CPU per broadcast', 'ms', 'lower', 'cpuMsPerBroadcast'],
          ['deliveries per second', '/s', 'higher', 'deliveriesPerSec'],
        ],
        STANDARD,
      ),
  },
  {
    name: 'chat',
    section: "A busy chat room (Bun's benchmark)",
    kinds: ['lightws-handle', 'ws', 'uws', 'bun'],
    full: ['--clients', '16,64', '--seconds', '4', '--warmup', '1'],
    quick: ['--clients', '4', '--seconds', '1', '--warmup', '1', '--lines', '100'],
    settings:
      '16 and 64 clients (docs: 16, 32, 64), 4 s windows after 1 s (docs: 8 s after 2 s): the window mean, not the client-quantized 1 s sample',
    rows: (json) => {
      const rows = (
        json as {
          rows: { kind: string; clients: number; run: number; windowPerSec: number; cpuUsPerDelivery: number }[];
        }
      ).rows;
      const clients = [...new Set(rows.map((r) => r.clients))];
      const median = (list: number[]): number | undefined =>
        list.length === 0 ? undefined : [...list].sort((a, b) => a - b)[list.length >> 1];
      return clients.flatMap((n) =>
        (
          [
            ['deliveries per second (window)', '/s', 'higher', 'windowPerSec'],
            ['server CPU per delivery', 'µs', 'lower', 'cpuUsPerDelivery'],
          ] as const
        ).map(([what, unit, better, name]) => {
          const mine = rows.filter((r) => r.clients === n);
          return row(
            { table: 'chat room', measure: `${n} clients: ${what}`, unit, better, lightws: 'lightws-handle' },
            STANDARD,
            (kind) => median(mine.filter((r) => r.kind === kind).map((r) => r[name])),
            { samples: mine, value: (r) => r[name] },
          );
        }),
      );
    },
  },
  {
    name: 'garbage',
    section: 'Garbage per message',
    nodeArgs: ['--expose-gc'],
    kinds: ['handle', 'ws', 'uws'],
    runs: false,
    full: [
      '--messages',
      '300000',
      '--sizes',
      '16,1024',
      '--warmup',
      '20000',
      '--broadcast-connections',
      '0',
      '--profile',
      '',
    ],
    quick: ['--messages', '5000', '--sizes', '16', '--warmup', '1000', '--broadcast-connections', '0', '--profile', ''],
    settings: '300k echoes per size (docs: 1M), 16 B and 1 KiB; no broadcast part, no allocation profile',
    notApplicable:
      'Bun: garbage is measured inside the server from V8 (GC profiler, heap statistics); Bun runs JavaScriptCore, which has no counterpart',
    rows: (json) =>
      sizedRows(
        'garbage',
        json,
        [
          ['V8 heap bytes allocated per echo', 'B', 'lower', 'heapBytesPerMsg'],
          ['server CPU per echo', 'µs', 'lower', 'cpuUsPerMsg'],
        ],
        { ws: 'ws', uws: 'uws' },
      ),
  },
  {
    name: 'deflate',
    section: 'permessage-deflate (echo of realistic JSON, broadcast to deflate connections)',
    // bench:deflate chooses its kinds itself (lightws shared and window, ws, uWS where it loads, Bun where found).
    full: ['--parts', 'echo,broadcast', '--sizes', '2048,16384', '--seconds', '2', '--warmup', '1'].concat([
      '--broadcast-connections',
      '5000',
      '--broadcasts',
      '10',
    ]),
    quick: ['--parts', 'echo,broadcast', '--sizes', '2048', '--seconds', '1', '--warmup', '1'].concat([
      '--broadcast-connections',
      '200',
      '--broadcasts',
      '2',
    ]),
    settings:
      'the echo and broadcast parts only (idle-with-deflate and the 10-minute churn are left out: ~6 and 10 min); echo of 2 KiB and 16 KiB JSON (200 B is left out: below its 1 KiB threshold lightws does not compress, so that row compares no deflate), 2 s windows after 1 s; 5,000 broadcast connections × 10 broadcasts (docs: 10,000 × 20)',
    rows: (json) => {
      const j = json as {
        echo?: {
          summary: Record<string, Record<string, { msgsPerServerCpuSec: number }>>;
          rounds: (Sample & { size: number; msgsPerServerCpuSec: number })[];
        };
        broadcast?: { summary: SizedRow[] };
      };
      const refs = { ws: 'ws-deflate', uws: 'uws-shared', bun: 'bun-deflate' };
      const echo = j.echo;
      const rows: Row[] = Object.keys(echo?.summary ?? {}).map((size) =>
        row(
          {
            table: 'deflate',
            measure: `echo ${size} B JSON: msgs per server CPU-s`,
            unit: 'msgs/CPU-s',
            better: 'higher',
            lightws: 'handle-shared',
          },
          refs,
          (kind) => echo!.summary[size]![kind]?.msgsPerServerCpuSec,
          { samples: echo!.rounds.filter((r) => String(r.size) === size), value: (r) => r.msgsPerServerCpuSec },
        ),
      );
      if (j.broadcast !== undefined)
        rows.push(
          ...sizedRows(
            'deflate broadcast (JSON)',
            j.broadcast,
            [['server CPU per broadcast', 'ms', 'lower', 'cpuMsPerBroadcast']],
            refs,
            'handle-shared',
          ),
        );
      return rows;
    },
  },
  {
    name: 'idle-tls',
    section: 'wss://: idle memory, handshake and echo CPU',
    kinds: ['tls', 'compact', 'ws', 'uws', 'bun'],
    full: ['--steps', '1000,2000', '--settle-ms', '1500', '--cpu', '--echo-messages', '3000'],
    quick: ['--steps', '100,200', '--settle-ms', '200', '--cpu', '--echo-messages', '100'],
    settings:
      'idle slope between 1,000 and 2,000 connections, 1.5 s settle, 3,000 echoes per connection (docs: 3,000 → 6,000, 3 s, 10,000)',
    rows: (json) => {
      const j = json as { summary: Summary; runs?: { cpu?: Record<string, { upgrade: number[]; echo: number[] }> } };
      const cpu = j.runs?.cpu;
      const pick = (what: 'upgrade' | 'echo'): Record<string, number[]> =>
        Object.fromEntries(Object.entries(cpu ?? {}).map(([k, v]) => [k, v[what]]));
      return ['tls', 'compact'].flatMap((lightws) => [
        row(
          {
            table: 'wss://',
            measure: `${lightws}: RSS per idle connection (no GC)`,
            unit: 'B',
            better: 'lower',
            lightws,
          },
          STANDARD,
          field(j.summary, 'rssPerConnection'),
        ),
        row(
          { table: 'wss://', measure: `${lightws}: server CPU per upgrade`, unit: 'µs', better: 'lower', lightws },
          STANDARD,
          field(j.summary, 'cpuUsPerUpgrade'),
          { samples: fromArrays(pick('upgrade')), value: (r) => r.v },
        ),
        row(
          {
            table: 'wss://',
            measure: `${lightws}: echoes per server CPU-s`,
            unit: 'msgs/CPU-s',
            better: 'higher',
            lightws,
          },
          STANDARD,
          field(j.summary, 'echoesPerCpuSecond'),
          { samples: fromArrays(pick('echo')), value: (r) => r.v },
        ),
      ]);
    },
  },
];
