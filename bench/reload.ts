/**
 * Zero-downtime reload (#22), up to a million connections: a lightws cluster
 * (servers/million-cluster.ts: `--workers` W, handle transport, echo, heartbeats) holds N connections
 * from raw-handle load processes (load/million-clients.ts, ≤ --per-process each), ramped as
 * bench:million ramps them (--active processes at a time, --in-flight connects each); a --sample of
 * them, spread over every load process, each keeps one sequence-numbered message in flight (the next
 * --interval ms after the echo of the last), and one connection publishes a numbered message every
 * --publish-interval ms to --subscribers others (through the primary's topic relay), while
 * primary.reload() replaces every worker by a successor that adopts its connections. Reports what
 * the reload returned (moved, closed 1012, kept, failed workers), its whole time, the peers' closes,
 * echoes that came back wrong (lost, duplicated or reordered) or never, publishes lost or out of
 * order, each echoing connection's longest wait (p50/p99/max: the stall a moved connection saw), the server processes' CPU during the reload beyond the echoes' own rate
 * before it, per moved connection (/proc, every 250 ms, successors found as they start), and their
 * memory (RSS and PSS, the primary with the workers) before and after. A worker that reaches --fill
 * stops accepting (the open-files cap is 20,000 per process): a connect it refuses is retried from
 * another source, and is no disconnect (only a connection that was open and closed counts).
 *
 * --drain measures the status quo instead: `lightws echo` (the CLI) holding N connections from
 * --clients lightws client processes (load/reload-clients.ts, every --echo-th echoing), SIGTERM
 * (every connection closed with 1001), a new server on the same port once the old one exits, every
 * client reconnecting (each every 100 ms until it gets in); the time until all are back, and the
 * servers' CPU meanwhile, per connection.
 *
 * Each run is appended to reload.json (bench/out; bench/results with --publish), with the load average.
 * Every process is stopped at the end, also after a failure or Ctrl-C. Stops early (and closes
 * everything) if MemAvailable falls below --min-available GiB.
 *
 *   npm run bench:reload -- [--connections 10000] [--workers ceil(N/19000)] [--sample 1000] [--interval 50]
 *        [--reload-timeout 120] [--concurrency cores] [--tune-sysctls] [--label L] [--publish]
 *   1M: node dist/bench/reload.js --connections 1000000 --workers 53 --tune-sysctls --label L --publish
 *   npm run bench:reload -- --drain [--connections 10000] [--clients 2] [--workers 1] [--echo 10]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { benchArgs } from './lib/args.js';
import { forgetPid, IpcChild, JsonLinesChild, killChildrenOnExit, killOnExit, track } from './lib/children.js';
import { statsOfEveryWorker, type ClusterStatsLine } from './lib/cluster-stats.js';
import { formatGiB, printTable } from './lib/format.js';
import { checkLimits, restoreSysctls } from './lib/limits.js';
import {
  askServer,
  MemoryGuard,
  rampLoads,
  rampTotals,
  shutdownCluster,
  startLoads,
  type MillionLoad,
} from './lib/million-loads.js';
import { appendRun, RESULTS_OPTIONS } from './lib/results.js';
import { memAvailable, memoryOf, processCpuUs, processTree, type Mem } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { die, status, statusEvery } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { ReloadClientsCommand, ReloadClientsReport } from './load/reload-clients.js';
import { sourceBlock } from './load/sources.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs(import.meta.url, {
  options: {
    connections: { type: 'string', default: '10000' },
    /** Server workers; default ceil(N / 19,000) (a process holds at most 20,000 open files). */
    workers: { type: 'string' },
    /** Connections each load process holds (≤ 19,900). */
    'per-process': { type: 'string', default: '19000' },
    /** Load processes ramping at once, and connects in flight in each. */
    active: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '64' },
    /** A worker holding this many stops accepting (servers/million-cluster.ts); 0 = never. */
    fill: { type: 'string', default: '19500' },
    /** Connections echoing sequence numbers through the reload, in all (spread over the load processes). */
    sample: { type: 'string', default: '1000' },
    /** Milliseconds between an echo and the next message on an echoing connection. */
    interval: { type: 'string', default: '50' },
    /** Connections subscribed to the publish stream, in all; and the milliseconds between its publishes (0: no stream). */
    subscribers: { type: 'string', default: '1000' },
    'publish-interval': { type: 'string', default: '50' },
    /** primary.reload()'s deadline, seconds (for connections not ready to move, and a successor that acknowledges nothing). */
    'reload-timeout': { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '' },
    'ping-interval': { type: 'string', default: '30' },
    'min-available': { type: 'string', default: '3' },
    'tune-sysctls': { type: 'boolean', default: false },
    'reuse-port': { type: 'string', default: 'auto' },
    /** The status quo instead: SIGTERM (a drain, 1001), a new server on the same port once the old exits, every client reconnecting. */
    drain: { type: 'boolean', default: false },
    /** --drain: lightws client processes, and every --echo-th connection echoing. */
    clients: { type: 'string', default: '2' },
    echo: { type: 'string', default: '10' },
    /** Names this run in the results file (e.g. the build measured). */
    label: { type: 'string', default: '' },
    ...RESULTS_OPTIONS,
  },
});
const loadBefore = loadavg();
const n = Number(values.connections);
const PER = Number(values['per-process']);
const workers = Number(values.workers ?? (values.drain ? 1 : Math.ceil(n / 19_000)));
if (!(n > 0)) throw new RangeError('--connections must be positive');
if (!(workers >= 1)) throw new RangeError('--workers must be at least 1');
if (!(PER > 0 && PER <= 19_900)) throw new RangeError('--per-process must be 1..19900 (20,000 open files per process)');
const FILL = Number(values.fill);
if (!values.drain && FILL > 0 && workers * FILL < n)
  throw new RangeError(`${workers} workers × --fill ${FILL} < ${n} connections: more --workers`);
