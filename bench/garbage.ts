/**
 * Garbage while echoing: heap growth, GC count and GC time, and bytes allocated per message, while
 * 1M binary messages of 16 B, 1 KiB and 16 KiB are echoed by lightws (handle, socket), ws and
 * uWebSockets.js. The steady state should allocate next to nothing per message.
 *
 *   npm run bench:garbage -- [--messages 1000000] [--sizes 16,1024,16384] [--kinds handle,socket,ws,uws]
 *        [--connections 8] [--pipeline 16] [--warmup 50000] [--runs 1] [--profile handle] [--profile-messages 100000]
 *        [--broadcast-connections 2000] [--broadcasts 20]
 *
 * Each server is its own process, servers/gc-observer.ts under --expose-gc, which measures itself
 * over a window (see there for the method: a PerformanceObserver for GC count/time, and bytes
 * allocated = heap growth + bytes every GC freed, from v8.GCProfiler). A load process
 * (load/garbage-clients.ts) keeps --pipeline messages in flight on each of --connections
 * connections. Per size: --warmup messages unmeasured (JIT, pools and V8's young generation reach
 * their steady size), then the window: a full GC, --messages messages, the report.
 *
 * Then the same window around --broadcasts broadcasts (the server's own broadcast: lightws's
 * framed-once write, ws's loop of send, uWS's publish) to --broadcast-connections connections held
 * by load/broadcast-clients.ts: heap bytes per delivery (0 connections: skipped). The IPC that
 * drives each broadcast is in that window too: a few KB per broadcast, a few B per delivery at
 * 2000 connections (uWS's floor below shows it).
 *
 * --profile <kinds> (default handle; '' for none): after the measured runs, one more pass per size with V8's sampling heap
 * profiler (keeping collected objects), to name the allocation sites; its bytes are estimates,
 * and the profiler slows the server, so this pass is not measured.
 * Results: bench/out/garbage.json (--publish: bench/results/, see lib/results.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { formatBytes, formatRatio, printTable } from './lib/format.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { median } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { BroadcastCommand, BroadcastReport } from './load/broadcast-clients.js';
import type { GarbageCommand, GarbageReport } from './load/garbage-clients.js';
import { sourceBlock } from './load/sources.js';
import type { AllocationSite, ObserverCommand, ObserverReport, WindowStats } from './servers/gc-observer.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    messages: { type: 'string', default: '1000000' },
    sizes: { type: 'string', default: '16,1024,16384' },
    kinds: { type: 'string', default: 'handle,socket,ws,uws' },
    connections: { type: 'string', default: '8' },
    pipeline: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '1' },
    profile: { type: 'string', default: 'handle' },
    'profile-messages': { type: 'string', default: '100000' },
    'profile-interval': { type: 'string', default: '1024' },
    'broadcast-connections': { type: 'string', default: '2000' },
    broadcasts: { type: 'string', default: '20' },
  },
});
const MESSAGES = Number(args.messages);
const SIZES = args.sizes.split(',').map(Number);
const KINDS = args.kinds.split(',');
const PIPELINE = Number(args.pipeline);
const WARMUP = Number(args.warmup);
const RUNS = Number(args.runs);
const PROFILE = args.profile.split(',').filter((k) => k !== '');
const PROFILE_MESSAGES = Number(args['profile-messages']);
const BC_N = Number(args['broadcast-connections']);
const BROADCASTS = Number(args.broadcasts);
type Server = IpcChild<ObserverCommand, ObserverReport>;
type Clients = IpcChild<GarbageCommand, GarbageReport>;

/**
 * A server measuring its own garbage. --no-concurrent-array-buffer-sweeping makes its off-heap
 * sums exact (see servers/gc-observer.ts).
 */
function observer(kind: string, mode: 'echo' | 'broadcast'): Server {
  return new IpcChild(
    `${kind} ${mode} server`,
    join(here, 'servers', 'gc-observer.js'),
    ['--kind', kind, '--mode', mode],
    { execArgv: ['--expose-gc', '--no-concurrent-array-buffer-sweeping'] },
  );
}

