/**
 * Echo throughput, latency and server CPU: lightws (raw handles), lightws (net sockets), ws and
 * uWebSockets.js, each its own server process, on the same load, in the same run.
 *
 *   npm run bench:echo -- [--runs 3] [--seconds 4] [--warmup 2] [--load 2] [--rate 20000]
 *                         [--window 10] [--big 10000] [--big-window 2]
 *                         [--kinds handle,socket,ws,uws,bun] [--scenarios rate100,flat100,flat10k,big64k,big1m,big16m]
 *                         (more kinds in servers/launch.ts: handle-young1 is lightws with the CLI's young generation)
 *                         [--big-connections 8]
 *                         [--server-node-args=--cpu-prof,--cpu-prof-dir=/tmp/prof]
 *
 * Scenarios, all with the classic 22-byte text message `hello world!!13212312!`:
 *   rate100  100 connections, a fixed offered rate (--rate msgs/s in total): latency and CPU at a
 *            load every server carries
 *   flat100  100 connections flat out, --window messages in flight on each (pipelining)
 *   flat10k  --big connections flat out, --big-window in flight on each
 * and large binary messages, each connection flat out with one in flight (where copying a
 * payload, or not, shows):
 *   big64k   --big-connections connections, 64 KiB messages
 *   big1m    --big-connections connections, 1 MiB messages
 *   big16m   2 connections, 16 MiB messages (lightws's and the servers' maxMessageSize)
 *
 * The load is lightws's own client role (masked frames) in --load processes
 * (load/echo-clients.ts), connections split between them. Each round is a
 * fresh server and fresh load processes: connect, start, --warmup s, then a
 * measured window of --seconds s. Servers are interleaved round by round
 * (A B C D, the order rotated each run) and medians over --runs reported, so
 * that noise from the shared machine hits them alike.
 *
 * The machine has 2 cores for server AND load (and other people's work), so
 * flat-out msgs/s is a bound set by the whole machine, not by the server
 * alone: the fair headline is messages per server CPU-second (echoes counted
 * by the load over the window ÷ the server process's user+system CPU in that
 * window, read from /proc: load/window.ts). Load-process CPU is reported beside it.
 * Results: bench/out/echo.json (--publish: bench/results/, see lib/results.ts).
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
    seconds: { type: 'string', default: '4' },
    rate: { type: 'string', default: '20000' },
    window: { type: 'string', default: '10' },
    big: { type: 'string', default: '10000' },
    'big-window': { type: 'string', default: '2' },
    'big-connections': { type: 'string', default: '8' },
    scenarios: { type: 'string', default: 'rate100,flat100,flat10k,big64k,big1m,big16m' },
  },
});
const { runs: RUNS, seconds: SECONDS, warmup: WARMUP, loads: K, nodeArgs, ...config } = roundsConfig(args);

interface Scenario {
  name: string;
  connections: number;
  mode: 'rate' | 'flat';
  rate: number;
  window: number;
  describe: string;
  /** Bytes of a binary message; 0 for the 22-byte text message. */
  payloadBytes: number;
}
const BIGC = Number(args['big-connections']);
const SCENARIOS: Record<string, Scenario> = {
  rate100: {
    name: 'rate100',
    connections: 100,
    mode: 'rate',
    rate: Number(args.rate),
    window: 0,
    describe: `100 conns, ${args.rate} msgs/s offered`,
    payloadBytes: 0,
  },
  flat100: {
    name: 'flat100',
    connections: 100,
    mode: 'flat',
    rate: 0,
    window: Number(args.window),
    describe: `100 conns flat out, window ${args.window}`,
    payloadBytes: 0,
  },
  flat10k: {
    name: 'flat10k',
    connections: Number(args.big),
    mode: 'flat',
    rate: 0,
    window: Number(args['big-window']),
    describe: `${args.big} conns flat out, window ${args['big-window']}`,
    payloadBytes: 0,
  },
  big64k: {
    name: 'big64k',
    connections: BIGC,
    mode: 'flat',
    rate: 0,
    window: 1,
    describe: `${BIGC} conns, 64 KiB binary, window 1`,
    payloadBytes: 64 * 1024,
  },
  big1m: {
    name: 'big1m',
    connections: BIGC,
    mode: 'flat',
    rate: 0,
    window: 1,
    describe: `${BIGC} conns, 1 MiB binary, window 1`,
    payloadBytes: 1024 * 1024,
  },
  big16m: {
    name: 'big16m',
    connections: 2,
    mode: 'flat',
    rate: 0,
    window: 1,
    describe: '2 conns, 16 MiB binary, window 1',
    payloadBytes: 16 * 1024 * 1024,
  },
};
const scenarios = args.scenarios.split(',').map(
  (s) =>
    SCENARIOS[s] ??
    (() => {
      throw new RangeError(`unknown scenario ${s}`);
    })(),
);
if (scenarios.some((s) => s.connections / K > 19_000))
  throw new RangeError('more than 19,000 connections per load process (20,000 open files each): raise --load');

