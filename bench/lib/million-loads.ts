/**
 * The pieces bench:million and bench:reload share to hold up to a million connections on this box:
 * the load processes (load/million-clients.ts, raw handles, ≤ 19,900 each) and their ramp, a few at
 * a time; the server's command lines (servers/million-cluster.ts); the MemAvailable guard; and the
 * graceful shutdown that closes every connection with 1001 and counts the Close frames received.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcChild, type JsonLinesChild } from './children.js';
import { formatGiB as gib } from './format.js';
import { memAvailable } from './proc.js';
import { bar, status } from './status.js';
import { sleep } from './time.js';
import type { MillionCommand, MillionReport } from '../load/million-clients.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A load process; its latest progress report is kept for the ramp's progress bar. */
export class MillionLoad extends IpcChild<MillionCommand, MillionReport> {
  progress = { open: 0, failed: 0, inFlight: 0 };
  constructor(index: number, port: number, count: number, salt: number) {
    super(`load ${index}`, join(here, '..', 'load', 'million-clients.js'), [
      '--port',
      String(port),
      '--count',
      String(count),
      '--index',
      String(index),
      '--salt',
      String(salt),
    ]);
    this.onEach('progress', (r) => void (this.progress = r));
  }
}

/**
 * Starts the load processes for `n` connections (≤ `per` each) one after another, each once the
 * last says it is ready, into `loads` (there even when `check` throws halfway: for the shutdown).
 */
export async function startLoads(
  loads: MillionLoad[],
  n: number,
  per: number,
  port: number,
  salt: number,
  check: () => void,
): Promise<void> {
  const count = Math.ceil(n / per);
  for (let i = 0; i < count; i++) {
    check();
    const load = new MillionLoad(i, port, Math.min(per, n - i * per), salt);
    loads.push(load);
    await load.next('ready', 60_000);
    status(`load processes ${bar(i + 1, count, 20)} ${i + 1}/${count}, MemAvailable ${gib(memAvailable())}`);
  }
}

export type Ramped = Extract<MillionReport, { type: 'ramped' }>;

/**
 * Ramps every load process, `active` at a time, each with at most `inFlight` connects outstanding
 * (a few processes with full event batches cost the 2 cores less than 53 with one event each), one
 * progress line for the whole ramp; resolves with their reports.
 */
export async function rampLoads(
  loads: readonly MillionLoad[],
  n: number,
  active: number,
  inFlight: number,
  aborted: () => boolean,
): Promise<Ramped[]> {
  const t0 = performance.now();
  let prevOpen = 0,
    prevT = t0;
  const ticker = setInterval(() => {
    const open = loads.reduce((s, l) => s + l.progress.open, 0);
    const failed = loads.reduce((s, l) => s + l.progress.failed, 0);
    const flying = loads.reduce((s, l) => s + l.progress.inFlight, 0);
    const now = performance.now();
    const rate = ((open - prevOpen) * 1000) / (now - prevT);
    prevOpen = open;
    prevT = now;
    const elapsed = (now - t0) / 1000;
    status(
      `ramp ${bar(open, n, 30)} ${open.toLocaleString('en')}/${n.toLocaleString('en')} open ${((100 * open) / n).toFixed(1)}%, ` +
        `${rate.toFixed(0)}/s now, ${(open / elapsed).toFixed(0)}/s avg, ${flying} in flight, ${failed} failed, ` +
        `MemAvailable ${gib(memAvailable())}, ${elapsed.toFixed(0)} s`,
    );
  }, 500);
  const reports: Ramped[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < loads.length && !aborted())
      reports.push(await loads[next++]!.ask({ type: 'ramp', inFlight }, 'ramped', 3_600_000));
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(loads.length, active)) }, lane));
  } finally {
    clearInterval(ticker);
  }
  return reports;
}

/** The ramp's reports summed: what opened, failed, was retried, and every failed attempt by cause. */
export function rampTotals(ramped: readonly Ramped[]): {
  opened: number;
  failed: number;
  retried: number;
  errors: Record<string, number>;
} {
  const errors: Record<string, number> = {};
  for (const r of ramped) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    opened: ramped.reduce((s, r) => s + r.open, 0),
    failed: ramped.reduce((s, r) => s + r.failed, 0),
    retried: ramped.reduce((s, r) => s + r.retried, 0),
    errors,
  };
}

