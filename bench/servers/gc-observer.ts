/**
 * An echo server (lightws, ws or uWS, from the modules next to this one) that measures its own
 * garbage over a window, for `bench:garbage`. Run by bench/garbage.ts through fork(), IPC only:
 *
 *   node --expose-gc --no-concurrent-array-buffer-sweeping dist/bench/servers/gc-observer.js --kind handle|socket|ws|uws [--mode echo|broadcast]
 *
 * Commands: `begin` opens a window (after a full GC), `end` closes it and reports; `broadcast`
 * sends one message to every connection (the server's own broadcast, as in bench:broadcast);
 * `sample-start` / `sample-stop` run V8's sampling heap profiler for allocation sites; `close` exits.
 *
 * How the window is measured:
 * - GC count and pause time by kind: a PerformanceObserver on 'gc' entries (minor = scavenge,
 *   major = mark-compact, incremental = marking steps, weakcb = weak callbacks).
 * - Bytes allocated on the JS heap: V8 keeps no running total that JS can read, but every byte
 *   allocated either is still there at the end or was freed by a GC, and only a GC frees. So
 *   allocated = (used at end − used at start) + Σ over the window's GCs (used before − used after),
 *   with the before/after of each GC from v8.GCProfiler (which records getHeapStatistics() around
 *   every GC, exactly inside the window). This is exact for the JS heap: every object, including
 *   each Buffer's JSArrayBuffer/Uint8Array wrapper, counts.
 * - Off-heap bytes (ArrayBuffer backing stores, e.g. a Buffer.allocUnsafe(16384)): the same sum
 *   over V8's externalMemory. Exact only under --no-concurrent-array-buffer-sweeping (which
 *   bench/garbage.ts passes): by default V8 frees dead backing stores from a background sweeper
 *   and books the release later, between GCs, where the sum cannot see it. With the flag they
 *   are freed inside the GC pause. Checked: 100k Buffer.allocUnsafe(16384) sum to 16384.0 B each
 *   with the flag, ~950 B each without. The flag moves that sweeping into GC pauses, equally
 *   for every server.
 * The observer's own cost inside the window is per GC (one entry object), not per message.
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { die } from '../lib/status.js';
import { sleep } from '../lib/time.js';
import { startLightws } from './lightws.js';
import type { BenchServer } from './protocol.js';
import { startUws } from './uws.js';
import { startWs } from './ws.js';

export type ObserverCommand =
  | { type: 'begin' }
  | { type: 'end' }
  | { type: 'broadcast'; size: number }
  | { type: 'sample-start'; intervalBytes: number }
  | { type: 'sample-stop'; messages: number }
  | { type: 'close' };

export interface GcKindStats {
  count: number;
  ms: number;
}
export interface AllocationSite {
  site: string;
  stack: string;
  bytes: number;
  bytesPerMessage: number;
}
export interface WindowStats {
  ms: number;
  cpuUs: number;
  /** From the PerformanceObserver. */
  gc: { count: number; ms: number; byKind: Record<string, GcKindStats> };
  /** From GCProfiler: its count of GCs (a cross-check) and the allocation sums. */
  profiled: { count: number; costMs: number; byType: Record<string, GcKindStats> };
  heapAllocated: number;
  externalAllocated: number;
  /** used_heap_size after a full GC at begin, at the end before any GC, after a full GC at the end. */
  heapStart: number;
  heapEnd: number;
  heapEndAfterGc: number;
  externalStart: number;
  externalEndAfterGc: number;
  rssStart: number;
  rssEnd: number;
}

export type ObserverReport =
  | { type: 'ready'; port: number; native: boolean; info: Record<string, unknown> }
  | { type: 'begun' }
  | { type: 'broadcasted'; sent: number }
  | ({ type: 'ended' } & WindowStats)
  | { type: 'sampled'; totalBytes: number; sites: AllocationSite[] }
  | { type: 'closed' };

const { values } = parseArgs({
  options: { kind: { type: 'string', default: 'handle' }, mode: { type: 'string', default: 'echo' } },
});
const gc = globalThis.gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const send = (r: ObserverReport): Promise<void> => toParent(r);

