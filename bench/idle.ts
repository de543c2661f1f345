/**
 * Memory per idle, handshaken WebSocket connection: lightws (raw handles),
 * lightws (net sockets), ws, uWebSockets.js (native, Node 20) and Bun (run by Bun itself), in the same run.
 * The kind handle-young1 is lightws (raw handles) with limitYoungGeneration(), what `lightws echo` runs.
 *
 *   npm run bench:idle -- [--connections 19900] [--runs 3] [--steps 0,5000,10000,...]
 *                         [--in-flight 256] [--settle-ms 1000] [--kinds handle,socket,ws,uws,bun] [--snapshot]
 *                         [--bun PATH]
 *
 * Each measurement is a fresh server process (servers/idle-server.ts) and a fresh
 * load process (load/idle-clients.ts): the server's RSS holds nothing but the
 * server. Connections ramp in steps; at each step the server is GC'd and
 * measured. Per-connection cost is the least-squares slope of bytes against
 * connections over the steps >= 10k (one-time costs such as the read slab and
 * code cancel out), medians over --runs. Kinds are interleaved run by run so
 * that noise from the shared machine hits them alike. --snapshot adds one
 * unmeasured round per kind with heap snapshots at 10k and the top, diffed
 * into a per-connection object breakdown. --idle-wait-ms W measures the top
 * once more after W ms of idling (V8's memory reducer gives back the heap
 * pages the ramp's garbage grew, ~20 s in). Results: bench/out/idle.json (--publish:
 * bench/results/, see lib/results.ts).
 */
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { formatRatio, printTable } from './lib/format.js';
import { BUN_CACHE, findBun, isBunKind } from './lib/bun.js';
import { kernel, type Kernel } from './lib/proc.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { medians, slope } from './lib/stats.js';
import { bar, die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { BreakdownRow, ServerCommand, ServerKind, ServerReport, ServerSample } from './servers/idle-server.js';
import type { ClientCommand, ClientReport } from './load/idle-clients.js';
import { sourceBlock } from './load/sources.js';
import { loadUws } from './servers/uws.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    connections: { type: 'string', default: '19900' },
    runs: { type: 'string', default: '3' },
    steps: { type: 'string' },
    'in-flight': { type: 'string', default: '256' },
    'settle-ms': { type: 'string', default: '1000' },
    kinds: { type: 'string', default: 'handle,socket,ws,uws,bun' },
    snapshot: { type: 'boolean', default: false },
    'idle-wait-ms': { type: 'string', default: '0' },
    // bench:deflate: every client offers permessage-deflate as a browser does, so the *-deflate kinds negotiate it.
    'offer-deflate': { type: 'boolean', default: false },
    bun: { type: 'string' },
  },
});
const N = Number(args.connections);
const RUNS = Number(args.runs);
const BUN = findBun(args.bun);
if (BUN === undefined && args.kinds.split(',').some(isBunKind))
  process.stderr.write(`Bun SKIPPED: not found (--bun, $BUN, or ${BUN_CACHE})\n`);
// uWS's native build loads on Node 20 only; elsewhere its row is left out rather than measuring its JS fallback.
const UWS = !args.kinds.split(',').some((k) => k.startsWith('uws')) || loadUws().native;
if (!UWS) process.stderr.write('uWS SKIPPED: its native binary did not load on this Node\n');
const KINDS = args.kinds
  .split(',')
  .filter((k) => (!isBunKind(k) || BUN !== undefined) && (!k.startsWith('uws') || UWS)) as ServerKind[];
