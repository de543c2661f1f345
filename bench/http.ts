/**
 * Plain HTTP on a WebSocket server's port: `GET /healthz` requests per second and server CPU per
 * request while the server holds --idle idle WebSocket connections, lightws (raw handles, net
 * sockets) against ws behind `http.createServer` (and uWS.js's `app.get`, Bun's `fetch` handler: kinds
 * `uws`, `bun`, if asked), in the same run.
 *
 *   npm run bench:http -- [--runs 3] [--seconds 5] [--warmup 2] [--idle 19000] [--connections 64]
 *                         [--load 1] [--kinds handle,socket,ws,uws,bun] [--path /healthz]
 *
 * Each round is a fresh server (servers/<kind>.js --mode idle: every server answers /healthz,
 * see servers/protocol.ts), then one process (load/idle-clients.ts) opens --idle WebSocket
 * connections and holds them, silent, for the whole round; then --load processes
 * (load/http-clients.ts) each keep --connections keep-alive HTTP connections busy, one request in
 * flight on each. --warmup s, then a measured window of --seconds s. The open-files limit is
 * 20,000 per process: the server holds the idle connections and the HTTP ones, each load process
 * its own. Rounds are interleaved by server, the order rotated each run; medians over --runs,
 * ratios paired run by run.
 *
 * Server and load share the machine's 2 cores, so requests/s is a machine bound; server CPU per
 * request (the server's user+system CPU over the window ÷ the requests answered in it) is the
 * fair comparison. Results: bench/out/http.json (--publish: bench/results/, see lib/results.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { formatRatio, printTable } from './lib/format.js';
import { histPercentile } from './lib/histogram.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { medians, pairedRatio } from './lib/stats.js';
import { die, status } from './lib/status.js';
import type { ClientCommand, ClientReport } from './load/idle-clients.js';
import { sourceBlock } from './load/sources.js';
import { interleaved, loadAverageLine, ROUND_OPTIONS, roundsConfig, runRound } from './load/window.js';
import { SERVERS } from './servers/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    ...ROUND_OPTIONS,
    kinds: { type: 'string', default: 'handle,socket,ws' },
    load: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '5' },
    idle: { type: 'string', default: '19000' },
    connections: { type: 'string', default: '64' },
    path: { type: 'string', default: '/healthz' },
  },
});
const { runs: RUNS, seconds: SECONDS, warmup: WARMUP, loads: K, nodeArgs, ...config } = roundsConfig(args);
const IDLE = Number(args.idle);
const CONNECTIONS = Number(args.connections);
// The server process holds the idle connections and the HTTP ones: 20,000 open files in all.
if (!(IDLE >= 0 && IDLE + K * CONNECTIONS <= 19_700))
  throw new RangeError('--idle + --load × --connections must stay under 19,700 (20,000 open files per process)');

interface Round {
  kind: string;
  run: number;
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  serverCpuSec: number;
  serverCpuUsPerRequest: number;
  serverCores: number;
  loadCores: number;
  loadCpuUsPerRequest: number;
  windowSec: number;
  serverSysShare: number;
  loadAvg1: number;
  /** WebSocket connections the server held as the window opened (must be --idle). */
  idleHeld: number;
  idleFailed: number;
  idleClosedByServer: number;
  failed: number;
  closedByServer: number;
  errors: Record<string, number>;
  ok: boolean;
}

/** The idle WebSocket connections of a round: their own process, ramped before the HTTP load starts. */
async function holdIdle(
  port: number,
  index: number,
  label: string,
): Promise<{ failed: number; undo(): Promise<void>; closedByServer(): Promise<number> }> {
  const clients = new IpcChild<ClientCommand, ClientReport>('idle connections', join(here, 'load', 'idle-clients.js'), [
    '--port',
    String(port),
    '--sources',
    `${sourceBlock(index)}.1`,
    '--per-source',
    '20000',
    '--in-flight',
    '256',
  ]);
  await clients.next('ready', 15_000);
  status(`${label}: opening ${IDLE} idle WebSocket connections`);
  const ramped = IDLE > 0 ? await clients.ask({ type: 'ramp', to: IDLE }, 'ramped', 180_000) : undefined;
  let quitted: Extract<ClientReport, { type: 'quitted' }> | null = null;
  return {
    failed: ramped?.failed ?? 0,
    async closedByServer() {
      return quitted?.closedByPeer ?? ramped?.closedByPeer ?? 0;
    },
    async undo() {
      quitted = await clients.ask({ type: 'quit' }, 'quitted', 30_000).catch(() => null);
      await clients.stop(10_000);
    },
  };
}