interface Round {
  scenario: string;
  kind: string;
  run: number;
  msgsPerSec: number;
  p50us: number;
  p99us: number;
  serverCpuSec: number;
  msgsPerServerCpuSec: number;
  serverCores: number;
  loadCpuSec: number;
  loadCores: number;
  windowSec: number;
  /** Kernel (system) share of server and load CPU; the machine's 1-min load average at the window's end. */
  serverSysShare: number;
  loadSysShare: number;
  loadAvg1: number;
  offered: number;
  skipped: number;
  /** Phases: spawn to ready, connecting, stop to both gone. */
  setupMs: number;
  connectMs: number;
  teardownMs: number;
  verified: {
    serverConnections: number;
    open: number;
    failed: number;
    closedEarly: number;
    unexpected: number;
    badLength: number;
    ok: boolean;
  };
  errors: Record<string, number>;
}

async function round(sc: Scenario, kind: string, run: number, index: number): Promise<Round> {
  const label = `${sc.name} ${SERVERS[kind]!.label} run ${run}/${RUNS}`;
  const share = (i: number): number => Math.floor(sc.connections / K) + (i < sc.connections % K ? 1 : 0);
  const w = await runRound({
    kind,
    label,
    nodeArgs,
    script: join(here, 'load', 'echo-clients.js'),
    loads: K,
    connections: sc.connections,
    argv: (port, i) => [
      '--port',
      String(port),
      '--connections',
      String(share(i)),
      '--source',
      sourceBlock(index * K + i),
      '--mode',
      sc.mode,
      '--rate',
      String((sc.rate * share(i)) / sc.connections),
      '--window',
      String(sc.window),
      ...(sc.payloadBytes > 0 ? ['--payload-bytes', String(sc.payloadBytes)] : []),
    ],
    warmupSec: WARMUP,
    seconds: SECONDS,
    statsAtMark: true,
  });
  const errors: Record<string, number> = {};
  for (const c of w.connected) for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
  const sum = (key: string): number => w.stopped.reduce((acc, r) => acc + (r.extra[key] ?? 0), 0);
  const verified = {
    serverConnections: w.atMark?.connections ?? 0,
    open: w.connected.reduce((a, c) => a + c.open, 0),
    failed: w.connected.reduce((a, c) => a + c.failed, 0),
    closedEarly: sum('closedEarly'),
    unexpected: sum('unexpected'),
    badLength: sum('badLength'),
    ok: false,
  };
  verified.ok =
    verified.serverConnections === sc.connections &&
    verified.open === sc.connections &&
    verified.failed === 0 &&
    verified.closedEarly === 0 &&
    verified.unexpected === 0 &&
    verified.badLength === 0;
  const r: Round = {
    scenario: sc.name,
    kind,
    run,
    msgsPerSec: w.perSec,
    p50us: histPercentile(w.hist, 50),
    p99us: histPercentile(w.hist, 99),
    serverCpuSec: w.serverCpuSec,
    msgsPerServerCpuSec: w.perSec / w.serverCores,
    serverCores: w.serverCores,
    loadCpuSec: w.loadCpuSec,
    loadCores: w.loadCores,
    windowSec: w.windowSec,
    serverSysShare: w.serverSysShare,
    loadSysShare: w.loadSysShare,
    loadAvg1: w.loadAvg1,
    offered: sc.rate,
    skipped: w.reports.reduce((a, x) => a + (x.extra['skipped'] ?? 0), 0),
    verified,
    errors,
    setupMs: w.setupMs,
    connectMs: w.connectMs,
    teardownMs: w.teardownMs,
  };
  status(
    `${label}: ${r.msgsPerSec.toFixed(0)} msgs/s, p50 ${r.p50us.toFixed(0)} µs, p99 ${r.p99us.toFixed(0)} µs, ` +
      `server ${r.serverCores.toFixed(2)} cores, ${r.msgsPerServerCpuSec.toFixed(0)} msgs/CPU-s, load ${r.loadCores.toFixed(2)} cores${verified.ok ? '' : ` VERIFY FAILED ${JSON.stringify(verified)} ${JSON.stringify(errors)}`}`,
    true,
  );
  return r;
}

const FIELDS = [
  'msgsPerSec',
  'p50us',
  'p99us',
  'serverCpuSec',
  'msgsPerServerCpuSec',
  'serverCores',
  'loadCpuSec',
  'loadCores',
  'serverSysShare',
  'loadSysShare',
] as const;
type Summary = Record<(typeof FIELDS)[number], number>;

