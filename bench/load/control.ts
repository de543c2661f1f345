/**
 * What bench/echo.ts and bench/handshake.ts share with their load processes
 * (load/echo-clients.ts, load/handshake-clients.ts):
 *
 * - the IPC protocol: connect → start → mark → report → stop, every command
 *   answered by a report of the same name;
 * - the latency histogram they fill (lib/histogram.ts);
 * - source addresses and ports: every connection of a run gets an (address,
 *   port) never used before in that run, so TIME_WAITs left by earlier rounds
 *   never collide, and the kernel's slow port-0 search is never used;
 * - the orchestrator's two kinds of children: benchmark servers (JSON lines
 *   on stdin/stdout, see bench/servers/protocol.ts) and forked load
 *   processes (IPC). Every child is killed if the orchestrator dies.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processCpuUs } from '../lib/proc.js';

/** Orchestrator → load process. */
export type LoadCommand =
  | { type: 'connect' }
  | { type: 'start' }
  /** Start of the measured window: counters and histogram reset. */
  | { type: 'mark' }
  /** End of the measured window: what happened since `mark`. */
  | { type: 'report' }
  /** Stop sending/connecting, drain, close everything; the process then exits. */
  | { type: 'stop' };

export interface WindowReport {
  type: 'report';
  /** Wall time since `mark`. */
  ms: number;
  /** Operations completed in the window: echoes received, or upgrades done. */
  count: number;
  /** Latency histogram of those operations (see bucketOf). */
  hist: number[];
  /** This load process's CPU in the window, µs. */
  cpuUser: number;
  cpuSystem: number;
  /** Kind-specific counters (sent, skipped, failed, ...). */
  extra: Record<string, number>;
}

/** Load process → orchestrator. */
export type LoadReport =
  | { type: 'ready' }
  | { type: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }
  | { type: 'started' }
  | { type: 'marked' }
  | WindowReport
  | { type: 'stopped'; extra: Record<string, number>; errors: Record<string, number> };

// ---- source addresses -------------------------------------------------------------------------

/**
 * Hands out (address, port) pairs from 127.<a>.<b>.1..254, ports 1024..65535 on each: ~16M per
 * load process per round. The orchestrator gives each (round, load process) its own block.
 */
export class SourcePorts {
  private host = 1;
  private port = 1024;
  constructor(private readonly prefix: string) {}
  next(): { localAddress: string; localPort: number } {
    if (this.port > 65_535) {
      this.port = 1024;
      if (++this.host > 254) throw new Error(`source addresses ${this.prefix}.* exhausted`);
    }
    return { localAddress: `${this.prefix}.${this.host}`, localPort: this.port++ };
  }
}

/** Picked once per orchestrator run: a fresh 127.<a>.*.* region, away from other benchmarks' blocks. */
const RUN_OCTET = 16 + Math.floor(Math.random() * 224);
/** The '127.a.b' block of the index-th (round, load process) of this run. */
export function sourceBlock(index: number): string {
  return `127.${(RUN_OCTET + (index >> 8)) % 256}.${index & 255}`;
}

/** Resolves once the report is handed to the IPC channel, so exiting right after does not lose it. */
export function report(r: LoadReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(r, undefined, {}, () => resolve());
  });
}

// ---- orchestrator side ------------------------------------------------------------------------

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Waits for the child to exit by itself, then SIGKILLs it. */
async function reap(proc: ChildProcess, timeoutMs: number): Promise<void> {
  if (exited(proc)) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  await gone;
  clearTimeout(timer);
}