const KIND_NAMES: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
let observing = false;
let observed = { count: 0, ms: 0, byKind: {} as Record<string, GcKindStats> };
new PerformanceObserver((list) => {
  if (!observing) return;
  for (const entry of list.getEntries()) {
    const kind =
      KIND_NAMES[((entry as unknown as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ?? -1] ??
      'other';
    const k = (observed.byKind[kind] ??= { count: 0, ms: 0 });
    k.count++;
    k.ms += entry.duration;
    observed.count++;
    observed.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

/** A full GC, then a pause for the sweeper and the observer's queued entries to settle. */
async function fullGc(): Promise<void> {
  gc!();
  gc!();
  await sleep(50);
}

interface HeapPoint {
  usedHeapSize: number;
  externalMemory: number;
}
interface Profiled {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: HeapPoint };
  afterGC: { heapStatistics: HeapPoint };
}

let server: BenchServer;
let window: {
  profiler: GCProfiler;
  t0: number;
  cpu: NodeJS.CpuUsage;
  heap: number;
  external: number;
  rss: number;
} | null = null;
let session: Session | null = null;
const payloads: Record<number, Buffer> = {};

async function begin(): Promise<void> {
  await fullGc();
  observed = { count: 0, ms: 0, byKind: {} };
  observing = true;
  const h = getHeapStatistics();
  const profiler = new GCProfiler();
  profiler.start();
  window = {
    profiler,
    t0: performance.now(),
    cpu: process.cpuUsage(),
    heap: h.used_heap_size,
    external: h.external_memory,
    rss: process.memoryUsage.rss(),
  };
  await send({ type: 'begun' });
}

async function end(): Promise<void> {
  const w = window!;
  window = null;
  const h = getHeapStatistics(); // before stop(): its result object is the profiler's, not the server's
  const ms = performance.now() - w.t0;
  const cpu = process.cpuUsage(w.cpu);
  const rssEnd = process.memoryUsage.rss();
  const stats = (w.profiler.stop() as unknown as { statistics: Profiled[] }).statistics;
  await sleep(50); // the observer's entries for the last GCs arrive asynchronously
  observing = false;
  let freedHeap = 0,
    freedExternal = 0;
  const byType: Record<string, GcKindStats> = {};
  for (const s of stats) {
    freedHeap += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
    freedExternal += Math.max(0, s.beforeGC.heapStatistics.externalMemory - s.afterGC.heapStatistics.externalMemory);
    const t = (byType[s.gcType] ??= { count: 0, ms: 0 });
    t.count++;
    t.ms += s.cost / 1000; // µs
  }
  await fullGc();
  const after = getHeapStatistics();
  await send({
    type: 'ended',
    ms,
    cpuUs: cpu.user + cpu.system,
    gc: observed,
    profiled: { count: stats.length, costMs: Object.values(byType).reduce((s, t) => s + t.ms, 0), byType },
    heapAllocated: h.used_heap_size - w.heap + freedHeap,
    externalAllocated: Math.max(0, h.external_memory - w.external + freedExternal),
    heapStart: w.heap,
    heapEnd: h.used_heap_size,
    heapEndAfterGc: after.used_heap_size,
    externalStart: w.external,
    externalEndAfterGc: after.external_memory,
    rssStart: w.rss,
    rssEnd,
  });
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/**
 * V8's sampling heap profiler, told to keep samples of objects the GC has already collected
 * (Node's --heap-prof keeps only live ones, which hides garbage). Sites are the allocating
 * function and its two callers; the sampled sizes are scaled by V8 to estimate all bytes.
 */
async function sampleStop(messages: number): Promise<void> {
  const { profile } = (await session!.post('HeapProfiler.stopSampling')) as unknown as {
    profile: { head: ProfileNode };
  };
  await session!.post('HeapProfiler.disable');
  session!.disconnect();
  session = null;
  const frame = (n: ProfileNode): string => {
    const f = n.callFrame;
    const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
    return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
  };
  const sites = new Map<string, AllocationSite>();
  let total = 0;
  const walk = (n: ProfileNode, path: ProfileNode[]): void => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      const site = frame(n);
      const stack = path
        .slice(-3)
        .reverse()
        .map((p) => p.callFrame.functionName || '(anonymous)')
        .join(' ← ');
      const key = `${site}|${stack}`;
      const s = sites.get(key) ?? { site, stack, bytes: 0, bytesPerMessage: 0 };
      s.bytes += n.selfSize;
      sites.set(key, s);
    }
    for (const c of n.children) walk(c, [...path, n]);
  };
  walk(profile.head, []);
  const top = [...sites.values()].sort((a, b) => b.bytes - a.bytes).slice(0, 15);
  for (const s of top) s.bytesPerMessage = s.bytes / messages;
  await send({ type: 'sampled', totalBytes: total, sites: top });
}

async function main(): Promise<void> {
  const kind = values.kind;
  const mode = values.mode === 'broadcast' ? 'broadcast' : 'echo';
  server =
    kind === 'handle' || kind === 'socket'
      ? await startLightws(0, mode, kind)
      : kind === 'ws'
        ? await startWs(0, mode)
        : kind === 'uws'
          ? await startUws(0, mode)
          : (() => {
              throw new RangeError(`--kind must be handle, socket, ws or uws, not ${kind}`);
            })();
  process.on('message', (cmd: ObserverCommand) => {
    const done = (async () => {
      switch (cmd.type) {
        case 'begin':
          return begin();
        case 'end':
          return end();
        case 'broadcast': {
          const data = (payloads[cmd.size] ??= Buffer.alloc(cmd.size, 0x61)); // made once: the message is not the server's garbage
          return send({ type: 'broadcasted', sent: server.broadcast(data, true) });
        }
        case 'sample-start':
          session = new Session();
          session.connect();
          await session.post('HeapProfiler.enable');
          await session.post('HeapProfiler.startSampling', {
            samplingInterval: cmd.intervalBytes,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          } as never);
          return send({ type: 'begun' });
        case 'sample-stop':
          return sampleStop(cmd.messages);
        case 'close':
          await server.close();
          await send({ type: 'closed' });
          process.exit(0);
      }
    })();
    done.catch((error: unknown) => die('gc-observer', error));
  });
  exitWithParent();
  await send({ type: 'ready', port: server.port, native: server.native, info: server.info ?? {} });
}

void main();