async function round(kind: string, run: number, index: number): Promise<Round> {
  const label = `${SERVERS[kind]!.label} run ${run}/${RUNS}`;
  let idle: Awaited<ReturnType<typeof holdIdle>> | undefined;
  const w = await runRound({
    kind,
    label,
    nodeArgs,
    mode: 'idle',
    script: join(here, 'load', 'http-clients.js'),
    loads: K,
    argv: (port) => ['--port', String(port), '--connections', String(CONNECTIONS), '--path', args.path],
    connections: K * CONNECTIONS,
    statsAtMark: true,
    warmupSec: WARMUP,
    seconds: SECONDS,
    prepare: async (port) => (idle = await holdIdle(port, index, label)),
  });
  const errors: Record<string, number> = {};
  for (const s of w.stopped) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  const failed = w.reports.reduce((a, r) => a + (r.extra['failed'] ?? 0), 0);
  const closedByServer = w.stopped.reduce((a, s) => a + (s.extra['closedByServer'] ?? 0), 0);
  const idleHeld = w.atMark?.connections ?? 0;
  const r: Round = {
    kind,
    run,
    requestsPerSec: w.perSec,
    p50ms: histPercentile(w.hist, 50) / 1000,
    p99ms: histPercentile(w.hist, 99) / 1000,
    serverCpuSec: w.serverCpuSec,
    serverCpuUsPerRequest: (w.serverCores * 1e6) / w.perSec,
    serverCores: w.serverCores,
    loadCores: w.loadCores,
    loadCpuUsPerRequest: (w.loadCores * 1e6) / w.perSec,
    windowSec: w.windowSec,
    serverSysShare: w.serverSysShare,
    loadAvg1: w.loadAvg1,
    idleHeld,
    idleFailed: idle?.failed ?? 0,
    idleClosedByServer: (await idle?.closedByServer()) ?? 0,
    failed,
    closedByServer,
    errors,
    ok: failed === 0 && closedByServer === 0 && idleHeld === IDLE && w.perSec > 0,
  };
  status(
    `${label}: ${r.requestsPerSec.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ` +
      `server ${r.serverCpuUsPerRequest.toFixed(1)} µs CPU/request (${r.serverCores.toFixed(2)} cores), load ${r.loadCores.toFixed(2)} cores, ` +
      `${idleHeld} idle WebSockets held${r.ok ? '' : `, NOT OK: ${failed} failed, ${closedByServer} closed ${JSON.stringify(errors)}`}`,
    true,
  );
  return r;
}

const FIELDS = [
  'requestsPerSec',
  'p50ms',
  'p99ms',
  'serverCpuSec',
  'serverCpuUsPerRequest',
  'serverCores',
  'loadCores',
  'loadCpuUsPerRequest',
  'serverSysShare',
] as const;
type Summary = Record<(typeof FIELDS)[number], number>;

async function main(): Promise<void> {
  const started = Date.now();
  const { kinds, uws, rounds } = await interleaved(config.kinds, RUNS, [null], (_, kind, run, index) =>
    round(kind, run, index),
  );
  const summary: Record<string, Summary> = {};
  for (const kind of kinds)
    summary[kind] = medians(
      rounds.filter((r) => r.kind === kind),
      FIELDS,
    );
  // Paired run by run; CPU per request inverted so that >1 always means better.
  const ratios = (k: string): { cpuVsWs: number; requestsPerSecVsWs: number } => ({
    cpuVsWs: 1 / pairedRatio(rounds, k, 'ws', (r) => r.serverCpuUsPerRequest),
    requestsPerSecVsWs: pairedRatio(rounds, k, 'ws', (r) => r.requestsPerSec),
  });
  console.log(
    `\nGET ${args.path} over keep-alive HTTP/1.1 while each server holds ${IDLE} idle WebSocket connections: ${K} load process(es) × ${CONNECTIONS} connections, one request in flight each; ${RUNS} runs × ${SECONDS} s (after ${WARMUP} s warm-up), medians.`,
  );
  console.log(
    'Server µs/request = server CPU (user+sys) ÷ requests: the fair headline (server and load share 2 cores, so req/s is a machine bound).',
  );
  console.log(
    `×ws: ws's CPU per request ÷ this server's (>1 = cheaper), and req/s ÷ ws's, paired by run. ${uws?.note ?? 'uWS.js not requested.'}`,
  );
  console.log(`${loadAverageLine(rounds)}\n`);
  printTable(
    [
      'server',
      'req/s',
      'p50 ms',
      'p99 ms',
      'srv CPU s (cores)',
      'srv µs/request',
      '×ws CPU',
      'req/s ×ws',
      'load cores',
      'load µs/request',
    ],
    kinds.map((kind) => {
      const s = summary[kind]!;
      const x = ratios(kind);
      return [
        SERVERS[kind]!.label,
        s.requestsPerSec.toFixed(0),
        s.p50ms.toFixed(2),
        s.p99ms.toFixed(2),
        `${s.serverCpuSec.toFixed(2)} (${s.serverCores.toFixed(2)})`,
        s.serverCpuUsPerRequest.toFixed(1),
        formatRatio(x.cpuVsWs),
        formatRatio(x.requestsPerSecVsWs),
        s.loadCores.toFixed(2),
        s.loadCpuUsPerRequest.toFixed(1),
      ];
    }),
  );
  const bad = rounds.filter((r) => !r.ok);
  for (const r of bad)
    console.log(
      `  ${r.kind} run ${r.run}: NOT OK (${r.idleHeld}/${IDLE} idle held, ${r.failed} failed, ${r.closedByServer} closed by the server) ${JSON.stringify(r.errors)}`,
    );
  const written = writeResults(
    'http',
    {
      config: {
        runs: RUNS,
        seconds: SECONDS,
        warmup: WARMUP,
        idle: IDLE,
        loadProcesses: K,
        connectionsPerProcess: CONNECTIONS,
        path: args.path,
        kinds,
        serverNodeArgs: nodeArgs,
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      },
      uws,
      unit: 'requests/s; ms (request written → response read, client side); CPU seconds over the measured window; server CPU µs per request; medians over runs; ratios paired run by run, then median (>1 = better)',
      summary,
      ratios: Object.fromEntries(kinds.map((k) => [k, ratios(k)])),
      allOk: bad.length === 0,
      rounds,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(
    `\n${bad.length === 0 ? 'Every round held its idle connections and answered every request' : `${bad.length} ROUNDS NOT OK`}; ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`,
  );
  if (bad.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:http', error));
