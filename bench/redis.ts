/**
 * Topics across servers through Redis: lightws (lightws/redis) against socket.io with
 * @socket.io/redis-adapter, in the same run, on one real redis-server.
 *
 *   npm run bench:redis -- [--subscribers 10000] [--rate 1] [--window 1] [--seconds 10]
 *        [--runs 3] [--size 64] [--kinds lightws,socketio]
 *
 * Per system: 2 server processes (servers/redis-rooms.ts), each with --subscribers subscribers
 * of one topic held by its own load process (load/room-clients.ts --role sub: lightws's client,
 * or socket.io-client), and one publisher process with a publisher connection on each server.
 * Both systems are held at once; their windows are taken in turn, the order rotated each run.
 * Two phases per window: `rate`, each publisher at --rate messages/s (open loop), then `flat`,
 * each publisher with --window messages in flight, the next one sent when one has reached every
 * subscriber on both servers (closed loop: as fast as the system delivers).
 *
 * Measured per window: deliveries/s (all subscribers, both servers); end-to-end latency of each
 * message, publish → its last delivery anywhere (the last one is always a remote one here), on a
 * shared clock corrected by IPC ping-pong; server CPU (both processes, from /proc) per delivery
 * and deliveries per server CPU-second; Redis CPU. Results: bench/out/redis.json (--publish:
 * bench/results/redis.json, see lib/results.ts).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { startRedis } from '../test/support/redis-server.js';
import { IpcChild, killOnExit } from './lib/children.js';
import { formatRatio, printTable } from './lib/format.js';
import { cpuMs, processCpuUs } from './lib/proc.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { median, percentile } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { clockOffset, sleep } from './lib/time.js';
import type { RoomLoadCommand, RoomLoadReport } from './load/room-clients.js';
import type { RoomsCommand, RoomsReport } from './servers/redis-rooms.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    subscribers: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1' },
    window: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    size: { type: 'string', default: '64' },
    kinds: { type: 'string', default: 'lightws,socketio' },
  },
});
const SUBS = Number(args.subscribers);
const RATE = Number(args.rate);
const WINDOW = Number(args.window);
const SECONDS = Number(args.seconds);
const RUNS = Number(args.runs);
const SIZE = Number(args.size);
const KINDS = args.kinds.split(',').filter(Boolean);
for (const k of KINDS)
  if (k !== 'lightws' && k !== 'socketio') throw new RangeError(`--kinds: lightws, socketio; not ${k}`);
if (!(SUBS > 0 && SUBS <= 19_900))
  throw new RangeError('--subscribers: 1 to 19,900 (one load process per server holds them)');
const LABEL: Record<string, string> = { lightws: 'lightws', socketio: 'socket.io + redis-adapter' };

type Load = IpcChild<RoomLoadCommand, RoomLoadReport> & { offset: number };
interface System {
  kind: string;
  servers: IpcChild<RoomsCommand, RoomsReport>[];
  subs: Load[];
  pub: Load;
  onDone: ((key: number, at: number) => void) | null;
}

function load(name: string, argv: string[]): Load {
  return Object.assign(
    new IpcChild<RoomLoadCommand, RoomLoadReport>(name, join(here, 'load', 'room-clients.js'), argv),
    { offset: 0 },
  );
}

async function hold(kind: string, redisUrl: string): Promise<System> {
  const servers = [0, 1].map(
    (i) =>
      new IpcChild<RoomsCommand, RoomsReport>(`${kind} server ${i}`, join(here, 'servers', 'redis-rooms.js'), [
        '--kind',
        kind,
        '--redis',
        redisUrl,
      ]),
  );
  const ports = (await Promise.all(servers.map((s) => s.next('ready', 20_000)))).map((r) => String(r.port));
  const subs = ports.map((port, i) =>
    load(`${kind} subscribers ${i}`, [
      '--role',
      'sub',
      '--kind',
      kind,
      '--port',
      port,
      '--connections',
      String(SUBS),
      '--size',
      String(SIZE),
    ]),
  );
  const pub = load(`${kind} publishers`, [
    '--role',
    'pub',
    '--kind',
    kind,
    '--ports',
    ports.join(','),
    '--size',
    String(SIZE),
  ]);
  await Promise.all([...subs, pub].map((l) => l.next('ready', 15_000)));
  const t0 = performance.now();
  const connected = await Promise.all([...subs, pub].map((l) => l.ask({ type: 'connect' }, 'connected', 300_000)));
  status(
    `${LABEL[kind]}: ${connected.slice(0, 2).reduce((s, c) => s + c.open, 0)} subscribers on 2 servers in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    true,
  );
  for (const l of [...subs, pub])
    l.offset = (await clockOffset(async () => (await l.ask({ type: 'ping' }, 'pong', 5_000)).at)).offset;
  const system: System = { kind, servers, subs, pub, onDone: null };
  for (const sub of subs) sub.onEach('done', (r) => system.onDone?.(r.key, r.at - sub.offset));
  return system;
}

interface Sample {
  kind: string;
  mode: 'rate' | 'flat';
  run: number;
  seconds: number;
  messages: number;
  delivered: number;
  lost: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMs: number;
  cpuUsPerDelivery: number;
  userUsPerDelivery: number;
  deliveriesPerCpuSec: number;
  redisCpuMsPerSec: number;
  redisUsPerMessage: number;
}

/** User CPU alone (JavaScript, framing; the rest is the kernel's write path), ms. */
function userMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (processCpuUs(pid)?.user ?? 0), 0) / 1000;
}