// One process cannot hold more: 20,000 open files each, minus Node's own and the IPC channel.
if (!(N > 0 && N <= 19_900)) throw new RangeError('--connections must be 1..19900 (20,000 open files per process)');
const STEPS = [
  ...new Set(
    (args.steps ?? `0,5000,10000,12500,15000,17500`)
      .split(',')
      .map(Number)
      .filter((s) => s >= 0 && s < N),
  ),
  N,
].sort((a, b) => a - b);
/** The slope the issue asks for starts at ~10k; smaller runs use their upper half. */
const SLOPE_FROM = STEPS.find((s) => s >= Math.min(10_000, N / 2))!;
// Explicit source ports (see load/raw-client.ts), up to 64k per address, from a fresh block per
// round (load/sources.ts): the previous round's TIME_WAITs hold their ports for 60 s.
const PER_SOURCE = 20_000;
const IDLE_WAIT_MS = Number(args['idle-wait-ms']);

interface Point extends ServerSample {
  connections: number;
  kernel: Kernel;
}
interface Round {
  kind: ServerKind;
  run: number;
  points: Point[];
  /** Bytes per connection: slope over steps >= SLOPE_FROM, and over all steps. */
  rssPerConn: number;
  /** The same slope of RSS read before the forced GCs: the figure from outside. */
  rssNoGcPerConn: number;
  heapPerConn: number;
  externalPerConn: number;
  /** Slope of RSS without V8's young generation (the ramp's scratch space, see ServerSample.rssYoung). */
  rssNoYoungPerConn: number;
  /** Slope of the main thread's malloc RSS (brk heap): the native part. */
  mallocPerConn: number;
  /** (RSS at the top after --idle-wait-ms − RSS empty) / N: whole range, one-time costs included. */
  rssPerConnAfterIdle: number;
  afterIdle: ServerSample | null;
  rssPerConnAll: number;
  heapPerConnAll: number;
  gcMsTop: number;
  gcMsEmpty: number;
  /** Kernel memory per connection, top minus empty, both ends of each loopback connection included. */
  kernelSlabPerConn: number;
  kernelUnreclaimablePerConn: number;
  tcpMemPerConn: number;
  socketsPerConn: number;
  handshakesPerSec: number;
  verified: {
    serverCount: number;
    clientsOpen: number;
    closedByPeer: number;
    failed: number;
    unexpectedBytes: number;
    lentBuffers: number | null;
    handshaking: number | null;
    ok: boolean;
  };
  shutdown: { closed: number; terminated: number; ms: number } | null;
  breakdown?: { rows: BreakdownRow[]; heapBytesPerConn: number; nativeBytesPerConn: number };
}

