/**
 * WebSocket upgrades per second to saturation, and server CPU per upgrade: lightws (raw
 * handles), lightws (net sockets), ws and uWebSockets.js, each its own server process, on the
 * same load, in the same run.
 *
 *   npm run bench:handshake -- [--runs 3] [--seconds 5] [--warmup 2] [--load 2] [--in-flight 64]
 *                              [--kinds handle,socket,ws,uws,bun] [--server-node-args=--cpu-prof,...]
 *
 * --load processes (load/handshake-clients.ts, lightws's client role) each keep --in-flight
 * upgrades going: connect, upgrade, 101 validated, terminate, next. Each round is a fresh server
 * and fresh load processes: --warmup s, then a measured window of --seconds s. Servers are
 * interleaved round by round (order rotated each run), medians over --runs reported.
 *
 * Server and load share the machine's 2 cores (and other people's work): upgrades/s is a bound
 * set by the whole machine; server CPU per upgrade (the server's user+system CPU over the
 * window ÷ upgrades the load completed in it) is the fair comparison. Load CPU is reported too.
 * Results: bench/out/handshake.json (--publish: bench/results/, see lib/results.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { formatRatio, printTable } from './lib/format.js';
import { histPercentile } from './lib/histogram.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { medians, pairedRatio } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { sourceBlock } from './load/sources.js';
import { interleaved, loadAverageLine, ROUND_OPTIONS, roundsConfig, runRound } from './load/window.js';
import { SERVERS } from './servers/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    ...ROUND_OPTIONS,
    seconds: { type: 'string', default: '5' },
    'in-flight': { type: 'string', default: '64' },
  },
});
const { runs: RUNS, seconds: SECONDS, warmup: WARMUP, loads: K, nodeArgs, ...config } = roundsConfig(args);
const IN_FLIGHT = Number(args['in-flight']);

interface Round {
  kind: string;
  run: number;
  upgradesPerSec: number;
  p50ms: number;
  p99ms: number;
  serverCpuSec: number;
  serverCpuUsPerUpgrade: number;
  serverCores: number;
  loadCpuSec: number;
  loadCores: number;
  loadCpuUsPerUpgrade: number;
  windowSec: number;
  /** Kernel (system) share of server and load CPU; the machine's 1-min load average at the window's end. */
  serverSysShare: number;
  loadSysShare: number;
  loadAvg1: number;
  failed: number;
  retries: number;
  errors: Record<string, number>;
  ok: boolean;
}

async function round(kind: string, run: number, index: number): Promise<Round> {
  const label = `${SERVERS[kind]!.label} run ${run}/${RUNS}`;
  const w = await runRound({
    kind,
    label,
    nodeArgs,
    script: join(here, 'load', 'handshake-clients.js'),
    loads: K,
    argv: (port, i) => [
      '--port',
      String(port),
      '--source',
      sourceBlock(index * K + i),
      '--in-flight',
      String(IN_FLIGHT),
    ],
    warmupSec: WARMUP,
    seconds: SECONDS,
  });
  const errors: Record<string, number> = {};
  for (const s of w.stopped) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  const failed = w.stopped.reduce((a, s) => a + (s.extra['failed'] ?? 0), 0);
  const upgradesPerSec = w.perSec;
  const r: Round = {
    kind,
    run,
    upgradesPerSec,
    p50ms: histPercentile(w.hist, 50) / 1000,
    p99ms: histPercentile(w.hist, 99) / 1000,
    serverCpuSec: w.serverCpuSec,
    serverCpuUsPerUpgrade: (w.serverCores * 1e6) / upgradesPerSec,
    serverCores: w.serverCores,
    loadCpuSec: w.loadCpuSec,
    loadCores: w.loadCores,
    loadCpuUsPerUpgrade: (w.loadCores * 1e6) / upgradesPerSec,
    windowSec: w.windowSec,
    serverSysShare: w.serverSysShare,
    loadSysShare: w.loadSysShare,
    loadAvg1: w.loadAvg1,
    failed,
    retries: w.stopped.reduce((a, s) => a + (s.extra['retries'] ?? 0), 0),
    errors,
    ok: failed === 0 && upgradesPerSec > 0,
  };
  status(
    `${label}: ${r.upgradesPerSec.toFixed(0)} upgrades/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ` +
      `server ${r.serverCpuUsPerUpgrade.toFixed(1)} µs CPU/upgrade (${r.serverCores.toFixed(2)} cores), load ${r.loadCores.toFixed(2)} cores` +
      (r.ok ? '' : `, ${failed} FAILED ${JSON.stringify(errors)}`),
    true,
  );
  return r;
}