if (!['auto', 'on', 'off'].includes(values['reuse-port'])) throw new RangeError('--reuse-port must be auto, on or off');
const log = (line: string): void => status(line, true);

/** Appended to reload.json (bench/out, or bench/results with --publish): every run is kept, with the machine's load. */
const record = (run: Record<string, unknown>): void => {
  const path = appendRun(
    'reload',
    {
      label: values.label,
      mode: values.drain ? 'drain' : 'reload',
      node: process.version,
      connections: n,
      workers,
      loadAverage: { before: loadBefore, after: loadavg() },
      command: process.argv.slice(2).join(' '),
      ...run,
    },
    values,
  );
  log(`results in ${path}`);
};
const memCell = (before: Mem, after: Mem): string =>
  `RSS ${formatGiB(before.rss)} → ${formatGiB(after.rss)}, PSS ${formatGiB(before.pss)} → ${formatGiB(after.pss)} (${before.processes} → ${after.processes} processes)`;

/**
 * CPU of a changing set of processes (the primary, the old workers, the successors as they appear):
 * each one's at its last reading, so one that exits loses at most a sampling interval of it.
 */
class TreeCpu {
  private readonly used = new Map<number, number>();
  constructor(private readonly root: number) {}
  /** Reads `pids`; with `discover`, the root's whole process tree (a scan of /proc), whose new members are killed at our exit. */
  sample(pids: readonly number[], discover = false): number[] {
    const all = discover ? processTree([this.root]) : [...pids];
    for (const pid of all) {
      if (!this.used.has(pid) && pid !== this.root) killOnExit(pid);
      const cpu = processCpuUs(pid);
      if (cpu !== null) this.used.set(pid, cpu.user + cpu.system);
    }
    return all;
  }
  get totalUs(): number {
    return [...this.used.values()].reduce((s, us) => s + us, 0);
  }
  /** Those of them that have exited are not killed at our exit (their numbers may be reused by then). */
  forgetGone(): void {
    for (const pid of this.used.keys()) if (processCpuUs(pid) === null) forgetPid(pid);
  }
}

