/**
 * A million (or N) idle WebSocket connections on one box: a lightws cluster
 * (servers/million-cluster.ts, ceil(N / 19,000) workers) against ceil(N / 19,000)
 * raw-handle client processes (load/million-clients.ts), all on loopback.
 *
 *   npm run bench:million -- --connections 1000000 [--hold 60] [--ping-interval 30]
 *        [--idle-timeout S] [--min-available 3] [--tune-sysctls] [--active 8] [--in-flight 64]
 *        [--per-process 19000] [--sample 1000] [--label text] [--ws] [--worker-flags="--flag ..."]
 *        [--reuse-port auto|on|off]
 *
 * 1. Checks the limits it depends on (open files per process, fs.file-max,
 *    fs.nr_open, somaxconn, tcp_max_syn_backlog, the port range) and, only
 *    with --tune-sysctls, raises the writable sysctls (restored at exit).
 * 2. Starts the cluster and the load processes, measures the empty cluster
 *    (each worker's fixed memory), then ramps: --active load processes at a
 *    time, each with at most --in-flight connects outstanding (a few
 *    processes with full event batches cost the 2 cores less than 53 with
 *    one event each), one progress bar for the whole ramp.
 * 3. Measures memory 3 s after the ramp ('top'), holds --hold seconds with
 *    server heartbeats flowing (--ping-interval), measuring CPU, and
 *    measures memory again ('after hold'): that reading, from /proc with no
 *    GC forced, is the headline (server PSS summed over workers; RSS,
 *    private, shared beside; per connection over the empty cluster). Then
 *    checks every connection is open on both sides and that a sample
 *    (--sample, spread over every load process) echoes.
 * 4. Shuts down gracefully: the cluster closes every connection with 1001
 *    and waits for the closing handshakes; each load process counts the
 *    Close frames it received, by code. Appends the run to million.json
 *    (see lib/results.ts for where).
 *
 * --worker-flags: Node flags for the server's workers, after an `=` (default:
 * lightws as startCluster gives them, `ws` none); --reuse-port: lightws's cluster mode
 * (auto: SO_REUSEPORT where Node has it). Stops early, saying why, if
 * MemAvailable falls below --min-available GiB (default 3): the load
 * processes stop connecting and everything is closed.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { JsonLinesChild, killChildrenOnExit, killOnExit } from './lib/children.js';
import { formatGiB as gib, printTable } from './lib/format.js';
import { statsOfEveryWorker, type ClusterStatsLine } from './lib/cluster-stats.js';
import { checkLimits, restoreSysctls } from './lib/limits.js';
import { cpuMs, kernel, machineCpu, memAvailable, memoryOf } from './lib/proc.js';
import {
  askServer as ask,
  MemoryGuard,
  rampLoads,
  rampTotals,
  shutdownCluster,
  startLoads,
  type MillionLoad as Load,
} from './lib/million-loads.js';
import { appendRun, RESULTS_OPTIONS } from './lib/results.js';
import { mean, stdev } from './lib/stats.js';
import { bar, status, statusEvery } from './lib/status.js';
import { insideMemory, memLine, serverMemory, type InsideMemory, type ServerMemory } from './lib/worker-memory.js';
import type { MillionReport } from './load/million-clients.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    connections: { type: 'string', default: '1000000' },
    hold: { type: 'string', default: '60' },
    'ping-interval': { type: 'string', default: '30' },
    'idle-timeout': { type: 'string' },
    'min-available': { type: 'string', default: '3' },
    'tune-sysctls': { type: 'boolean', default: false },
    /** Load processes ramping at once, and connects in flight in each. */
    active: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '64' },
    'per-process': { type: 'string', default: '19000' },
    /** Connections planned per server worker: workers = ceil(N / this). */
    'per-worker': { type: 'string', default: '19000' },
    /**
     * A worker holding this many stops accepting (see servers/million-cluster.ts), so that no
     * worker reaches its open-files cap however the kernel spreads accepts. 0 = never.
     */
    fill: { type: 'string', default: '19500' },
    workers: { type: 'string' },
    sample: { type: 'string', default: '1000' },
    label: { type: 'string', default: '' },
    /** The same run for `ws` under node:cluster (round-robin), for the contrast. */
    ws: { type: 'boolean', default: false },
    'worker-flags': { type: 'string' },
    'reuse-port': { type: 'string', default: 'auto' },
  },
});
const N = Number(args.connections);
const PER = Number(args['per-process']);
const HOLD_S = Number(args.hold);
const PING_MS = Number(args['ping-interval']) * 1000;
const IDLE_MS =
  args['idle-timeout'] === undefined ? (PING_MS > 0 ? PING_MS * 2 + 15_000 : 0) : Number(args['idle-timeout']) * 1000;
