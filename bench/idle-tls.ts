/**
 * RSS per idle wss:// connection (TLS 1.3, ECDSA P-256), measured from
 * outside: lightws on node:tls (`tls`) against lightws with the compact
 * record layer (`compact`, issue #23), in the same run, kinds interleaved.
 *
 *   node dist/bench/idle-tls.js [--steps 3000,6000] [--runs 3] [--settle-ms 3000] [--gc]
 *                               [--kinds tls,compact,ws,uws,bun] [--bun PATH] [--cpu] [--echo-messages 3000]
 *                               [--server-node-args=--cpu-prof,--cpu-prof-dir=/tmp/prof] [--publish]
 *
 * --cpu: also the server's CPU (user + system, /proc) per upgrade, over the first step (TLS
 * handshake, upgrade and, for compact, the move), and echo CPU: after the last reading, 100
 * connections echo --echo-messages 32-byte binary messages each, 16 in flight per connection:
 * messages per server CPU-second.
 * --server-node-args: Node flags for the servers Node runs (not Bun's); each server is stopped by
 * closing its stdin, so a --cpu-prof profile is written.
 * Results: bench/out/idle-tls.json (--publish: bench/results/, see lib/results.ts).
 *
 * Kinds: `tls` and `compact` are lightws; `ws` is ws over node:https, `uws` uWebSockets.js
 * SSLApp (native, Node 20 only), `bun` Bun.serve with `tls` (servers/idle-tls-others.ts).
 *
 * Each run is a fresh server process and a fresh client process. At each
 * step the clients hold that many idle connections (all moved, for
 * compact); after --settle-ms the server's VmRSS is read from /proc (no GC
 * forced; with --gc, after full GCs in the server: what is retained, not
 * what is garbage yet, and the JS heap and external memory per connection).
 * Per connection: the slope between the first and
 * the last step.
 * Prints each run and the medians.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { findBun } from './lib/bun.js';
import { cpuMs } from './lib/proc.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    steps: { type: 'string', default: '3000,6000' },
    runs: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '3000' },
    gc: { type: 'boolean', default: false },
    kinds: { type: 'string', default: 'tls,compact' },
    bun: { type: 'string' },
    cpu: { type: 'boolean', default: false },
    'echo-messages': { type: 'string', default: '3000' },
    'server-node-args': { type: 'string', default: '' },
  },
});
const NODE_ARGS = values['server-node-args'].split(',').filter(Boolean);
const started = Date.now();
const loadAtStart = loadavg();
const STEPS = values.steps.split(',').map(Number);
const RUNS = Number(values.runs);
const SETTLE = Number(values['settle-ms']);
const KINDS = values.kinds.split(',');
const BUN = findBun(values.bun);
if (KINDS.includes('bun') && BUN === undefined) throw new Error('no Bun: pass --bun PATH (see bench/lib/bun.ts)');

const dir = mkdtempSync(join(tmpdir(), 'lightws-idle-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
  '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert,
], { stdio: 'ignore' }); // prettier-ignore

/** A child speaking lines: `ask` writes one and waits for the next line starting with `prefix`. */
function lines(child: ChildProcess): { ask(line: string | null, prefix: string): Promise<string> } {
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
  });
  return {
    ask(line, prefix) {
      return new Promise((resolve) => {
        waiting.push({ prefix, resolve });
        if (line !== null) child.stdin!.write(line + '\n');
      });
    },
  };
}

const rss = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Closes the server's stdin (it exits, writing a --cpu-prof profile), killing it after 10 s. */
async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.stdin!.end();
  const timer = setTimeout(() => server.kill(), 10_000);
  await exited;
  clearTimeout(timer);
}

/** With --gc, lightws kinds: [heapUsed, external] after full GCs at each step. */
const heaps: Record<string, [number, number][]> = {};
const ECHO_CONNECTIONS = 100;
const ECHO_MESSAGES = Number(values['echo-messages']);
/** Per kind and run: server CPU µs per upgrade, and echoed messages per server CPU-second. */
const cpu: Record<string, { upgrade: number[]; echo: number[] }> = {};

