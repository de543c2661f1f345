/**
 * The orchestrator's side of load/control.ts, which bench:echo and bench:handshake share: one
 * round is a fresh server and fresh load processes, a warm-up, then a measured window; rounds
 * of the servers are interleaved, the order rotated each run.
 *
 * The window: server CPU from /proc at the two instants it opens and closes
 * (ProtocolServer.cpu), while each load process counts over its own window (`mark` to `report`);
 * both are turned into rates before they are combined.
 */
import { loadavg } from 'node:os';
import { IpcChild } from '../lib/children.js';
import { mergeHists } from '../lib/histogram.js';
import { median } from '../lib/stats.js';
import { status } from '../lib/status.js';
import { sleep } from '../lib/time.js';
import { parseKinds, probeUws, ProtocolServer, type ServerStats } from '../servers/launch.js';
import type { Mode } from '../servers/protocol.js';
import type { LoadCommand, LoadReport, WindowReport } from './control.js';

type Load = IpcChild<LoadCommand, LoadReport>;

/** The options both benchmarks take, spread into their parseArgs (each adds --seconds with its own default). */
export const ROUND_OPTIONS = {
  runs: { type: 'string', default: '3' },
  warmup: { type: 'string', default: '2' },
  load: { type: 'string', default: '2' },
  kinds: { type: 'string', default: 'handle,socket,ws,uws,bun' },
  'server-node-args': { type: 'string', default: '' },
} as const;

export interface RoundsConfig {
  runs: number;
  seconds: number;
  warmup: number;
  loads: number;
  kinds: string[];
  nodeArgs: string[];
}

export function roundsConfig(args: {
  runs?: string;
  seconds?: string;
  warmup?: string;
  load?: string;
  kinds?: string;
  'server-node-args'?: string;
}): RoundsConfig {
  return {
    runs: Number(args.runs),
    seconds: Number(args.seconds),
    warmup: Number(args.warmup),
    loads: Number(args.load),
    kinds: parseKinds(args.kinds ?? ''),
    nodeArgs: (args['server-node-args'] ?? '').split(',').filter(Boolean),
  };
}

export interface RoundSpec {
  kind: string;
  /** What the status lines call this round. */
  label: string;
  /** Node flags for the server (--server-node-args, e.g. --cpu-prof). */
  nodeArgs: readonly string[];
  /** The load script, how many load processes, and the arguments of the i-th given the server's port. */
  script: string;
  loads: number;
  argv: (port: number, i: number) => string[];
  /** Have the loads open their connections before `start` (the echo load), reporting this many. */
  connections?: number;
  warmupSec: number;
  seconds: number;
  /** Also read the server's own stats as the window opens (the echo round checks its connection count). */
  statsAtMark?: boolean;
  /** The server's mode (servers/protocol.ts); default echo. */
  mode?: Mode;
  /**
   * Run once the server is ready, before the loads start (bench:http opens its idle WebSocket
   * connections here, from a process of their own); what it returns is undone at teardown.
   */
  prepare?: (port: number) => Promise<{ undo(): Promise<void> }>;
}

export interface RoundResult {
  connected: Extract<LoadReport, { type: 'connected' }>[];
  reports: WindowReport[];
  stopped: Extract<LoadReport, { type: 'stopped' }>[];
  atMark: ServerStats | null;
  /** The loads' latency histograms, merged. */
  hist: number[];
  /** Operations per second over the window, summed over the load processes. */
  perSec: number;
  windowSec: number;
  serverCpuSec: number;
  serverCores: number;
  loadCpuSec: number;
  loadCores: number;
  /** Kernel (system) share of server and load CPU; the machine's 1-min load average at the window's end. */
  serverSysShare: number;
  loadSysShare: number;
  loadAvg1: number;
  /** Phases: spawn to every process ready, connecting, stop to everything gone. */
  setupMs: number;
  connectMs: number;
  teardownMs: number;
}