async function main(): Promise<void> {
  const started = Date.now();
  const { kinds, uws, rounds } = await interleaved(config.kinds, RUNS, scenarios, round);
  const summary: Record<string, Record<string, Summary>> = {};
  for (const sc of scenarios) {
    summary[sc.name] = {};
    for (const kind of kinds) {
      const mine = rounds.filter((r) => r.scenario === sc.name && r.kind === kind);
      summary[sc.name]![kind] = medians(mine, FIELDS);
    }
  }
  // Ratios are paired run by run (see pairedRatio), >1 = better than the reference.
  const ratios = (sc: string, k: string): { perCpuVsWs: number; perCpuVsUws: number; msgsPerSecVsWs: number } => {
    const mine = rounds.filter((r) => r.scenario === sc);
    return {
      perCpuVsWs: pairedRatio(mine, k, 'ws', (r) => r.msgsPerServerCpuSec),
      perCpuVsUws: pairedRatio(mine, k, 'uws', (r) => r.msgsPerServerCpuSec),
      msgsPerSecVsWs: pairedRatio(mine, k, 'ws', (r) => r.msgsPerSec),
    };
  };
  console.log(
    `\nEcho, 22-byte text messages (big*: binary messages of the size shown); ${RUNS} runs × ${SECONDS} s measured (after ${WARMUP} s warm-up), medians; load: lightws client in ${K} processes.`,
  );
  console.log(
    'msgs/CPU-s = echoes ÷ server CPU seconds (user+sys), the fair headline: server and load share 2 cores, so msgs/s is a machine bound.',
  );
  console.log(
    `×ws, ×uWS: msgs per server CPU-second ÷ ws's / uWS.js's in the same run, median over runs (>1 = cheaper per message). ${uws?.note ?? 'uWS.js not requested.'}`,
  );
  console.log(`${loadAverageLine(rounds)}\n`);
  const rows: (string | number)[][] = [];
  for (const sc of scenarios) {
    for (const kind of kinds) {
      const s = summary[sc.name]![kind]!;
      const x = ratios(sc.name, kind);
      rows.push([
        SCENARIOS[sc.name]!.describe,
        SERVERS[kind]!.label,
        s.msgsPerSec.toFixed(0),
        s.p50us.toFixed(0),
        s.p99us.toFixed(0),
        `${s.serverCpuSec.toFixed(2)} (${s.serverCores.toFixed(2)})`,
        s.msgsPerServerCpuSec.toFixed(0),
        formatRatio(x.perCpuVsWs),
        formatRatio(x.perCpuVsUws),
        formatRatio(x.msgsPerSecVsWs),
        `${s.loadCpuSec.toFixed(2)} (${s.loadCores.toFixed(2)})`,
        `${(100 * s.serverSysShare).toFixed(0)}/${(100 * s.loadSysShare).toFixed(0)}`,
      ]);
    }
  }
  printTable(
    [
      'scenario',
      'server',
      'msgs/s',
      'p50 µs',
      'p99 µs',
      'srv CPU s (cores)',
      'msgs/CPU-s',
      '×ws',
      '×uWS',
      'msgs/s ×ws',
      'load CPU s (cores)',
      'sys% srv/load',
    ],
    rows,
  );
  const failed = rounds.filter((r) => !r.verified.ok);
  const skipped = rounds.filter((r) => r.skipped > 0);
  for (const r of failed)
    console.log(
      `  VERIFY FAILED: ${r.scenario} ${r.kind} run ${r.run}: ${JSON.stringify(r.verified)} ${JSON.stringify(r.errors)}`,
    );
  for (const r of skipped)
    console.log(
      `  ${r.scenario} ${r.kind} run ${r.run}: ${r.skipped} sends skipped (a connection had its max in flight: offered rate not met)`,
    );
  const written = writeResults(
    'echo',
    {
      config: {
        runs: RUNS,
        seconds: SECONDS,
        warmup: WARMUP,
        loadProcesses: K,
        scenarios,
        kinds,
        serverNodeArgs: nodeArgs,
        payload: 'hello world!!13212312! (22 B, text); big* scenarios: payloadBytes of binary',
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      },
      uws,
      unit: 'msgs/s; µs; CPU seconds over the measured window; msgs per server CPU-second; medians over runs; ratios paired run by run, then median',
      summary,
      ratios: Object.fromEntries(
        scenarios.map((sc) => [sc.name, Object.fromEntries(kinds.map((k) => [k, ratios(sc.name, k)]))]),
      ),
      allVerified: failed.length === 0,
      rounds,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(
    `\n${failed.length === 0 ? 'All rounds verified' : `${failed.length} ROUNDS FAILED VERIFICATION`}; ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:echo failed', error));