/** Echoes `messages` messages; fails loudly if any went missing or came back the wrong size. */
async function echo(
  clients: Clients,
  size: number,
  messages: number,
): Promise<Extract<GarbageReport, { type: 'ran' }>> {
  const ran = await clients.ask({ type: 'run', size, messages, pipeline: PIPELINE }, 'ran', 600_000);
  if (ran.received !== messages || ran.badSize !== 0 || ran.writeErrors !== 0)
    throw new Error(`echo of ${messages} × ${size} B: ${JSON.stringify(ran)}`);
  return ran;
}

interface Measured extends WindowStats {
  kind: string;
  size: number;
  run: number;
  messages: number;
  clientMs: number;
}
interface Sampled {
  kind: string;
  size: number;
  messages: number;
  totalBytesPerMessage: number;
  sites: AllocationSite[];
}

let block = 0;
async function session(
  kind: string,
  run: number,
  notes: string[],
  out: Measured[],
  sampled: Sampled[],
): Promise<{ native: boolean; info: Record<string, unknown> } | null> {
  const server = observer(kind, 'echo');
  let clients: Clients | undefined;
  try {
    const ready = await server.ask(null, 'ready', 15_000);
    if (kind === 'uws' && !ready.native) {
      notes.push(
        `uWS skipped: the native binary did not load (${String(ready.info['nativeError'])}); the package's JS fallback is not uWS.`,
      );
      return null;
    }
    clients = new IpcChild(`${kind} load`, join(here, 'load', 'garbage-clients.js'), [
      '--port',
      String(ready.port),
      '--connections',
      args.connections,
      '--sources',
      `${sourceBlock(block++)}.1`,
    ]);
    await clients.ask(null, 'ready', 15_000);
    const connected = await clients.ask({ type: 'connect' }, 'connected', 30_000);
    if (connected.open !== Number(args.connections))
      throw new Error(`${kind}: ${connected.open} connections opened: ${JSON.stringify(connected.errors)}`);
    for (const size of SIZES) {
      status(`${kind} run ${run} ${formatBytes(size)}: warm-up ${WARMUP}`);
      if (WARMUP > 0) await echo(clients, size, WARMUP);
      await server.ask({ type: 'begin' }, 'begun', 30_000);
      status(`${kind} run ${run} ${formatBytes(size)}: echoing ${MESSAGES}`);
      const ran = await echo(clients, size, MESSAGES);
      const { type: _, ...w } = await server.ask({ type: 'end' }, 'ended', 30_000);
      out.push({ kind, size, run, messages: MESSAGES, clientMs: ran.ms, ...w });
      const per = (x: number): string => (x / MESSAGES).toFixed(1);
      status(
        `${kind.padEnd(6)} run ${run} ${formatBytes(size).padStart(6)}: ${(MESSAGES / (ran.ms / 1000)).toFixed(0)} msg/s, ` +
          `${w.gc.count} GCs (${w.gc.ms.toFixed(1)} ms), heap ${per(w.heapAllocated)} B/msg, external ${per(w.externalAllocated)} B/msg`,
        true,
      );
    }
    if (run === 1 && PROFILE.includes(kind)) {
      for (const size of SIZES) {
        status(`${kind} ${formatBytes(size)}: sampling allocation sites over ${PROFILE_MESSAGES} messages`);
        await server.ask({ type: 'sample-start', intervalBytes: Number(args['profile-interval']) }, 'begun', 30_000);
        await echo(clients, size, PROFILE_MESSAGES);
        const s = await server.ask({ type: 'sample-stop', messages: PROFILE_MESSAGES }, 'sampled', 120_000);
        sampled.push({
          kind,
          size,
          messages: PROFILE_MESSAGES,
          totalBytesPerMessage: s.totalBytes / PROFILE_MESSAGES,
          sites: s.sites,
        });
      }
    }
    return { native: ready.native, info: ready.info };
  } finally {
    if (clients !== undefined) await clients.ask({ type: 'quit' }, 'quitted', 15_000).catch(() => null);
    await server.ask({ type: 'close' }, 'closed', 15_000).catch(() => null);
    await Promise.all([server.stop(5_000), clients?.stop(5_000)]);
  }
}