async function measure(kind: string): Promise<number[]> {
  const flags = values.gc ? ['--expose-gc'] : [];
  const lightws = kind === 'tls' || kind === 'compact';
  const script = join(here, lightws ? 'servers/idle-tls-server.js' : 'servers/idle-tls-others.js');
  const server = spawn(
    kind === 'bun' ? BUN! : process.execPath,
    [
      ...(kind === 'bun' ? [] : NODE_ARGS),
      ...(lightws ? flags : []),
      script,
      '--kind',
      kind,
      '--cert',
      cert,
      '--key',
      key,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const s = lines(server);
  const port = Number((await s.ask(null, 'port ')).split(' ')[1]);
  const client = spawn(process.execPath, [join(here, 'load/idle-tls-clients.js'), '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const c = lines(client);
  const out: number[] = [];
  const spent = cpu[kind] ?? (cpu[kind] = { upgrade: [], echo: [] });
  try {
    let cpuBefore = cpuMs([server.pid!]);
    for (const n of STEPS) {
      const opened = await c.ask(`open ${n}`, 'o');
      if (opened !== `opened ${n}`) throw new Error(opened);
      for (;;) {
        const [, open, moved] = (await s.ask('count', 'count ')).split(' ').map(Number);
        if (open === n && (kind !== 'compact' || moved === n)) break;
        await sleep(100);
      }
      if (n === STEPS[0]) spent.upgrade.push(((cpuMs([server.pid!]) - cpuBefore) * 1000) / n);
      await sleep(SETTLE);
      if (values.gc) {
        const [, , , heapUsed, external] = (await s.ask('gc', 'count ')).split(' ').map(Number);
        if (heapUsed !== undefined && !Number.isNaN(heapUsed)) (heaps[kind] ??= []).push([heapUsed, external!]);
      }
      out.push(rss(server.pid!));
    }
    if (values.cpu) {
      cpuBefore = cpuMs([server.pid!]);
      const echoed = Number((await c.ask(`echo ${ECHO_CONNECTIONS} ${ECHO_MESSAGES}`, 'echoed ')).split(' ')[1]);
      spent.echo.push(echoed / ((cpuMs([server.pid!]) - cpuBefore) / 1000));
    }
  } finally {
    client.kill();
    await stop(server);
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perConnection: Record<string, number[]> = Object.fromEntries(KINDS.map((kind) => [kind, []]));
for (let run = 1; run <= RUNS; run++) {
  for (const kind of KINDS) {
    const samples = await measure(kind);
    const slope = (samples.at(-1)! - samples[0]!) / (STEPS.at(-1)! - STEPS[0]!);
    perConnection[kind]!.push(slope);
    const spent = values.cpu
      ? `; ${Math.round(cpu[kind]!.upgrade.at(-1)!)} µs CPU/upgrade, ${Math.round(cpu[kind]!.echo.at(-1)!)} msg/CPU-s`
      : '';
    console.log(
      `run ${run} ${kind}: RSS ${samples.map((b) => (b / 2 ** 20).toFixed(1) + ' MiB').join(', ')} → ${Math.round(slope)} B/conn${spent}`,
    );
  }
}
for (const [kind, samples] of Object.entries(heaps)) {
  // Consecutive pairs are one run's first and last step.
  const span = STEPS.at(-1)! - STEPS[0]!;
  const per = (i: 0 | 1): number[] =>
    samples
      .filter((_, j) => j % STEPS.length === STEPS.length - 1)
      .map((last, r) => (last[i] - samples[r * STEPS.length]![i]) / span);
  console.log(
    `median ${kind} after full GCs: JS heap ${Math.round(median(per(0)))} B, external ${Math.round(median(per(1)))} B per connection`,
  );
}
for (const kind of KINDS) {
  const spent = values.cpu
    ? `, ${Math.round(median(cpu[kind]!.upgrade))} µs server CPU per upgrade, ${Math.round(median(cpu[kind]!.echo))} echoed messages per server CPU-second`
    : '';
  console.log(`median ${kind}: ${Math.round(median(perConnection[kind]!))} B per idle wss connection${spent}`);
}
const summary = Object.fromEntries(
  KINDS.map((kind) => [
    kind,
    {
      rssPerConnection: median(perConnection[kind]!),
      ...(values.cpu
        ? { cpuUsPerUpgrade: median(cpu[kind]!.upgrade), echoesPerCpuSecond: median(cpu[kind]!.echo) }
        : {}),
    },
  ]),
);
const written = writeResults(
  'idle-tls',
  {
    config: {
      steps: STEPS,
      runs: RUNS,
      settleMs: SETTLE,
      gc: values.gc,
      kinds: KINDS,
      cpu: values.cpu,
      echo: { connections: ECHO_CONNECTIONS, messages: ECHO_MESSAGES, bytes: 32, inFlight: 16 },
      serverNodeArgs: NODE_ARGS,
      ws: packageVersion('ws'),
      uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      bun: BUN === undefined ? null : execFileSync(BUN, ['--version'], { encoding: 'utf8' }).trim(),
      openssl: process.versions.openssl,
    },
    unit: 'RSS bytes per idle connection (slope between the steps); server CPU µs per upgrade; echoed messages per server CPU-second; medians over runs',
    summary,
    runs: { rssPerConnection: perConnection, cpu },
    loadAverage: { start: loadAtStart, end: loadavg() },
    elapsedSec: (Date.now() - started) / 1000,
  },
  values,
);
console.log(
  `load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(1)).join(', ')} at the start, ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')} at the end; results in ${written}`,
);
rmSync(dir, { recursive: true, force: true });