async function window(sys: System, mode: 'rate' | 'flat', run: number, redisPid: number): Promise<Sample> {
  const lastAt = new Map<number, { n: number; at: number }>();
  sys.onDone = (key, at) => {
    const e = lastAt.get(key) ?? { n: 0, at: 0 };
    e.n++;
    e.at = Math.max(e.at, at);
    lastAt.set(key, e);
    if (e.n === sys.subs.length && mode === 'flat') sys.pub.send({ type: 'ack', key });
  };
  await Promise.all([...sys.subs, sys.pub].map((l) => l.ask({ type: 'mark' }, 'marked', 10_000)));
  const serverPids = sys.servers.map((s) => s.pid);
  const [cpu0, user0, redis0, t0] = [cpuMs(serverPids), userMs(serverPids), cpuMs([redisPid]), performance.now()];
  await sys.pub.ask(
    mode === 'rate'
      ? { type: 'rate', perSec: RATE, seconds: SECONDS }
      : { type: 'flat', window: WINDOW, seconds: SECONDS },
    'published',
    SECONDS * 1000 + 60_000,
  );
  const sent = await sys.pub.ask({ type: 'report' }, 'report', 10_000);
  // What is still on its way gets up to 5 s to arrive; the window ends when the last has.
  for (let t = 0; t < 500 && sent.keys.some((k) => (lastAt.get(k)?.n ?? 0) < sys.subs.length); t++) await sleep(10);
  const [cpu1, user1, redis1, t1] = [cpuMs(serverPids), userMs(serverPids), cpuMs([redisPid]), performance.now()];
  sys.onDone = null;
  const reports = await Promise.all(sys.subs.map((s) => s.ask({ type: 'report' }, 'report', 10_000)));
  const seconds = (t1 - t0) / 1000;
  const latencies: number[] = [];
  let lost = 0;
  sent.keys.forEach((key, i) => {
    const e = lastAt.get(key);
    if (e === undefined || e.n < sys.subs.length) lost++;
    else latencies.push(e.at - (sent.sentAt[i]! - sys.pub.offset));
  });
  const delivered = reports.reduce((s, r) => s + r.deliveries, 0);
  const serverCpuMs = cpu1 - cpu0;
  return {
    kind: sys.kind,
    mode,
    run,
    seconds,
    messages: sent.keys.length,
    delivered,
    lost,
    deliveriesPerSec: delivered / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    serverCpuMs,
    cpuUsPerDelivery: (serverCpuMs * 1000) / delivered,
    userUsPerDelivery: ((user1 - user0) * 1000) / delivered,
    deliveriesPerCpuSec: delivered / (serverCpuMs / 1000),
    redisCpuMsPerSec: (redis1 - redis0) / seconds,
    redisUsPerMessage: ((redis1 - redis0) * 1000) / Math.max(1, sent.keys.length),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  killOnExit(redis.pid);
  const systems: System[] = [];
  const samples: Sample[] = [];
  try {
    for (const kind of KINDS) {
      status(`${LABEL[kind]}: starting 2 servers, ${2 * SUBS} subscribers, 2 publishers`);
      systems.push(await hold(kind, redis.url));
    }
    for (const sys of systems) {
      status(`${LABEL[sys.kind]}: warm-up`);
      await windowWarmup(sys, redis.pid);
    }
    for (let run = 1; run <= RUNS; run++) {
      for (let j = 0; j < systems.length; j++) {
        const sys = systems[(j + run - 1) % systems.length]!;
        for (const mode of ['rate', 'flat'] as const) {
          status(`run ${run}/${RUNS} ${LABEL[sys.kind]} ${mode}: ${SECONDS} s`);
          const s = await window(sys, mode, run, redis.pid);
          samples.push(s);
          status(
            `run ${run}/${RUNS} ${LABEL[sys.kind]} ${mode}: ${s.deliveriesPerSec.toFixed(0)} deliveries/s, p99 ${s.p99Ms.toFixed(1)} ms, ${s.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery, lost ${s.lost}`,
            true,
          );
        }
      }
    }
  } finally {
    for (const sys of systems) {
      await Promise.all(
        [...sys.subs, sys.pub].map((l) => l.ask({ type: 'quit' }, 'quitted', 30_000).catch(() => null)),
      );
      await Promise.all(sys.servers.map((s) => s.ask({ type: 'quit' }, 'quitted', 10_000).catch(() => null)));
      await Promise.all([...sys.subs, sys.pub, ...sys.servers].map((c) => c.stop(5_000)));
    }
    await redis.stop();
  }
  status('', false);

  const FIELDS = [
    'deliveriesPerSec',
    'p50Ms',
    'p99Ms',
    'cpuUsPerDelivery',
    'userUsPerDelivery',
    'deliveriesPerCpuSec',
    'redisCpuMsPerSec',
    'redisUsPerMessage',
  ] as const;
  const summary = KINDS.flatMap((kind) =>
    (['rate', 'flat'] as const).map((mode) => {
      const mine = samples.filter((s) => s.kind === kind && s.mode === mode);
      return {
        kind,
        mode,
        runs: mine.length,
        lost: mine.reduce((n, s) => n + s.lost, 0),
        ...(Object.fromEntries(FIELDS.map((f) => [f, median(mine.map((s) => s[f]))])) as Record<
          (typeof FIELDS)[number],
          number
        >),
      };
    }),
  );
  const ref = (mode: string) => summary.find((r) => r.kind === 'socketio' && r.mode === mode);
  console.log(
    `\nTopics across 2 servers through one redis-server: ${SUBS} subscribers per server, ${SIZE} B text messages, 2 publishers (one per server).`,
  );
  console.log(
    `rate = ${RATE} messages/s per publisher; flat = ${WINDOW} in flight per publisher, the next when one has reached everyone. ${SECONDS} s windows, medians of ${RUNS} runs.`,
  );
  console.log(
    'latency = publish → last delivery anywhere (a remote one). CPU = both server processes, /proc (10 ms ticks: Redis CPU is coarse).',
  );
  console.log(
    'user = the user-space part (JavaScript, framing); the rest is the kernel, mostly one write(2) per delivery. ÷sio = ratio to socket.io (higher is better for lightws).\n',
  );
  printTable(
    [
      'system',
      'phase',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'server µs/delivery',
      'of which user',
      'deliveries/server CPU-s',
      'Redis CPU ms/s',
      'lost',
      '÷sio deliv/CPU-s',
      '÷sio p99',
    ],
    summary.map((r) => {
      const s = ref(r.mode);
      const mine = r.kind === 'socketio' || s === undefined;
      return [
        LABEL[r.kind]!,
        r.mode,
        r.deliveriesPerSec.toFixed(0),
        r.p50Ms.toFixed(1),
        r.p99Ms.toFixed(1),
        r.cpuUsPerDelivery.toFixed(2),
        r.userUsPerDelivery.toFixed(2),
        r.deliveriesPerCpuSec.toFixed(0),
        r.redisCpuMsPerSec.toFixed(1),
        String(r.lost),
        mine ? '-' : formatRatio(r.deliveriesPerCpuSec / s.deliveriesPerCpuSec),
        mine ? '-' : formatRatio(s.p99Ms / r.p99Ms),
      ];
    }),
  );
  const written = writeResults(
    'redis',
    {
      config: {
        subscribersPerServer: SUBS,
        servers: 2,
        ratePerPublisher: RATE,
        window: WINDOW,
        seconds: SECONDS,
        runs: RUNS,
        size: SIZE,
        kinds: KINDS,
        versions: {
          redisServer: redisVersion(),
          ioredis: packageVersion('ioredis'),
          socketio: packageVersion('socket.io'),
          redisAdapter: packageVersion('@socket.io/redis-adapter'),
          socketioClient: packageVersion('socket.io-client'),
        },
      },
      method:
        'latency = last delivery (max over both subscriber processes, clocks corrected by IPC ping-pong) − publish time in the publisher process; CPU = utime+stime of both server processes (or redis-server) from /proc over the window, which ends when every message sent has arrived (or 5 s after the last publish).',
      summary,
      samples,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(`\n${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`);
}

/** A flat-out window, not kept: JIT and buffers warm before the first measured one. */
async function windowWarmup(sys: System, redisPid: number): Promise<void> {
  await window(sys, 'flat', 0, redisPid);
}

function redisVersion(): string {
  return /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
}

main().catch((error: unknown) => die('bench:redis failed', error));