async function round(kind: ServerKind, run: number, index: number, snapshot: boolean): Promise<Round> {
  const label = `${kind.padEnd(6)} ${snapshot ? 'snapshot' : `run ${run}/${RUNS}`}`;
  const server = new IpcChild<ServerCommand, ServerReport>(
    `server ${kind}`,
    join(here, 'servers', 'idle-server.js'),
    ['--kind', kind],
    // Bun runs its own kind (idle-server.ts serves it with Bun.serve and collects with Bun.gc).
    isBunKind(kind) ? { execPath: BUN! } : { execArgv: ['--expose-gc'] },
  );
  let clients: IpcChild<ClientCommand, ClientReport> | undefined;
  const points: Point[] = [];
  const snaps: string[] = [];
  let rampMs = 0,
    rampOpened = 0,
    open = 0;
  let last: Extract<ClientReport, { type: 'ramped' }> | undefined;
  let shutdown: Round['shutdown'] = null;
  let breakdown: Round['breakdown'];
  let afterIdle: ServerSample | null = null;
  try {
    const { port } = await server.next('ready', 15_000);
    const sources = Array.from({ length: Math.ceil(N / PER_SOURCE) }, (_, i) => `${sourceBlock(index)}.${1 + i}`);
    clients = new IpcChild<ClientCommand, ClientReport>('load generator', join(here, 'load', 'idle-clients.js'), [
      '--port',
      String(port),
      '--sources',
      sources.join(','),
      '--per-source',
      String(PER_SOURCE),
      '--in-flight',
      args['in-flight'],
      ...(args['offer-deflate'] ? ['--extensions', 'permessage-deflate; client_max_window_bits'] : []),
    ]);
    let stepT0 = 0;
    clients.onEach('progress', (r) => {
      const rate = (r.open - open) / ((performance.now() - stepT0) / 1000);
      status(
        `${label} ${bar(r.open, N)} ${r.open}/${N} open, ${r.inFlight} in flight, ${r.failed} failed, ${rate.toFixed(0)}/s`,
        false,
      );
    });
    await clients.next('ready', 15_000);
    for (const step of STEPS) {
      if (step > open) {
        stepT0 = performance.now();
        last = await clients.ask({ type: 'ramp', to: step }, 'ramped', 120_000);
        if (last.failed > 0)
          status(`${label}: ${last.failed} connections failed: ${JSON.stringify(last.errors)}`, true);
        rampMs += last.elapsedMs;
        rampOpened += last.opened;
        open = last.open;
      }
      status(`${label} ${bar(open, N)} ${open}/${N} open: measuring`, false);
      const m = await server.ask(
        { type: 'measure', expect: step, settleMs: Number(args['settle-ms']), waitMs: 30_000, gcSamples: 5 },
        'measured',
        90_000,
      );
      const { type: _, ...sample } = m;
      points.push({ connections: step, ...sample, kernel: kernel() });
      status(
        `${label} ${String(step).padStart(6)} conns: server counts ${m.count}, rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, gc ${m.gcMs.toFixed(1)} ms`,
        true,
      );
      if (snapshot && (step === SLOPE_FROM || step === N) && SLOPE_FROM < N) {
        snaps.push((await server.ask({ type: 'snapshot' }, 'snapshotted', 180_000)).file);
      }
    }
    if (IDLE_WAIT_MS > 0) {
      status(`${label}: idling ${IDLE_WAIT_MS} ms`, false);
      await sleep(IDLE_WAIT_MS);
      const { type: _, ...sample } = await server.ask(
        { type: 'measure', expect: N, settleMs: 0, waitMs: 1000, gcSamples: 5 },
        'measured',
        90_000,
      );
      afterIdle = sample;
    }
    if (snaps.length === 2) {
      const { type: _, ...b } = await server.ask(
        { type: 'breakdown', before: snaps[0]!, after: snaps[1]!, connections: N - SLOPE_FROM },
        'breakdown',
        300_000,
      );
      breakdown = b;
    }
  } finally {
    // Graceful: the server sends Close to everyone, the clients answer by closing; bounded throughout.
    const closed = await server.ask({ type: 'close', timeoutMs: 2000 }, 'closed', 15_000).catch(() => null);
    if (closed !== null) shutdown = { closed: closed.closed, terminated: closed.terminated, ms: closed.ms };
    await clients?.ask({ type: 'quit' }, 'quitted', 15_000).catch(() => null);
    await Promise.all([server.stop(5000), clients?.stop(5000)]);
  }
  const top = points.at(-1)!,
    empty = points[0]!;
  const fit = (from: number, y: (p: Point) => number): number =>
    slope(points.filter((p) => p.connections >= from).map((p) => ({ x: p.connections, y: y(p) })));
  const perConn = (bytes: number): number => bytes / (top.connections - empty.connections);
  const verified = {
    serverCount: top.count,
    clientsOpen: last?.open ?? 0,
    closedByPeer: last?.closedByPeer ?? 0,
    failed: last?.failed ?? 0,
    unexpectedBytes: last?.unexpectedBytes ?? 0,
    lentBuffers: top.lentBuffers,
    handshaking: top.handshaking,
    ok: false,
  };
  verified.ok =
    verified.serverCount === N &&
    verified.clientsOpen === N &&
    verified.closedByPeer === 0 &&
    verified.unexpectedBytes === 0 &&
    (top.lentBuffers ?? 0) === 0 &&
    (top.handshaking ?? 0) === 0;
  return {
    kind,
    run,
    points,
    mallocPerConn: fit(SLOPE_FROM, (p) => p.rssMalloc),
    afterIdle,
    rssNoYoungPerConn: fit(SLOPE_FROM, (p) => p.rss - p.rssYoung),
    rssPerConnAfterIdle: afterIdle === null ? NaN : perConn(afterIdle.rss - empty.rss),
    rssPerConn: fit(SLOPE_FROM, (p) => p.rss),
    rssNoGcPerConn: fit(SLOPE_FROM, (p) => p.rssNoGc),
    heapPerConn: fit(SLOPE_FROM, (p) => p.heapUsed),
    externalPerConn: fit(SLOPE_FROM, (p) => p.external),
    rssPerConnAll: fit(0, (p) => p.rss),
    heapPerConnAll: fit(0, (p) => p.heapUsed),
    gcMsTop: top.gcMs,
    gcMsEmpty: empty.gcMs,
    kernelSlabPerConn: perConn(top.kernel.slab - empty.kernel.slab),
    kernelUnreclaimablePerConn: perConn(top.kernel.sUnreclaim - empty.kernel.sUnreclaim),
    tcpMemPerConn: perConn(top.kernel.tcpMem - empty.kernel.tcpMem),
    socketsPerConn: perConn(top.kernel.sockets - empty.kernel.sockets),
    handshakesPerSec: rampOpened / (rampMs / 1000),
    verified,
    shutdown,
    ...(breakdown === undefined ? {} : { breakdown }),
  };
}