const MIN_AVAILABLE = Number(args['min-available']) * 2 ** 30;
if (!(N > 0)) throw new RangeError('--connections must be positive');
if (!(PER > 0 && PER <= 19_900)) throw new RangeError('--per-process must be 1..19900 (20,000 open files per process)');
const WORKERS = Number(args.workers ?? Math.ceil(N / Number(args['per-worker'])));
const LOADS = Math.ceil(N / PER);
if (LOADS > 230) throw new RangeError('at most 230 load processes (one 127.x/16 address block each)');
const KIND = args.ws ? 'ws' : 'lightws';
const FILL = args.ws ? 0 : Number(args.fill);
if (FILL > 0 && WORKERS * FILL < N) throw new RangeError(`${WORKERS} workers × --fill ${FILL} < ${N} connections`);
const ACTIVE = Math.max(1, Math.min(LOADS, Number(args.active)));
const IN_FLIGHT = Number(args['in-flight']);
if (!['auto', 'on', 'off'].includes(args['reuse-port'])) throw new RangeError('--reuse-port must be auto, on or off');
const SALT = Math.floor(Math.random() * 250); // a fresh source-address block per run: earlier runs' TIME_WAITs
/** How long the cluster gives the closing handshakes: 1M closes share 2 cores with 1M answers. */
const CLOSE_MS = 30_000 + N * 0.15;

const GiB = 2 ** 30;
// Off a terminal, a progress line every 5 s: a million-connection ramp takes minutes.
statusEvery(5000);
const log = (line: string): void => status(line, true);

// ---- children ---------------------------------------------------------------------------------

// Every child is killed if we exit (lib/children.ts), the cluster's workers too (adopted once
// known); installed now, so that the sysctls are restored even after a signal that comes first.
killChildrenOnExit();
process.on('exit', restoreSysctls);

/** The cluster's stats summed over every worker, asked again while one is missing (lib/cluster-stats.ts). */
const clusterStats = (server: JsonLinesChild): Promise<ClusterStatsLine> =>
  statsOfEveryWorker(() => ask(server, 'stats', 'stats', 60_000) as Promise<ClusterStatsLine>, WORKERS);

// ---- memory guard -----------------------------------------------------------------------------

const guard = new MemoryGuard(MIN_AVAILABLE);
const aborted = (): boolean => guard.tripped;
const checkAbort = (): void => guard.check();
const waitUnlessAborted = (ms: number, tick?: () => void): Promise<void> => guard.wait(ms, tick);