async function reload(): Promise<void> {
  const LOADS = Math.ceil(n / PER);
  if (LOADS > 230) throw new RangeError('at most 230 load processes (one 127.x/16 address block each)');
  const SAMPLE = Number(values.sample);
  const INTERVAL = Number(values.interval);
  const RELOAD_TIMEOUT_MS = Number(values['reload-timeout']) * 1000;
  const PING_MS = Number(values['ping-interval']) * 1000;
  const MIN_AVAILABLE = Number(values['min-available']) * 2 ** 30;
  const SALT = Math.floor(Math.random() * 250); // a fresh source-address block per run: earlier runs' TIME_WAITs
  const CLOSE_MS = 30_000 + n * 0.15;
  statusEvery(5000);
  killChildrenOnExit();
  process.on('exit', restoreSysctls);
  log(
    `reload (${process.version}): ${n} connections, ${workers} server workers (fill ${FILL}), ${LOADS} load processes ` +
      `(${Number(values.active)} ramping at once), ${SAMPLE} echoing every ${INTERVAL} ms, reload deadline ${RELOAD_TIMEOUT_MS / 1000} s`,
  );
  const limits = checkLimits(n, PER, LOADS, SALT, values['tune-sysctls']);
  if (memAvailable() < MIN_AVAILABLE + 2 ** 30)
    throw new Error(`MemAvailable is ${formatGiB(memAvailable())}: too close to the safety margin to start`);
  const guard = new MemoryGuard(MIN_AVAILABLE);
  const run: Record<string, unknown> = {
    limits,
    sample: SAMPLE,
    intervalMs: INTERVAL,
    reloadTimeoutMs: RELOAD_TIMEOUT_MS,
    concurrency: values.concurrency === '' ? 'default (the cores)' : Number(values.concurrency),
  };
  const server = new JsonLinesChild('server', join(here, 'servers', 'million-cluster.js'), [
    '--workers',
    String(workers),
    '--ping-interval',
    String(PING_MS),
    '--fill',
    String(FILL),
    '--reuse-port',
    values['reuse-port'],
    '--relay-topics',
  ]);
  const loads: MillionLoad[] = [];
  let workerPids: number[] = [];
  let opened = 0;
  let phase = 'start';
  let table: (string | number)[] | null = null;
  let cpu: TreeCpu | undefined;
  try {
    let t = performance.now();
    const ready = await askServer(server, null, 'ready', 300_000);
    const port = Number(ready.port);
    workerPids = (ready.pids as number[]).filter((p) => typeof p === 'number');
    for (const pid of workerPids) killOnExit(pid);
    run.cluster = { mode: ready.mode, startMs: performance.now() - t };
    log(`cluster up: ${workerPids.length} workers on 127.0.0.1:${port} (${String(ready.mode)})`);

    phase = 'spawn';
    await startLoads(loads, n, PER, port, SALT, () => guard.check());
    phase = 'ramp';
    guard.onLow = () => {
      for (const l of loads) l.send({ type: 'stopRamp' });
    };
    t = performance.now();
    const ramp = rampTotals(
      await rampLoads(loads, n, Number(values.active), Number(values['in-flight']), () => guard.tripped),
    );
    opened = ramp.opened;
    const rampMs = performance.now() - t;
    run.ramp = { ...ramp, ms: rampMs, perSecond: opened / (rampMs / 1000) };
    log(
      `ramp: ${opened} open in ${(rampMs / 1000).toFixed(1)} s (${(opened / (rampMs / 1000)).toFixed(0)}/s), ${ramp.failed} failed, ` +
        `${ramp.retried} attempts retried ${JSON.stringify(ramp.errors)}; MemAvailable ${formatGiB(memAvailable())}`,
    );
    guard.check();
    await guard.wait(2000);
    guard.check();

    // The echoes run; their own CPU rate over a second, then the memory before.
    phase = 'echoes';
    const primary = server.pid;
    const perLoad = Math.max(1, Math.ceil(SAMPLE / LOADS));
    const subscribing = Math.ceil(Number(values.subscribers) / LOADS);
    for (const [i, l] of loads.entries())
      l.send({
        type: 'stream',
        sample: perLoad,
        intervalMs: INTERVAL,
        subscribers: subscribing,
        publishEveryMs: i === 0 ? Number(values['publish-interval']) : 0,
      });
    await guard.wait(1000); // every subscription made, the echoes at their pace
    const tree = new TreeCpu(primary);
    cpu = tree;
    const before = [primary, ...workerPids];
    cpu.sample(before);
    const echoStart = { at: performance.now(), us: cpu.totalUs };
    await guard.wait(1000);
    guard.check();
    cpu.sample(before);
    const memBefore = memoryOf(before);
    const hup = performance.now();
    const hupUs = cpu.totalUs;
    const echoUsPerMs = (hupUs - echoStart.us) / (hup - echoStart.at);

    // The reload: the server's processes sampled every 250 ms, its tree scanned every second (successors).
    phase = 'reload';
    log(`reloading ${workers} workers (${opened} connections, ${perLoad * LOADS} echoing)...`);
    const reloaded = askServer(
      server,
      `reload ${RELOAD_TIMEOUT_MS} ${values.concurrency}`.trimEnd(),
      'reloaded',
      3_600_000,
    );
    let known = before;
    let ticks = 0;
    const sampler = setInterval(() => {
      const discover = ++ticks % 4 === 0;
      known = tree.sample(known, discover);
      if (discover)
        status(
          `reload: ${((performance.now() - hup) / 1000).toFixed(0)} s, ${known.length - 1} worker processes, MemAvailable ${formatGiB(memAvailable())}`,
        );
    }, 250);
    let result: Record<string, unknown>;
    try {
      result = await reloaded;
    } finally {
      clearInterval(sampler);
    }
    const done = performance.now();
    known = cpu.sample(known, true);
    const seconds = (done - hup) / 1000;
    // All of it, and less the echoes' rate before (which a starved server does not keep up through the reload).
    const allUs = cpu.totalUs - hupUs;
    const reloadUs = allUs - echoUsPerMs * (done - hup);
    workerPids = (result.pids as (number | null)[]).filter((p): p is number => typeof p === 'number');
    const moved = Number(result.moved ?? 0);
    const errors = (result.errors as string[] | undefined) ?? (typeof result.error === 'string' ? [result.error] : []);
    const says = `moved ${moved}, closed 1012 ${Number(result.refused ?? 0)}, kept ${Number(result.kept ?? 0)}${errors.length > 0 ? `, ${errors.length} failed` : ''} in ${Number(result.durationMs ?? 0)} ms`;
    log(`reloaded: ${says}${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`);
    await guard.wait(1000);
    const memAfter = memoryOf([primary, ...workerPids]);

    phase = 'verify';
    const streamed = await Promise.all(loads.map((l) => l.ask({ type: 'streamStop' }, 'streamed', 60_000)));
    const verified = await Promise.all(loads.map((l) => l.ask({ type: 'verify' }, 'verified', 60_000)));
    const relay = await askServer(server, 'relay', 'relay', 60_000);
    const stats = await statsOfEveryWorker(
      () => askServer(server, 'stats', 'stats', 60_000) as Promise<ClusterStatsLine>,
      workerPids.length,
    );
    const sum = <T>(list: readonly T[], f: (x: T) => number): number => list.reduce((s, x) => s + f(x), 0);
    const waits = streamed.flatMap((s) => s.longestWaitsMs).sort((a, b) => a - b);
    const closeCodes: Record<string, number> = {};
    for (const v of verified)
      for (const [k, c] of Object.entries(v.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + c;
    const closes = sum(verified, (v) => v.closedByPeer);
    const echo = {
      echoers: sum(streamed, (s) => s.echoers),
      echoes: sum(streamed, (s) => s.echoes),
      wrong: sum(streamed, (s) => s.wrong),
      unanswered: sum(streamed, (s) => s.unanswered),
    };
    // The publish stream: a number a subscriber missed is a gap, or after its last one (the tail).
    const published = sum(streamed, (s) => s.published);
    const lasts = streamed.flatMap((s) => s.lastSeen);
    const gaps = sum(streamed, (s) => s.gaps);
    const tail = lasts.reduce((s, last) => s + (last > 0 ? published - last : 0), 0);
    const publish = {
      published,
      subscribers: lasts.length,
      received: sum(streamed, (s) => s.received),
      lost: gaps + tail,
      lostInGaps: gaps,
      subscribersThatMissedSome: sum(streamed, (s) => s.missing),
      lostAtTheEnd: tail,
      outOfOrder: sum(streamed, (s) => s.outOfOrder),
      silentSubscribers: lasts.filter((last) => last === 0).length,
      // Lost at the end: a few subscribers far behind (their stream stopped), or all of them a little.
      relayDropped: Number(relay.dropped ?? 0),
      relayBufferedBytes: Number(relay.buffered ?? 0),
      subscribersBehindAtTheEnd: lasts.filter((last) => last > 0 && last < published).length,
      furthestBehind: lasts.reduce((most, last) => Math.max(most, last > 0 ? published - last : 0), 0),
    };
    const longestWaitMs = { p50: percentile(waits, 50), p99: percentile(waits, 99), max: waits.at(-1) ?? 0 };
    Object.assign(run, {
      open: opened,
      failedToConnect: ramp.failed,
      reload: result,
      seconds,
      closes,
      closeCodes,
      clientsOpenAfter: sum(verified, (v) => v.open),
      serverConnectionsAfter: stats.connections,
      connectionsPerWorkerAfter: stats.connectionsPerWorker,
      ...echo,
      publish,
      longestWaitMs,
      serverCpuUsPerMoved: reloadUs / Math.max(1, moved),
      serverCpuUsPerMovedAll: allUs / Math.max(1, moved),
      echoesCpuBefore: echoUsPerMs / 1000,
      memoryBefore: memBefore,
      memoryAfter: memAfter,
      lowestMemAvailable: guard.lowest,
    });
    table = [
      opened,
      workers,
      says,
      `${seconds.toFixed(2)} s`,
      closes,
      `${echo.echoers} / ${echo.echoes}`,
      `${echo.wrong} / ${echo.unanswered}`,
      `${longestWaitMs.p50.toFixed(0)} / ${longestWaitMs.p99.toFixed(0)} / ${longestWaitMs.max.toFixed(0)} ms`,
      `${publish.published} × ${publish.subscribers}: ${publish.lost} / ${publish.outOfOrder}${publish.silentSubscribers > 0 ? ` (${publish.silentSubscribers} got none)` : ''}`,
      `${(reloadUs / Math.max(1, moved)).toFixed(0)} µs (${(allUs / Math.max(1, moved)).toFixed(0)} µs)`,
      `${(echoUsPerMs / 10).toFixed(0)} % of a core`,
      memCell(memBefore, memAfter),
    ];
    log(
      `after: clients see ${String(run.clientsOpenAfter)} of ${opened} open, the server ${stats.connections} (per worker ${Math.min(...stats.connectionsPerWorker)}..${Math.max(...stats.connectionsPerWorker)}); close codes ${JSON.stringify(closeCodes)}`,
    );
  } catch (error) {
    run.error = `${phase}: ${(error as Error).message}`;
    log(`\nstopped in phase '${phase}': ${(error as Error).message}`);
  } finally {
    guard.onLow = () => {};
    run.shutdown = await shutdownCluster(server, loads, workerPids, opened, CLOSE_MS);
    cpu?.forgetGone();
  }
  run.stoppedEarly = guard.reason;
  record(run);
  if (table !== null)
    printTable(
      [
        'connections',
        'workers',
        'reload says',
        'reload → done',
        'peers’ closes',
        'echoing / echoes',
        'wrong / unanswered',
        'longest wait p50 / p99 / max',
        'published × subscribers: lost / out of order',
        'server CPU per moved, less the echoes’ rate (all of it)',
        'echoes’ CPU before',
        'server memory before → after',
      ],
      [table],
    );
  restoreSysctls();
  process.exitCode = table === null ? 1 : 0;
}

/** The status quo (--drain): `lightws echo` on `port` (0: a free one), its lines on stdout. */
const startServer = (port: number): ChildProcess =>
  spawn(
    process.execPath,
    [
      join(here, '..', 'src', 'cli', 'main.js'),
      'echo',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--transport',
      'handle',
      '--workers',
      String(workers),
      '--log-level',
      'warn',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );

/** The port in the CLI's start-up line, once it has printed it. */
async function portFrom(lines: readonly string[]): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const address = lines.map((l) => /127\.0\.0\.1:(\d+)/.exec(l)).find((m) => m !== null);
    if (address !== undefined) return Number(address[1]);
    if (Date.now() > deadline) throw new Error(`the server printed no address; got ${JSON.stringify(lines)}`);
    await sleep(10);
  }
}

async function drain(): Promise<void> {
  const clientCount = Number(values.clients);
  const server = track(startServer(0));
  const lines: string[] = [];
  createInterface({ input: server.stdout! }).on('line', (line) => void lines.push(line));
  const port = await portFrom(lines);
  const per = Math.ceil(n / clientCount);
  const clients = Array.from(
    { length: clientCount },
    (_, i) =>
      new IpcChild<ReloadClientsCommand, ReloadClientsReport>(`clients ${i}`, join(here, 'load', 'reload-clients.js'), [
        '--port',
        String(port),
        '--connections',
        String(per),
        '--echo',
        String(values.echo),
        '--source',
        sourceBlock(i),
        '--reconnect',
      ]),
  );
  const connected = await Promise.all(clients.map((c) => c.next('connected', 300_000)));
  const open = connected.reduce((s, c) => s + c.open, 0);
  const failed = connected.reduce((s, c) => s + c.failed, 0);
  log(`${open} connections open (${failed} failed to connect); echoes running; SIGTERM`);
  for (const c of clients) c.send({ type: 'start' });
  // The server's processes (the old ones, the new server's) and each one's CPU at its last reading.
  const cpu = new TreeCpu(server.pid!);
  let known = cpu.sample([], true);
  const echoStart = { at: performance.now(), us: cpu.totalUs };
  await sleep(1000);
  known = cpu.sample(known, true);
  const memBefore = memoryOf(known);
  const hup = performance.now();
  const hupUs = cpu.totalUs;
  const echoUsPerMs = (hupUs - echoStart.us) / (hup - echoStart.at);
  let nextCpu: TreeCpu | null = null;
  const sampler = setInterval(() => {
    known = cpu.sample(known);
    nextCpu?.sample([], true);
  }, 100);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const next = track(startServer(port));
  next.stdout!.resume();
  nextCpu = new TreeCpu(next.pid!);
  for (let back = 0; back < open; await sleep(100)) {
    for (const c of clients) c.send({ type: 'count' });
    const counts = await Promise.all(clients.map((c) => c.next('reopened', 30_000)));
    back = counts.reduce((s, c) => s + c.reopened, 0);
  }
  clearInterval(sampler);
  const nextPids = nextCpu.sample([], true);
  const seconds = (performance.now() - hup) / 1000;
  // Not less the echoes' rate: they stop while their connections are gone.
  const spentUs = cpu.totalUs - hupUs + nextCpu.totalUs;
  await sleep(1000);
  const memAfter = memoryOf(nextPids);
  for (const c of clients) c.send({ type: 'stop' });
  const results = await Promise.all(clients.map((c) => c.next('result', 30_000)));
  cpu.forgetGone();
  const closes = results.reduce((s, r) => s + r.closes, 0);
  record({
    clients: clientCount,
    echoEvery: Number(values.echo),
    open,
    failedToConnect: failed,
    seconds,
    closes,
    serverCpuUsPerConnection: spentUs / Math.max(1, open),
    echoesCpuBefore: echoUsPerMs / 1000,
    memoryBefore: memBefore,
    memoryAfter: memAfter,
  });
  printTable(
    [
      'connections',
      'workers',
      'drain (1001) → all back',
      'peers’ closes',
      'server CPU per connection (all of it)',
      'echoes’ CPU before',
      'server memory before → after',
    ],
    [
      [
        open,
        workers,
        `${seconds.toFixed(2)} s`,
        closes,
        `${(spentUs / Math.max(1, open)).toFixed(0)} µs`,
        `${(echoUsPerMs / 10).toFixed(0)} % of a core`,
        memCell(memBefore, memAfter),
      ],
    ],
  );
}

try {
  await (values.drain ? drain() : reload());
  process.exit();
} catch (error) {
  die('bench:reload', error);
}