/** A forked load process: replies awaited by type, with a deadline. */
export class LoadChild {
  readonly proc: ChildProcess;
  private inbox: LoadReport[] = [];
  private waiters: { type: string; resolve: (r: LoadReport) => void; reject: (e: Error) => void }[] = [];
  constructor(readonly name: string, script: string, argv: string[]) {
    this.proc = fork(script, argv, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.add(this.proc);
    this.proc.on('message', (r: LoadReport) => {
      const i = this.waiters.findIndex((w) => w.type === r.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(r);
      else this.inbox.push(r);
    });
    this.proc.on('exit', (code, signal) => {
      children.delete(this.proc);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${code ?? signal}) while we waited for '${w.type}'`));
    });
  }
  /** Sends `cmd` and waits for the report of the same type. */
  ask<T extends LoadReport['type']>(cmd: LoadCommand | null, type: T, timeoutMs: number): Promise<Extract<LoadReport, { type: T }>> {
    if (cmd !== null && this.proc.connected) this.proc.send(cmd);
    const i = this.inbox.findIndex((r) => r.type === type);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Extract<LoadReport, { type: T }>);
    if (exited(this.proc)) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve: (r: LoadReport) => { clearTimeout(timer); resolve(r as Extract<LoadReport, { type: T }>); }, reject };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
  stop(timeoutMs: number): Promise<void> { return reap(this.proc, timeoutMs); }
}

export interface ServerReady { ready: true; port: number; native: boolean; pid: number; [key: string]: unknown }
export interface ServerStats { connections: number; rss: number; heapUsed: number; cpuUser: number; cpuSystem: number }

/** A benchmark server process (bench/servers/<kind>.js): one JSON line per command, in order. */
export class ServerChild {
  readonly proc: ChildProcess;
  private lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  constructor(readonly name: string, script: string, argv: string[], nodeArgs: string[] = []) {
    this.proc = spawn(process.execPath, [...nodeArgs, script, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.add(this.proc);
    this.proc.on('exit', () => children.delete(this.proc));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w !== undefined) w(line); else this.lines.push(line);
    });
  }
  private nextLine(timeoutMs: number): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const onExit = (): void => { clearTimeout(timer); reject(new Error(`${this.name} exited`)); };
      const timer = setTimeout(() => { this.proc.off('exit', onExit); reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
      this.proc.once('exit', onExit);
      this.waiters.push((l) => { clearTimeout(timer); this.proc.off('exit', onExit); resolve(l); });
    });
  }
  ready(timeoutMs = 15_000): Promise<ServerReady> {
    return this.nextLine(timeoutMs).then((l) => JSON.parse(l) as ServerReady);
  }
  async stats(): Promise<ServerStats> {
    this.proc.stdin!.write('stats\n');
    return JSON.parse(await this.nextLine(10_000)) as ServerStats;
  }
  /**
   * The process's user+system CPU in µs, read from /proc by us rather than asked for: the answer
   * is the CPU at this instant, not whenever a busy server gets round to a `stats` line (seconds
   * late on an overloaded machine, which skewed its window against the load's). Falls back to
   * `stats` off Linux.
   */
  async cpu(): Promise<{ user: number; system: number }> {
    const cpu = processCpuUs(this.proc.pid ?? 0);
    if (cpu !== null) return cpu;
    const s = await this.stats();
    return { user: s.cpuUser, system: s.cpuSystem };
  }
  /** `close`, then a bounded wait for the exit. */
  async stop(): Promise<void> {
    if (!exited(this.proc) && this.proc.stdin!.writable) this.proc.stdin!.end('close\n');
    await reap(this.proc, 8_000);
  }
}

/** The benchmark servers (bench/servers/*.ts): script and arguments. */
export const SERVERS: Record<string, { script: string; argv: string[]; label: string }> = {
  handle: { script: 'lightws.js', argv: ['--transport', 'handle'], label: 'lightws handle' },
  socket: { script: 'lightws.js', argv: ['--transport', 'socket'], label: 'lightws socket' },
  ws: { script: 'ws.js', argv: [], label: 'ws' },
  uws: { script: 'uws.js', argv: [], label: 'uWS.js' },
};

export function serverScript(kind: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'servers', SERVERS[kind]!.script);
}

/** Is uWS's native binary there? If not, uWS is left out, loudly: the package's JS fallback is not uWS. */
export async function probeUws(): Promise<{ native: boolean; note: string }> {
  const server = new ServerChild('uws probe', serverScript('uws'), ['--port', '0', '--mode', 'echo']);
  try {
    const ready = await server.ready();
    return ready.native
      ? { native: true, note: `uWS.js native binary loaded (${String(ready['binary']).replace(/.*node_modules[\\/]/, '')})` }
      : { native: false, note: `uWS.js SKIPPED: its native binary did not load (${String(ready['nativeError'])}); the package's JS fallback is not uWS` };
  } catch (error) {
    return { native: false, note: `uWS.js SKIPPED: the server failed to start (${(error as Error).message})` };
  } finally {
    await server.stop();
  }
}

/** Counts an error by its code (EADDRINUSE, ECONNREFUSED, ...) or message. */
export function countError(errors: Record<string, number>, error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const key = typeof e?.code === 'string' ? e.code : String(e?.message ?? error).slice(0, 80);
  errors[key] = (errors[key] ?? 0) + 1;
  return key;
}