const MEDIAN_FIELDS = [
  'rssPerConn',
  'rssNoGcPerConn',
  'rssNoYoungPerConn',
  'heapPerConn',
  'externalPerConn',
  'mallocPerConn',
  'rssPerConnAfterIdle',
  'rssPerConnAll',
  'heapPerConnAll',
  'gcMsTop',
  'gcMsEmpty',
  'kernelSlabPerConn',
  'kernelUnreclaimablePerConn',
  'tcpMemPerConn',
  'socketsPerConn',
  'handshakesPerSec',
] as const;
type Summary = Record<(typeof MEDIAN_FIELDS)[number], number>;

async function main(): Promise<void> {
  const started = Date.now();
  const rounds: Round[] = [];
  let index = 0;
  for (let run = 1; run <= RUNS; run++) for (const kind of KINDS) rounds.push(await round(kind, run, index++, false));
  const breakdowns: Partial<Record<ServerKind, Round['breakdown']>> = {};
  if (args.snapshot) for (const kind of KINDS) breakdowns[kind] = (await round(kind, 0, index++, true)).breakdown;

  const summary = {} as Record<ServerKind, Summary>;
  for (const kind of KINDS) {
    const mine = rounds.filter((r) => r.kind === kind);
    summary[kind] = medians(mine, MEDIAN_FIELDS);
  }
  const wsSummary = summary.ws as Summary | undefined;
  const b = (x: number): string => x.toFixed(0);
  console.log(
    `\nIdle connections: ${N} per server, ${RUNS} runs, medians. Per-connection = slope of bytes vs connections over steps ${STEPS.filter((s) => s >= SLOPE_FROM).join(', ')}.`,
  );
  console.log(
    "RSS all-range: slope over every step. RSS−young: RSS without V8's young generation, which the ramp grows and V8 shrinks only",
  );
  console.log('after ~20 s idle. heap: V8 heapUsed. malloc: main-arena malloc RSS (native objects), part of RSS.');
  console.log('RSS no GC: the same slope, RSS read before the forced GCs (what `ps` shows from outside).');
  console.log(
    `Kernel: slab (SUnreclaim) growth / connections, both ends of each loopback connection; not in RSS.${IDLE_WAIT_MS > 0 ? ` RSS after idle: (top after ${IDLE_WAIT_MS} ms idle − empty) / N.` : ''}\n`,
  );
  printTable(
    [
      'kind',
      'RSS B/conn',
      'RSS no GC',
      'RSS all-range',
      'RSS−young',
      ...(IDLE_WAIT_MS > 0 ? ['RSS after idle'] : []),
      'heap B/conn',
      'malloc B/conn',
      'GC ms @top',
      'kernel B/conn',
      'handshakes/s',
      'ws÷ RSS',
      'ws÷ heap',
    ],
    KINDS.map((kind) => {
      const s = summary[kind];
      return [
        kind,
        b(s.rssPerConn),
        b(s.rssNoGcPerConn),
        b(s.rssPerConnAll),
        b(s.rssNoYoungPerConn),
        ...(IDLE_WAIT_MS > 0 ? [b(s.rssPerConnAfterIdle)] : []),
        b(s.heapPerConn),
        b(s.mallocPerConn),
        s.gcMsTop.toFixed(2),
        `${b(s.kernelSlabPerConn)} (${b(s.kernelUnreclaimablePerConn)})`,
        b(s.handshakesPerSec),
        wsSummary ? formatRatio(wsSummary.rssPerConn / s.rssPerConn) : '-',
        wsSummary ? formatRatio(wsSummary.heapPerConn / s.heapPerConn) : '-',
      ];
    }),
  );
  console.log('\nAt the top of each round:');
  for (const r of rounds) {
    const v = r.verified;
    console.log(
      `  ${r.kind.padEnd(6)} run ${r.run}: server counts ${v.serverCount}/${N}, clients hold ${v.clientsOpen}, closed by server ${v.closedByPeer}, ` +
        `failed ${v.failed}` +
        (v.lentBuffers === null ? '' : `, pool lentBuffers ${v.lentBuffers}, handshaking ${v.handshaking}`) +
        ` -> ${v.ok ? 'OK' : 'FAILED'}; shutdown ${r.shutdown ? `${r.shutdown.closed} closed, ${r.shutdown.terminated} terminated in ${r.shutdown.ms.toFixed(0)} ms` : 'timed out'}`,
    );
  }
  for (const [kind, bd] of Object.entries(breakdowns)) {
    if (bd === undefined) continue;
    console.log(
      `\nPer connection, ${kind} (heap snapshot diff ${SLOPE_FROM}→${N}): JS heap ${bd.heapBytesPerConn.toFixed(0)} B, native objects Node reports ${bd.nativeBytesPerConn.toFixed(0)} B`,
    );
    printTable(
      ['object', 'count/conn', 'B/conn'],
      bd.rows.slice(0, 15).map((r) => [r.what, r.countPerConn.toFixed(2), r.bytesPerConn.toFixed(1)]),
    );
  }
  const written = writeResults(
    'idle',
    {
      totalMemBytes: totalmem(),
      config: {
        connections: N,
        runs: RUNS,
        steps: STEPS,
        slopeFrom: SLOPE_FROM,
        inFlight: Number(args['in-flight']),
        settleMs: Number(args['settle-ms']),
        kinds: KINDS,
        ws: packageVersion('ws'),
      },
      unit: 'bytes per connection (slopes), ms, connections/s; medians over runs',
      summary,
      ratios: wsSummary
        ? Object.fromEntries(
            KINDS.filter((k) => k !== 'ws').map((k) => [
              k,
              {
                rss: wsSummary.rssPerConn / summary[k].rssPerConn,
                heap: wsSummary.heapPerConn / summary[k].heapPerConn,
              },
            ]),
          )
        : {},
      allVerified: rounds.every((r) => r.verified.ok),
      breakdowns,
      rounds,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(
    `\n${rounds.every((r) => r.verified.ok) ? 'All rounds verified.' : 'SOME ROUNDS FAILED VERIFICATION.'} ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`,
  );
  if (!rounds.every((r) => r.verified.ok)) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:idle failed', error));
