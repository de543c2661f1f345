/**
 * Zero-downtime reload (#22): `lightws echo` holds N connections from lightws client processes,
 * every `--echo`-th of them keeping a sequence-numbered message in flight; SIGHUP reloads it
 * (one process: server.handover(); --workers W: primary.reload()) while the echoes run. Reports
 * what the server printed (moved, closed 1012, kept, its time), the time from SIGHUP to that
 * line, the peers' closes, echoes that came back wrong (lost, duplicated or reordered), and the
 * echoing connections' longest wait (p50/p99/max: the stall a moved connection saw), the server
 * processes' CPU during the reload beyond the echoes' own rate before it, per moved connection
 * (from /proc, sampled every 100 ms), and their RSS before and after (process count in brackets).
 * --drain measures the status quo the same way: SIGTERM (every connection closed with 1001), a new
 * server on the same port once the old one exits, every client reconnecting (each every 100 ms until
 * it gets in); the time until all are back, and the servers' CPU meanwhile, per connection.
 *
 * Each run is appended to reload.json (bench/out; bench/results with --publish), with the load average.
 *
 *   npm run bench:reload -- [--connections 10000] [--clients 2] [--workers 1] [--echo 10] [--drain] [--label L] [--publish]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild, killOnExit, track } from './lib/children.js';
import { loadavg } from 'node:os';
import { formatGiB, printTable } from './lib/format.js';
import { appendRun, RESULTS_OPTIONS } from './lib/results.js';
import { memoryOf, processCpuUs, processTree } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { ReloadClientsCommand, ReloadClientsReport } from './load/reload-clients.js';
import { sourceBlock } from './load/sources.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs(import.meta.url, {
  options: {
    connections: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    echo: { type: 'string', default: '10' },
    /** The status quo instead: SIGTERM (a drain, 1001), a new server on the same port once the old exits, every client reconnecting. */
    drain: { type: 'boolean', default: false },
    /** Names this run in the results file (e.g. the build measured). */
    label: { type: 'string', default: '' },
    ...RESULTS_OPTIONS,
  },
});
/** Appended to reload.json (bench/out, or bench/results with --publish): every run is kept, with the machine's load. */
const record = (run: Record<string, unknown>): void => {
  const path = appendRun(
    'reload',
    {
      label: values.label,
      mode: values.drain ? 'drain' : 'reload',
      connections: n,
      clients: clientCount,
      workers,
      echoEvery: Number(values.echo),
      loadAverage: { before: loadBefore, after: loadavg() },
      ...run,
    },
    values,
  );
  status(`results in ${path}`, true);
};
const loadBefore = loadavg();
const n = Number(values.connections);
const clientCount = Number(values.clients);
const workers = Number(values.workers);

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
const server = track(startServer(0));
const lines: string[] = [];
createInterface({ input: server.stdout! }).on('line', (line) => void lines.push(line));
const line = async (match: RegExp, ms: number): Promise<string> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = lines.find((l) => match.test(l));
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no line like ${String(match)}; got ${JSON.stringify(lines)}`);
    await sleep(10);
  }
};

try {
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(await line(/127\.0\.0\.1:\d+/, 20_000))![1]);
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
        ...(values.drain ? ['--reconnect'] : []),
      ]),
  );
  const connected = await Promise.all(clients.map((c) => c.next('connected', 300_000)));
  const open = connected.reduce((s, c) => s + (c.type === 'connected' ? c.open : 0), 0);
  const failed = connected.reduce((s, c) => s + (c.type === 'connected' ? c.failed : 0), 0);
  status(
    `${open} connections open (${failed} failed to connect); echoes running; ${values.drain ? 'SIGTERM' : 'SIGHUP'}`,
    true,
  );
  for (const c of clients) c.send({ type: 'start' });
  // The server's processes (the old ones, their successors) and each one's CPU at its last reading: one that
  // exits loses at most a sampling interval of it.
  const known = new Set([server.pid!]);
  const cpu = new Map<number, number>();
  const sample = (): void => {
    for (const pid of processTree([...known])) {
      known.add(pid);
      const used = processCpuUs(pid);
      if (used !== null) cpu.set(pid, used.user + used.system);
    }
  };
  const cpuTotal = (): number => [...cpu.values()].reduce((s, us) => s + us, 0);
  sample();
  const echoStart = { at: performance.now(), us: cpuTotal() };
  await sleep(1000);
  sample();
  const memBefore = memoryOf(processTree([...known]));
  const hup = performance.now();
  const hupUs = cpuTotal();
  // The echoes' own CPU rate before the reload, taken off what the reload window cost.
  const echoUsPerMs = (hupUs - echoStart.us) / (hup - echoStart.at);
  const sampler = setInterval(sample, 100);
  if (values.drain) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    const next = track(startServer(port));
    known.add(next.pid!);
    next.stdout!.resume();
    for (let back = 0; back < open; await sleep(100)) {
      for (const c of clients) c.send({ type: 'count' });
      const counts = await Promise.all(clients.map((c) => c.next('reopened', 30_000)));
      back = counts.reduce((s, c) => s + (c.type === 'reopened' ? c.reopened : 0), 0);
    }
    sample();
    clearInterval(sampler);
    const seconds = (performance.now() - hup) / 1000;
    // Not less the echoes' rate: they stop while their connections are gone.
    const spentUs = cpuTotal() - hupUs;
    await sleep(1000);
    const memAfter = memoryOf(processTree([...known]));
    for (const c of clients) c.send({ type: 'stop' });
    const results = (await Promise.all(clients.map((c) => c.next('result', 30_000)))).flatMap((r) =>
      r.type === 'result' ? [r] : [],
    );
    record({
      open,
      failedToConnect: failed,
      seconds,
      closes: results.reduce((s, r) => s + r.closes, 0),
      serverCpuUsPerConnection: spentUs / Math.max(1, open),
      echoesCpuBefore: echoUsPerMs / 1000,
      rssBefore: memBefore,
      rssAfter: memAfter,
    });
    printTable(
      [
        'connections',
        'workers',
        'drain (1001) → all back',
        'closes',
        'server CPU per connection (all of it)',
        'echoes’ CPU before',
        'server RSS before → after',
      ],
      [
        [
          open,
          workers,
          `${seconds.toFixed(2)} s`,
          results.reduce((s, r) => s + r.closes, 0),
          `${(spentUs / Math.max(1, open)).toFixed(0)} µs`,
          `${(echoUsPerMs / 10).toFixed(0)} % of a core`,
          `${formatGiB(memBefore.rss)} (${memBefore.processes}) → ${formatGiB(memAfter.rss)} (${memAfter.processes})`,
        ],
      ],
    );
    process.exit(0);
  }
  server.kill('SIGHUP');
  const report = await line(/^(handed over|reloaded:|handover failed)/, 300_000);
  sample();
  clearInterval(sampler);
  const done = performance.now();
  const seconds = (done - hup) / 1000;
  const reloadUs = cpuTotal() - hupUs - echoUsPerMs * (done - hup);
  const moved = Number(/moved (\d+)/.exec(report)?.[1] ?? 0);
  for (const pid of [...report.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))) {
    killOnExit(pid);
    known.add(pid);
  }
  await sleep(1000);
  const memAfter = memoryOf(processTree([...known]));
  for (const c of clients) c.send({ type: 'stop' });
  const results = (await Promise.all(clients.map((c) => c.next('result', 30_000)))).flatMap((r) =>
    r.type === 'result' ? [r] : [],
  );
  const waits = results.flatMap((r) => r.longestWaitsMs).sort((a, b) => a - b);
  record({
    open,
    failedToConnect: failed,
    serverSays: report,
    seconds,
    closes: results.reduce((s, r) => s + r.closes, 0),
    echoes: results.reduce((s, r) => s + r.echoes, 0),
    wrong: results.reduce((s, r) => s + r.wrong, 0),
    longestWaitMs: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: waits.at(-1) ?? 0 },
    serverCpuUsPerMoved: reloadUs / Math.max(1, moved),
    echoesCpuBefore: echoUsPerMs / 1000,
    rssBefore: memBefore,
    rssAfter: memAfter,
  });
  printTable(
    [
      'connections',
      'workers',
      'server says',
      'SIGHUP → done',
      'closes',
      'echoes',
      'wrong',
      'longest wait p50 / p99 / max',
      'server CPU per moved (less the echoes’ rate)',
      'echoes’ CPU before',
      'server RSS before → after',
    ],
    [
      [
        open,
        workers,
        report,
        `${seconds.toFixed(2)} s`,
        results.reduce((s, r) => s + r.closes, 0),
        results.reduce((s, r) => s + r.echoes, 0),
        results.reduce((s, r) => s + r.wrong, 0),
        `${percentile(waits, 50).toFixed(0)} / ${percentile(waits, 99).toFixed(0)} / ${(waits.at(-1) ?? 0).toFixed(0)} ms`,
        `${(reloadUs / Math.max(1, moved)).toFixed(0)} µs`,
        `${(echoUsPerMs / 10).toFixed(0)} % of a core`,
        `${formatGiB(memBefore.rss)} (${memBefore.processes}) → ${formatGiB(memAfter.rss)} (${memAfter.processes})`,
      ],
    ],
  );
  process.exit(0);
} catch (error) {
  die('bench:reload', error);
}