const FIELDS = [
  'upgradesPerSec',
  'p50ms',
  'p99ms',
  'serverCpuSec',
  'serverCpuUsPerUpgrade',
  'serverCores',
  'loadCpuSec',
  'loadCores',
  'loadCpuUsPerUpgrade',
  'serverSysShare',
  'loadSysShare',
] as const;
type Summary = Record<(typeof FIELDS)[number], number>;

async function main(): Promise<void> {
  const started = Date.now();
  const { kinds, uws, rounds } = await interleaved(config.kinds, RUNS, [null], (_, kind, run, index) =>
    round(kind, run, index),
  );
  const summary: Record<string, Summary> = {};
  for (const kind of kinds) {
    const mine = rounds.filter((r) => r.kind === kind);
    summary[kind] = medians(mine, FIELDS);
  }
  // Paired run by run (see pairedRatio); CPU per upgrade inverted so that >1 always means better.
  const ratios = (k: string): { cpuVsWs: number; cpuVsUws: number; upgradesPerSecVsWs: number } => ({
    cpuVsWs: 1 / pairedRatio(rounds, k, 'ws', (r) => r.serverCpuUsPerUpgrade),
    cpuVsUws: 1 / pairedRatio(rounds, k, 'uws', (r) => r.serverCpuUsPerUpgrade),
    upgradesPerSecVsWs: pairedRatio(rounds, k, 'ws', (r) => r.upgradesPerSec),
  });
  console.log(
    `\nUpgrades to saturation: ${K} load processes × ${IN_FLIGHT} in flight, connect → 101 → terminate; ${RUNS} runs × ${SECONDS} s (after ${WARMUP} s warm-up), medians.`,
  );
  console.log(
    'Server µs/upgrade = server CPU (user+sys) ÷ upgrades: the fair headline (server and load share 2 cores, so upgrades/s is a machine bound).',
  );
  console.log(
    `×ws, ×uWS: server CPU per upgrade of ws / uWS.js ÷ this server's, in the same run, median over runs (>1 = cheaper). ${uws?.note ?? 'uWS.js not requested.'}`,
  );
  console.log(`${loadAverageLine(rounds)}\n`);
  printTable(
    [
      'server',
      'upgrades/s',
      'p50 ms',
      'p99 ms',
      'srv CPU s (cores)',
      'srv µs/upgrade',
      '×ws',
      '×uWS',
      'upgrades/s ×ws',
      'load CPU s (cores)',
      'load µs/upgrade',
      'sys% srv/load',
    ],
    kinds.map((kind) => {
      const s = summary[kind]!;
      const x = ratios(kind);
      return [
        SERVERS[kind]!.label,
        s.upgradesPerSec.toFixed(0),
        s.p50ms.toFixed(2),
        s.p99ms.toFixed(2),
        `${s.serverCpuSec.toFixed(2)} (${s.serverCores.toFixed(2)})`,
        s.serverCpuUsPerUpgrade.toFixed(1),
        formatRatio(x.cpuVsWs),
        formatRatio(x.cpuVsUws),
        formatRatio(x.upgradesPerSecVsWs),
        `${s.loadCpuSec.toFixed(2)} (${s.loadCores.toFixed(2)})`,
        s.loadCpuUsPerUpgrade.toFixed(1),
        `${(100 * s.serverSysShare).toFixed(0)}/${(100 * s.loadSysShare).toFixed(0)}`,
      ];
    }),
  );
  const bad = rounds.filter((r) => !r.ok);
  for (const r of bad) console.log(`  ${r.kind} run ${r.run}: ${r.failed} upgrades failed ${JSON.stringify(r.errors)}`);
  const written = writeResults(
    'handshake',
    {
      config: {
        runs: RUNS,
        seconds: SECONDS,
        warmup: WARMUP,
        loadProcesses: K,
        inFlightPerProcess: IN_FLIGHT,
        kinds,
        serverNodeArgs: nodeArgs,
        end: 'terminate right after the 101',
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      },
      uws,
      unit: 'upgrades/s; ms (connect → open, client side); CPU seconds over the measured window; server CPU µs per upgrade; medians over runs; ratios paired run by run, then median (>1 = better)',
      summary,
      ratios: Object.fromEntries(kinds.map((k) => [k, ratios(k)])),
      allOk: bad.length === 0,
      rounds,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(
    `\n${bad.length === 0 ? 'No failed upgrades' : `${bad.length} ROUNDS HAD FAILED UPGRADES`}; ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`,
  );
  if (bad.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:handshake failed', error));