/** One round, start to teardown; every process of it is gone when it resolves. */
export async function runRound(spec: RoundSpec): Promise<RoundResult> {
  const server = new ProtocolServer(spec.kind, spec.mode ?? 'echo', spec.nodeArgs);
  const loads: Load[] = [];
  const tSpawn = performance.now();
  let tStop: number;
  let result: RoundResult;
  let prepared: { undo(): Promise<void> } | undefined;
  try {
    const { port } = await server.ready();
    prepared = await spec.prepare?.(port);
    for (let i = 0; i < spec.loads; i++)
      loads.push(new IpcChild<LoadCommand, LoadReport>(`load ${i}`, spec.script, spec.argv(port, i)));
    await Promise.all(loads.map((l) => l.next('ready', 15_000)));
    const setupMs = performance.now() - tSpawn;
    let connected: Extract<LoadReport, { type: 'connected' }>[] = [];
    if (spec.connections !== undefined) {
      status(`${spec.label}: connecting ${spec.connections}`);
      connected = await Promise.all(loads.map((l) => l.ask({ type: 'connect' }, 'connected', 180_000)));
    }
    await Promise.all(loads.map((l) => l.ask({ type: 'start' }, 'started', 10_000)));
    status(`${spec.label}: warm-up ${spec.warmupSec} s`);
    await sleep(spec.warmupSec * 1000);
    status(`${spec.label}: measuring ${spec.seconds} s`);
    const c0 = await server.cpu();
    const t0 = performance.now();
    const [atMark] = await Promise.all([
      spec.statsAtMark === true ? server.stats() : null,
      ...loads.map((l) => l.ask({ type: 'mark' }, 'marked', 10_000)),
    ]);
    await sleep(spec.seconds * 1000);
    const c1 = await server.cpu();
    const loadAvg1 = loadavg()[0]!;
    const windowSec = (performance.now() - t0) / 1000;
    const reports = await Promise.all(loads.map((l) => l.ask({ type: 'report' }, 'report', 10_000)));
    tStop = performance.now();
    const stopped = await Promise.all(loads.map((l) => l.ask({ type: 'stop' }, 'stopped', 20_000)));
    const serverCpuSec = (c1.user + c1.system - c0.user - c0.system) / 1e6;
    const loadCores = reports.reduce((sum, r) => sum + (r.cpuUser + r.cpuSystem) / 1e3 / r.ms, 0);
    result = {
      connected,
      reports,
      stopped,
      atMark,
      hist: mergeHists(reports.map((r) => r.hist)),
      perSec: reports.reduce((sum, r) => sum + r.count / (r.ms / 1000), 0),
      windowSec,
      serverCpuSec,
      serverCores: serverCpuSec / windowSec,
      loadCpuSec: loadCores * windowSec,
      loadCores,
      serverSysShare: (c1.system - c0.system) / 1e6 / serverCpuSec,
      loadSysShare:
        reports.reduce((a, r) => a + r.cpuSystem, 0) / reports.reduce((a, r) => a + r.cpuUser + r.cpuSystem, 0),
      loadAvg1,
      setupMs,
      connectMs: Math.max(0, ...connected.map((c) => c.ms)),
      teardownMs: 0,
    };
  } finally {
    await Promise.all(loads.map((l) => l.stop(10_000)));
    await prepared?.undo();
    await server.close();
  }
  result.teardownMs = performance.now() - tStop;
  return result;
}

/**
 * Every round of a benchmark: for each run, each group (echo's scenarios; one for handshake), each
 * server, in an order rotated by one each run so that no server always goes first (or always
 * right after the heaviest round). `index` counts the rounds (it picks their source addresses).
 * uWS is left out, saying so, if its native binary does not load: its JS fallback is not uWS.
 */
export async function interleaved<G, R>(
  requested: readonly string[],
  runs: number,
  groups: readonly G[],
  round: (group: G, kind: string, run: number, index: number) => Promise<R>,
): Promise<{ kinds: string[]; uws: { native: boolean; note: string } | null; rounds: R[] }> {
  let kinds = [...requested];
  let uws: { native: boolean; note: string } | null = null;
  if (kinds.includes('uws')) {
    uws = await probeUws();
    status(uws.note, true);
    if (!uws.native) kinds = kinds.filter((k) => k !== 'uws');
  }
  const rounds: R[] = [];
  let index = 0;
  for (let run = 1; run <= runs; run++) {
    const order = kinds.map((_, i) => kinds[(i + run - 1) % kinds.length]!);
    for (const group of groups) for (const kind of order) rounds.push(await round(group, kind, run, index++));
  }
  return { kinds, uws, rounds };
}

/** How busy the shared machine was: figures from a run at load average 8 on 2 cores mean less. */
export function loadAverageLine(rounds: readonly { loadAvg1: number }[]): string {
  const avgs = rounds.map((r) => r.loadAvg1);
  return `Machine 1-min load average during the rounds: ${Math.min(...avgs).toFixed(1)}–${Math.max(...avgs).toFixed(1)} (median ${median(avgs).toFixed(1)}) on 2 cores.`;
}