// ---- the run ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = new Date().toISOString();
  log(
    `million (${KIND}, ${process.version}): ${N} connections, ${WORKERS} server workers, ${LOADS} load processes (<= ${PER} each, ${ACTIVE} ramping at once with ${IN_FLIGHT} connects in flight each), ` +
      `heartbeat ping ${PING_MS / 1000} s / idle ${IDLE_MS / 1000} s, hold ${HOLD_S} s, safety margin ${gib(MIN_AVAILABLE)}`,
  );
  const limits = checkLimits(N, PER, LOADS, SALT, Boolean(args['tune-sysctls']));
  const k0 = kernel();
  if (k0.memAvailable < MIN_AVAILABLE + 1 * GiB)
    throw new Error(`MemAvailable is ${gib(k0.memAvailable)}: too close to the safety margin to start`);

  const run: Record<string, unknown> = {
    kind: KIND,
    label: args.label,
    started,
    node: process.version,
    connections: N,
    workers: WORKERS,
    loadProcesses: LOADS,
    perProcess: PER,
    active: ACTIVE,
    inFlightPerProcess: IN_FLIGHT,
    fillPerWorker: FILL,
    pingIntervalMs: PING_MS,
    idleTimeoutMs: IDLE_MS,
    holdSeconds: HOLD_S,
    minAvailable: MIN_AVAILABLE,
    tunedSysctls: args['tune-sysctls'],
    limits,
    command: process.argv.slice(2).join(' '),
  };
  const server = new JsonLinesChild('server', join(here, 'servers', 'million-cluster.js'), [
    '--workers',
    String(WORKERS),
    '--ping-interval',
    String(PING_MS),
    '--idle-timeout',
    String(IDLE_MS),
    '--fill',
    String(FILL),
    '--kind',
    KIND,
    '--reuse-port',
    args['reuse-port'],
    ...(args['worker-flags'] === undefined ? [] : [`--worker-flags=${args['worker-flags']}`]),
  ]);
  const loads: Load[] = [];
  let workerPids: number[] = [];
  let opened = 0;
  let phase = 'start';
  try {
    // Cluster up.
    let t = performance.now();
    const readyP = ask(server, null, 'ready', 300_000);
    while (!aborted()) {
      const done = await Promise.race([readyP.then(() => true), waitUnlessAborted(1000).then(() => false)]);
      if (done) break;
      status(`starting ${WORKERS} workers... MemAvailable ${gib(memAvailable())}`);
    }
    checkAbort();
    const ready = await readyP;
    const port = Number(ready.port);
    workerPids = (ready.pids as number[]).filter((p) => typeof p === 'number');
    for (const pid of workerPids) killOnExit(pid);
    run.clusterStartMs = performance.now() - t;
    run.cluster = { mode: ready.mode, workerFlags: ready.workerFlags };
    status(
      `cluster up: ${workerPids.length} workers on 127.0.0.1:${port} (${String(ready.mode)}, worker flags ${JSON.stringify(ready.workerFlags)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      true,
    );

    // Load processes up.
    t = performance.now();
    phase = 'spawn';
    await startLoads(loads, N, PER, port, SALT, checkAbort);
    status(`load processes up: ${LOADS} in ${((performance.now() - t) / 1000).toFixed(1)} s`, true);
    const loadPids = loads.map((l) => l.pid);
    const primaryPid = server.pid;
    await waitUnlessAborted(2000);
    checkAbort();
    const kEmpty = kernel();
    const empty = serverMemory(workerPids);
    const loadEmpty = memoryOf(loadPids);
    const insideEmpty = await insideMemory(server, workerPids);
    run.before = {
      kernel: kEmpty,
      server: empty,
      inside: insideEmpty,
      loadProcesses: loadEmpty,
      primary: memoryOf([primaryPid]),
    };
    log(
      `empty cluster: ${memLine(empty)}; per worker PSS ${(empty.perWorker.pss / 2 ** 20).toFixed(1)} MiB, RSS ${(empty.perWorker.rss / 2 ** 20).toFixed(1)} MiB, ` +
        `private ${(empty.perWorker.private / 2 ** 20).toFixed(1)} MiB`,
    );

    // Ramp.
    phase = 'ramp';
    guard.onLow = () => {
      for (const l of loads) l.send({ type: 'stopRamp' });
    };
    const rampT0 = performance.now();
    const cpuRamp0 = { server: cpuMs(workerPids), load: cpuMs(loadPids), machine: machineCpu() };
    const ramped = await rampLoads(loads, N, ACTIVE, IN_FLIGHT, aborted);
    const rampMs = performance.now() - rampT0;
    const cpuRamp1 = { server: cpuMs(workerPids), load: cpuMs(loadPids), machine: machineCpu() };
    const totals = rampTotals(ramped);
    opened = totals.opened;
    const { failed, retried, errors } = totals;
    const us = (ms: number): number => (ms * 1000) / Math.max(1, opened);
    status(
      `ramp ${bar(opened, N, 30)} ${opened.toLocaleString('en')}/${N.toLocaleString('en')} open in ${(rampMs / 1000).toFixed(1)} s ` +
        `(${(opened / (rampMs / 1000)).toFixed(0)}/s), ${failed} failed, ${retried} attempts retried, errors ${JSON.stringify(errors)}; CPU per connection: ` +
        `server ${us(cpuRamp1.server - cpuRamp0.server).toFixed(0)} µs, load ${us(cpuRamp1.load - cpuRamp0.load).toFixed(0)} µs; MemAvailable ${gib(memAvailable())}`,
      true,
    );
    run.ramp = {
      opened,
      failed,
      retried,
      errors,
      ms: rampMs,
      perSecond: opened / (rampMs / 1000),
      serverCpuMs: cpuRamp1.server - cpuRamp0.server,
      loadCpuMs: cpuRamp1.load - cpuRamp0.load,
      serverCpuUsPerConn: us(cpuRamp1.server - cpuRamp0.server),
      loadCpuUsPerConn: us(cpuRamp1.load - cpuRamp0.load),
      machineBusy: (cpuRamp1.machine.busy - cpuRamp0.machine.busy) / (cpuRamp1.machine.total - cpuRamp0.machine.total),
    };
    checkAbort();

    // Settle, measure at the top.
    phase = 'measure';
    await waitUnlessAborted(3000);
    checkAbort();
    const kTop = kernel();
    const top = serverMemory(workerPids, empty, opened);
    const loadTop = memoryOf(loadPids);
    const statsTop = await clusterStats(server);
    log(`top (3 s after the ramp): ${memLine(top)}`);

    // Hold with heartbeats.
    phase = 'hold';
    const hold0 = {
      server: cpuMs(workerPids),
      primary: cpuMs([primaryPid]),
      load: cpuMs(loadPids),
      machine: machineCpu(),
      pings: Number(statsTop.pingsSent),
      t: performance.now(),
    };
    const holdT0 = Date.now();
    await waitUnlessAborted(HOLD_S * 1000, () =>
      status(
        `hold ${bar(Date.now() - holdT0, HOLD_S * 1000, 30)} ${((Date.now() - holdT0) / 1000).toFixed(0)}/${HOLD_S} s, ` +
          `MemAvailable ${gib(memAvailable())}`,
      ),
    );
    checkAbort();
    const hold1 = {
      server: cpuMs(workerPids),
      primary: cpuMs([primaryPid]),
      load: cpuMs(loadPids),
      machine: machineCpu(),
      t: performance.now(),
    };
    const held = serverMemory(workerPids, empty, opened);
    const kHeld = kernel();
    const statsHold = await clusterStats(server);
    // Only now, the outside figure read: forced GCs in every worker, then /proc again.
    const inside = await insideMemory(server, workerPids, insideEmpty, opened);
    const afterGc = serverMemory(workerPids, empty, opened);
    const holdS = (hold1.t - hold0.t) / 1000;
    run.hold = {
      seconds: holdS,
      pingsSent: Number(statsHold.pingsSent) - hold0.pings,
      pingsSentTotal: statsHold.pingsSent,
      idleTimeouts: statsHold.idleTimeouts,
      serverCpuMs: hold1.server - hold0.server,
      serverCpuPerSecond: (hold1.server - hold0.server) / holdS,
      primaryCpuMs: hold1.primary - hold0.primary,
      loadCpuMs: hold1.load - hold0.load,
      loadCpuPerSecond: (hold1.load - hold0.load) / holdS,
      machineBusy: (hold1.machine.busy - hold0.machine.busy) / (hold1.machine.total - hold0.machine.total),
    };
    const per = (b: number): number => b / Math.max(1, opened);
    run.memory = {
      empty,
      top,
      afterHold: held,
      primary: memoryOf([primaryPid]),
      loadProcesses: { empty: loadEmpty, top: loadTop },
      // The headlines: after the hold, from /proc, no GC forced.
      serverPss: held.workers.pss,
      serverRss: held.workers.rss,
      serverPrivate: held.workers.private,
      serverShared: held.workers.shared,
      outsidePerConn: held.perConn,
      outsideIdleSeconds: holdS + 3,
      fixedPerWorker: empty.perWorker,
      inside: { empty: insideEmpty, afterHold: inside },
      insidePerConn: inside.perConn,
      afterForcedGc: afterGc,
      kernel: { empty: kEmpty, top: kTop, afterHold: kHeld },
      kernelSlabPerConn: per(kTop.slab - kEmpty.slab),
      kernelSUnreclaimPerConn: per(kTop.sUnreclaim - kEmpty.sUnreclaim),
      kernelTcpMemPerConn: per(kTop.tcpMem - kEmpty.tcpMem),
      socketsPerConn: per(kTop.sockets - kEmpty.sockets),
      loadRss: loadTop.rss,
      loadRssPerConn: per(loadTop.rss),
      memAvailableUsedPerConn: per(kEmpty.memAvailable - kTop.memAvailable),
      memAvailableAtTop: kTop.memAvailable,
      pool: statsHold.pool,
      connectionsPerWorker: statsHold.connectionsPerWorker,
    };
    status(
      `hold ${bar(1, 1, 30)} ${holdS.toFixed(0)} s: ${Number(run.hold && (run.hold as { pingsSent: number }).pingsSent)} pings sent, ` +
        `server CPU ${((hold1.server - hold0.server) / holdS).toFixed(0)} ms/s, load CPU ${((hold1.load - hold0.load) / holdS).toFixed(0)} ms/s`,
      true,
    );
    log(
      `after the hold: ${memLine(held)}; load RSS ${gib(loadTop.rss)}; kernel slab +${gib(kTop.slab - kEmpty.slab)} ` +
        `(${per(kTop.slab - kEmpty.slab).toFixed(0)} B/conn, both ends); MemAvailable ${gib(kHeld.memAvailable)}`,
    );
    log(
      `inside, after forced GCs: heap +${inside.perConn!.heapUsed.toFixed(0)} B/conn, external +${inside.perConn!.external.toFixed(0)} B/conn; heap reserved ${gib(insideEmpty.heapTotal)} -> ${gib(inside.heapTotal)}; ` +
        `then from /proc: ${memLine(afterGc)}`,
    );

    // Verify: every connection open on both sides, a sample echoes.
    phase = 'verify';
    const verified = await Promise.all(loads.map((l) => l.ask({ type: 'verify' }, 'verified', 60_000)));
    const statsV = await clusterStats(server);
    const sampleEach = Math.max(1, Math.ceil(Number(args.sample) / LOADS));
    const echoed = await Promise.all(
      loads.map((l) => l.ask({ type: 'echo', sample: sampleEach, timeoutMs: 30_000 }, 'echoed', 60_000)),
    );
    const closeCodes: Record<string, number> = {};
    for (const v of verified)
      for (const [k, n] of Object.entries(v.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + n;
    const clientOpen = verified.reduce((s, v) => s + v.open, 0);
    const sum = (f: (e: Extract<MillionReport, { type: 'echoed' }>) => number): number =>
      echoed.reduce((s, e) => s + f(e), 0);
    const echo = {
      sent: sum((e) => e.sent),
      ok: sum((e) => e.ok),
      mismatched: sum((e) => e.mismatched),
      timedOut: sum((e) => e.timedOut),
      ms: Math.max(...echoed.map((e) => e.ms)),
    };
    const perWorker = statsV.connectionsPerWorker;
    run.verify = {
      clientOpen,
      clientClosedByPeer: verified.reduce((s, v) => s + v.closedByPeer, 0),
      closeCodes,
      clientPings: verified.reduce((s, v) => s + v.pings, 0),
      unexpectedMessages: verified.reduce((s, v) => s + v.unexpected, 0),
      serverConnections: statsV.connections,
      serverHandshaking: statsV.handshaking,
      connectionsRefused: statsV.connectionsRefused,
      idleTimeouts: statsV.idleTimeouts,
      workerExits: statsV.exits,
      connectionsPerWorker: perWorker,
      spread: {
        min: Math.min(...perWorker),
        max: Math.max(...perWorker),
        mean: mean(perWorker),
        stdev: stdev(perWorker),
      },
      echo,
      allOpen: clientOpen === opened && statsV.connections === opened,
      echoOk: echo.ok === echo.sent && echo.sent > 0,
      loadProcessRss: verified.reduce((s, v) => s + v.rss, 0),
      loadProcessHeap: verified.reduce((s, v) => s + v.heapUsed, 0),
    };
    log(
      `verify: clients see ${clientOpen}/${opened} open (${JSON.stringify(closeCodes)} closed by the server), server counts ${String(statsV.connections)}; ` +
        `client got ${(run.verify as { clientPings: number }).clientPings} pings; echo ${echo.ok}/${echo.sent} OK in ${echo.ms.toFixed(0)} ms; ` +
        `per worker min ${Math.min(...perWorker)} max ${Math.max(...perWorker)}`,
    );
    run.completed = failed === 0 && opened === N;
  } catch (error) {
    run.error = `${phase}: ${(error as Error).message}`;
    log(`\nstopped in phase '${phase}': ${(error as Error).message}`);
  } finally {
    guard.onLow = () => {};
    run.shutdown = await shutdownCluster(server, loads, workerPids, opened, CLOSE_MS);
  }
  run.stoppedEarly = guard.reason;
  run.lowestMemAvailable = guard.lowest;
  run.finished = new Date().toISOString();
  report(run);
  restoreSysctls();
  if (guard.tripped) process.exitCode = 2;
}

function report(run: Record<string, unknown>): void {
  const path = appendRun('million', run, args);
  type R = {
    ramp?: {
      opened: number;
      ms: number;
      perSecond: number;
      failed: number;
      serverCpuUsPerConn: number;
      loadCpuUsPerConn: number;
    };
    memory?: {
      afterHold: ServerMemory;
      top: ServerMemory;
      empty: ServerMemory;
      afterForcedGc: ServerMemory;
      insidePerConn: InsideMemory['perConn'];
      outsideIdleSeconds: number;
      kernelSlabPerConn: number;
      kernelSUnreclaimPerConn: number;
      loadRss: number;
      loadRssPerConn: number;
    };
    hold?: Record<string, number>;
    verify?: {
      allOpen: boolean;
      clientOpen: number;
      serverConnections: number;
      echo: { ok: number; sent: number };
      spread: { min: number; max: number };
    };
    shutdown?: { graceful: boolean; received1001: number; ms: number };
  };
  const r = run as R;
  const m = r.memory;
  const kb = (b: number | undefined): string => (b === undefined ? '-' : `${(b / 1024).toFixed(2)} KiB`);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  printTable(
    ['measure', 'value'],
    [
      [
        'connections established / held',
        r.ramp === undefined
          ? '-'
          : `${r.ramp.opened} / ${r.verify?.clientOpen ?? '-'} (server ${r.verify?.serverConnections ?? '-'})`,
      ],
      [
        'ramp',
        r.ramp === undefined
          ? '-'
          : `${(r.ramp.ms / 1000).toFixed(1)} s, ${r.ramp.perSecond.toFixed(0)}/s, ${r.ramp.failed} errors; CPU/conn server ${r.ramp.serverCpuUsPerConn.toFixed(0)} µs, load ${r.ramp.loadCpuUsPerConn.toFixed(0)} µs`,
      ],
      [
        'server PSS after the hold (all workers)',
        m === undefined ? '-' : `${gib(m.afterHold.workers.pss)} (+${kb(m.afterHold.perConn?.pss)}/conn over empty)`,
      ],
      [
        'server RSS / private / shared',
        m === undefined
          ? '-'
          : `${gib(m.afterHold.workers.rss)} / ${gib(m.afterHold.workers.private)} / ${gib(m.afterHold.workers.shared)}`,
      ],
      [
        'outside per connection after the hold',
        m === undefined
          ? '-'
          : `${m.outsideIdleSeconds.toFixed(0)} s idle: RSS +${kb(m.afterHold.perConn?.rss)}, private +${kb(m.afterHold.perConn?.private)} (3 s after the ramp: RSS +${kb(m.top.perConn?.rss)})`,
      ],
      [
        'inside per connection (forced GCs)',
        m === undefined
          ? '-'
          : `heap +${m.insidePerConn!.heapUsed.toFixed(0)} B, external +${m.insidePerConn!.external.toFixed(0)} B; then RSS +${kb(m.afterForcedGc.perConn?.rss)}`,
      ],
      [
        'fixed per worker (empty cluster)',
        m === undefined
          ? '-'
          : `PSS ${mib(m.empty.perWorker.pss)}, RSS ${mib(m.empty.perWorker.rss)}, private ${mib(m.empty.perWorker.private)}`,
      ],
      [
        'kernel per connection (both ends)',
        m === undefined ? '-' : `slab ${kb(m.kernelSlabPerConn)}, SUnreclaim ${kb(m.kernelSUnreclaimPerConn)}`,
      ],
      ['load generator RSS', m === undefined ? '-' : `${gib(m.loadRss)}, ${kb(m.loadRssPerConn)}/conn`],
      [
        'hold CPU (server / load)',
        r.hold === undefined
          ? '-'
          : `${r.hold.serverCpuPerSecond!.toFixed(0)} / ${r.hold.loadCpuPerSecond!.toFixed(0)} ms/s over ${r.hold.seconds!.toFixed(0)} s; machine ${(100 * r.hold.machineBusy!).toFixed(1)}% busy`,
      ],
      ['heartbeat pings in hold', r.hold === undefined ? '-' : String(r.hold.pingsSent)],
      [
        'all open / sample echo',
        r.verify === undefined ? '-' : `${r.verify.allOpen ? 'yes' : 'NO'} / ${r.verify.echo.ok}/${r.verify.echo.sent}`,
      ],
      ['per worker min / max', r.verify === undefined ? '-' : `${r.verify.spread.min} / ${r.verify.spread.max}`],
      [
        'shutdown',
        r.shutdown === undefined
          ? '-'
          : `${r.shutdown.graceful ? 'graceful' : 'NOT graceful'}: ${r.shutdown.received1001} received 1001, ${(r.shutdown.ms / 1000).toFixed(1)} s`,
      ],
      ['stopped early', (run.stoppedEarly ?? run.error ?? 'no') as string],
    ],
  );
  log(`appended to ${path}`);
}

await main();
process.exit();