/** The cluster's primary (servers/million-cluster.ts) answers each command with a line of that `type`. */
export function askServer(
  server: JsonLinesChild,
  command: string | null,
  type: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  if (command !== null) server.write(command);
  return server.nextWhere((line) => line['type'] === type, timeoutMs, `'${type}'`);
}

/**
 * Watches MemAvailable every 250 ms: below `minAvailable` bytes, `reason` says so and `onLow` is
 * called once (stop the load processes connecting), so that a run too large for the machine
 * stops early instead of meeting the OOM killer.
 */
export class MemoryGuard {
  reason: string | null = null;
  lowest = Infinity;
  onLow: () => void = () => {};
  private readonly timer: NodeJS.Timeout;

  constructor(readonly minAvailable: number) {
    this.timer = setInterval(() => {
      const available = memAvailable();
      this.lowest = Math.min(this.lowest, available);
      if (available < minAvailable && this.reason === null) {
        this.reason = `MemAvailable fell to ${gib(available)}, below the safety margin of ${gib(minAvailable)} (--min-available): stopping early`;
        status(`\n*** ${this.reason}`, true);
        this.onLow();
      }
    }, 250);
    this.timer.unref();
  }

  get tripped(): boolean {
    return this.reason !== null;
  }

  /** Throws if the guard stopped the run. */
  check(): void {
    if (this.reason !== null) throw new Error(this.reason);
  }

  /** Waits `ms`, calling `tick` every second, and returns early if the guard stopped the run. */
  async wait(ms: number, tick?: () => void): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end && !this.tripped) {
      await sleep(Math.min(1000, end - Date.now()));
      tick?.();
    }
  }
}

/**
 * The cluster closes every connection (1001) and waits up to `closeMs` for the closing handshakes;
 * then each load process reports the Close frames it received and closes whatever is left; the
 * server, the load processes and `workerPids` are gone when it resolves.
 */
export async function shutdownCluster(
  server: JsonLinesChild,
  loads: readonly MillionLoad[],
  workerPids: readonly number[],
  opened: number,
  closeMs: number,
): Promise<Record<string, unknown>> {
  const t = performance.now();
  status(`shutdown: the cluster closes ${opened.toLocaleString('en')} connections (1001)...`, true);
  const closed = await askServer(server, `close ${Math.round(closeMs)}`, 'closed', closeMs + 30_000).catch(() => null);
  const serverMs = performance.now() - t;
  const quits = await Promise.all(
    loads.map((l) => l.ask({ type: 'quit', waitMs: 10_000 }, 'quitted', 60_000).catch(() => null)),
  );
  await Promise.all(loads.map((l) => l.stop(5000)));
  server.endInput();
  await server.stop(10_000);
  // Workers exit on their own when the primary goes; make sure.
  await sleep(500);
  for (const pid of workerPids)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  const closeCodes: Record<string, number> = {};
  for (const q of quits)
    for (const [k, n] of Object.entries(q?.closeCodes ?? {})) closeCodes[k] = (closeCodes[k] ?? 0) + n;
  const goingAway = quits.map((q) => q?.closeCodes['1001'] ?? 0);
  const received1001 = goingAway.reduce((s, n) => s + n, 0);
  const closedHere = quits.reduce((s, q) => s + (q?.closedHere ?? 0), 0);
  const result = {
    ms: performance.now() - t,
    serverMs,
    server: closed,
    closeCodes,
    received1001,
    received1001PerProcess: goingAway,
    closedByServer: quits.reduce((s, q) => s + (q?.closedByPeer ?? 0), 0),
    closedHere,
    quitFailures: quits.filter((q) => q === null).length,
    graceful:
      opened > 0 && closed !== null && Number(closed.terminated) === 0 && received1001 === opened && closedHere === 0,
  };
  status(
    `shutdown in ${(result.ms / 1000).toFixed(1)} s (the cluster's part ${(serverMs / 1000).toFixed(1)} s): ${received1001.toLocaleString('en')} of ` +
      `${opened.toLocaleString('en')} connections received 1001 ${JSON.stringify(closeCodes)}, server terminated ${closed === null ? '?' : Number(closed.terminated)}, ` +
      `${closedHere} left for the clients to close -> ${result.graceful ? 'graceful' : 'NOT graceful'}`,
    true,
  );
  return result;
}