interface BroadcastWindow extends WindowStats {
  kind: string;
  size: number;
  run: number;
  deliveries: number;
}

/** Heap bytes per broadcast delivery: a broadcast-mode server, BC_N connections, BROADCASTS broadcasts per size. */
async function broadcastSession(kind: string, run: number, out: BroadcastWindow[]): Promise<void> {
  const server = observer(kind, 'broadcast');
  let clients: IpcChild<BroadcastCommand, BroadcastReport> | undefined;
  try {
    const ready = await server.ask(null, 'ready', 15_000);
    clients = new IpcChild(`${kind} broadcast load`, join(here, 'load', 'broadcast-clients.js'), [
      '--port',
      String(ready.port),
      '--connections',
      String(BC_N),
      '--sources',
      `${sourceBlock(block++)}.1`,
    ]);
    await clients.ask(null, 'ready', 15_000);
    const connected = await clients.ask({ type: 'connect' }, 'connected', 60_000);
    if (connected.open !== BC_N) throw new Error(`${kind}: ${connected.open}/${BC_N} connections opened`);
    await sleep(200); // the server counts a connection after the client does
    let id = 0;
    const once = async (size: number): Promise<number> => {
      const c = clients!;
      await c.ask({ type: 'expect', id: ++id, size }, 'armed', 10_000);
      const { sent } = await server.ask({ type: 'broadcast', size }, 'broadcasted', 30_000);
      const done = await c.ask(null, 'done', 30_000);
      if (sent !== BC_N || done.deliveries !== BC_N || done.badSize !== 0)
        throw new Error(`${kind}: broadcast ${size} B sent ${sent}, delivered ${done.deliveries}/${BC_N}`);
      return done.deliveries;
    };
    for (const size of SIZES) {
      status(`${kind} broadcast ${formatBytes(size)} to ${BC_N}`);
      for (let i = 0; i < 10; i++) await once(size); // warm-up
      await server.ask({ type: 'begin' }, 'begun', 30_000);
      let deliveries = 0;
      for (let i = 0; i < BROADCASTS; i++) deliveries += await once(size);
      const { type: _, ...w } = await server.ask({ type: 'end' }, 'ended', 30_000);
      out.push({ kind, size, run, deliveries, ...w });
      status(
        `${kind.padEnd(6)} run ${run} broadcast ${formatBytes(size).padStart(6)} to ${BC_N}: heap ${(w.heapAllocated / deliveries).toFixed(1)} B/delivery, ${w.gc.count} GCs`,
        true,
      );
    }
  } finally {
    if (clients !== undefined) await clients.ask({ type: 'quit' }, 'quitted', 15_000).catch(() => null);
    await server.ask({ type: 'close' }, 'closed', 15_000).catch(() => null);
    await Promise.all([server.stop(5_000), clients?.stop(5_000)]);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const notes: string[] = [];
  const measured: Measured[] = [];
  const sampled: Sampled[] = [];
  const broadcastWindows: BroadcastWindow[] = [];
  const servers: Record<string, { native: boolean; info: Record<string, unknown> }> = {};
  let kinds = [...KINDS];
  for (let run = 1; run <= RUNS; run++) {
    for (const kind of kinds) {
      const s = await session(kind, run, notes, measured, sampled);
      if (s === null) {
        status(notes.at(-1)!, true);
        kinds = kinds.filter((k) => k !== kind);
      } else servers[kind] = s;
    }
    if (BC_N > 0) for (const kind of kinds) await broadcastSession(kind, run, broadcastWindows);
  }
  type Row = {
    kind: string;
    size: number;
    msgsPerSec: number;
    cpuUsPerMsg: number;
    gcPer100k: number;
    gcMsPer100k: number;
    minorPer100k: number;
    majorPer100k: number;
    heapBytesPerMsg: number;
    externalBytesPerMsg: number;
    heapGrowthBytes: number;
    heapEndBytes: number;
    profiledGcPer100k: number;
  };
  const rows: Row[] = [];
  for (const size of SIZES)
    for (const kind of kinds) {
      const mine = measured.filter((m) => m.kind === kind && m.size === size);
      const med = (f: (m: Measured) => number): number => median(mine.map(f));
      const per100k = (x: number, m: Measured): number => (x * 100_000) / m.messages;
      rows.push({
        kind,
        size,
        msgsPerSec: med((m) => m.messages / (m.clientMs / 1000)),
        cpuUsPerMsg: med((m) => m.cpuUs / m.messages),
        gcPer100k: med((m) => per100k(m.gc.count, m)),
        gcMsPer100k: med((m) => per100k(m.gc.ms, m)),
        minorPer100k: med((m) => per100k(m.gc.byKind['minor']?.count ?? 0, m)),
        majorPer100k: med((m) => per100k(m.gc.byKind['major']?.count ?? 0, m)),
        profiledGcPer100k: med((m) => per100k(m.profiled.count, m)),
        heapBytesPerMsg: med((m) => m.heapAllocated / m.messages),
        externalBytesPerMsg: med((m) => m.externalAllocated / m.messages),
        heapGrowthBytes: med((m) => m.heapEndAfterGc - m.heapStart),
        heapEndBytes: med((m) => m.heapEnd - m.heapStart),
      });
    }
  const ref = (kind: string, r: Row): Row | undefined => rows.find((x) => x.kind === kind && x.size === r.size);
  /** How many times less than `kind` (more than 1 = better); '0 B' against something reads as ∞. */
  const times = (a: number, b: number | undefined): string =>
    b === undefined ? '-' : a <= 0 ? (b <= 0 ? '=' : '∞') : formatRatio(b / a);
  console.log(
    `\nGarbage: ${MESSAGES} binary echoes per size after ${WARMUP} warm-up, ${args.connections} connections × ${PIPELINE} in flight${RUNS > 1 ? `, medians of ${RUNS} runs` : ''}.`,
  );
  console.log(
    'GCs and GC ms per 100k messages (PerformanceObserver); heap B/msg = JS-heap bytes allocated per echoed message',
  );
  console.log('(heap growth + what every GC freed, GCProfiler); external = ArrayBuffer backing stores, the same sum;');
  console.log(
    'growth = heap used after a full GC, end − start. ÷ws / ÷uws: how many times less than ws / uWS (higher is better).',
  );
  console.log(
    'Bytes per message are exact (at 16 KiB they vary with how frames split across reads); GC counts also depend on timing',
  );
  console.log('(V8 also scavenges from a posted task before the young generation is full);');
  console.log(
    'GC ms are wall-clock pauses, stretched whenever the shared machine preempts the server: compare them only loosely.\n',
  );
  printTable(
    [
      'size',
      'server',
      'msg/s',
      'cpu µs/msg',
      'GCs/100k',
      'scav/100k',
      'major/100k',
      'GC ms/100k',
      'heap B/msg',
      'external B/msg',
      'growth KiB',
      '÷ws heap B',
      '÷ws GC ms',
      '÷uws heap B',
      '÷uws GC ms',
    ],
    rows.map((r) => [
      formatBytes(r.size),
      r.kind,
      r.msgsPerSec.toFixed(0),
      r.cpuUsPerMsg.toFixed(2),
      r.gcPer100k.toFixed(1),
      r.minorPer100k.toFixed(1),
      r.majorPer100k.toFixed(2),
      r.gcMsPer100k.toFixed(2),
      r.heapBytesPerMsg.toFixed(1),
      r.externalBytesPerMsg.toFixed(1),
      (r.heapGrowthBytes / 1024).toFixed(1).padStart(9), // padded: a negative first cell would left-align the column
      times(r.heapBytesPerMsg, ref('ws', r)?.heapBytesPerMsg),
      times(r.gcMsPer100k, ref('ws', r)?.gcMsPer100k),
      times(r.heapBytesPerMsg, ref('uws', r)?.heapBytesPerMsg),
      times(r.gcMsPer100k, ref('uws', r)?.gcMsPer100k),
    ]),
  );
  const bcRows = SIZES.flatMap((size) =>
    kinds.map((kind) => {
      const mine = broadcastWindows.filter((w) => w.kind === kind && w.size === size);
      return {
        kind,
        size,
        heapBytesPerDelivery: median(mine.map((w) => w.heapAllocated / w.deliveries)),
        externalBytesPerDelivery: median(mine.map((w) => w.externalAllocated / w.deliveries)),
        gcPer100kDeliveries: median(mine.map((w) => (w.gc.count * 100_000) / w.deliveries)),
        cpuUsPerDelivery: median(mine.map((w) => w.cpuUs / w.deliveries)),
      };
    }),
  ).filter((r) => !Number.isNaN(r.heapBytesPerDelivery));
  if (bcRows.length > 0) {
    console.log(
      `\nBroadcast garbage: ${BROADCASTS} broadcasts per size to ${BC_N} connections (server's own broadcast), per delivery:\n`,
    );
    printTable(
      [
        'size',
        'server',
        'heap B/delivery',
        'external B/delivery',
        'GCs/100k deliveries',
        'cpu µs/delivery',
        '÷ws heap B',
      ],
      bcRows.map((r) => [
        formatBytes(r.size),
        r.kind,
        r.heapBytesPerDelivery.toFixed(1),
        r.externalBytesPerDelivery.toFixed(1),
        r.gcPer100kDeliveries.toFixed(1),
        r.cpuUsPerDelivery.toFixed(2),
        times(r.heapBytesPerDelivery, bcRows.find((x) => x.kind === 'ws' && x.size === r.size)?.heapBytesPerDelivery),
      ]),
    );
  }
  for (const s of sampled) {
    console.log(
      `\nAllocation sites, ${s.kind} ${formatBytes(s.size)} (sampling heap profiler, collected objects kept, ~${s.totalBytesPerMessage.toFixed(1)} B/msg in all):`,
    );
    printTable(
      ['B/msg', 'site', 'called from'],
      s.sites.slice(0, 8).map((x) => [x.bytesPerMessage.toFixed(2), x.site, x.stack]),
    );
  }
  for (const note of notes) console.log(`\n${note}`);
  const written = writeResults(
    'garbage',
    {
      config: {
        messages: MESSAGES,
        sizes: SIZES,
        kinds,
        connections: Number(args.connections),
        pipeline: PIPELINE,
        warmup: WARMUP,
        runs: RUNS,
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      },
      unit: 'per echoed message (one message in, one out) or per 100k messages; bytes; ms',
      method:
        'see bench/servers/gc-observer.ts: GC count/time from a PerformanceObserver; JS-heap bytes allocated = used-heap growth + Σ(used before − used after) over every GC in the window (v8.GCProfiler); external bytes the same over externalMemory, exact under --no-concurrent-array-buffer-sweeping',
      servers,
      notes,
      summary: rows.map((r) => ({
        ...r,
        vsWs: ref('ws', r)
          ? {
              heapBytes: ref('ws', r)!.heapBytesPerMsg / r.heapBytesPerMsg,
              gcMs: ref('ws', r)!.gcMsPer100k / r.gcMsPer100k,
            }
          : null,
      })),
      broadcast: { connections: BC_N, broadcasts: BROADCASTS, summary: bcRows, windows: broadcastWindows },
      allocationSites: sampled,
      windows: measured,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(`\n${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`);
}

main().catch((error: unknown) => die('bench:garbage failed', error));
