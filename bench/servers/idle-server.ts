/**
 * Server process for `bench:idle`: one WebSocket server (lightws over raw
 * handles, lightws over net sockets, or ws), measured from inside on
 * command. Run by bench/idle.ts through fork(), with --expose-gc:
 *
 *   node --expose-gc dist/bench/servers/idle-server.js --kind handle|socket|ws
 *
 * It is its own process so that its RSS holds the server and nothing else
 * (no client sockets, no orchestrator state).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';
import { createServer, limitYoungGeneration, type TransportName } from '../../src/index.js';
import { startBun } from './bun.js';
import { startUws } from './uws.js';
import { isBunKind } from '../lib/bun.js';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { median } from '../lib/stats.js';
import { die } from '../lib/status.js';
import { sleep } from '../lib/time.js';

/**
 * handle-young1 is `handle` with limitYoungGeneration(), what `lightws echo` and `lightws chat` run.
 * The *-deflate and uws kinds are bench:deflate's: each library with permessage-deflate on (lightws
 * `shared` and `window`, ws's perMessageDeflate, uWS's SHARED_COMPRESSOR, Bun's shared compressor
 * as `bun-deflate`), and uWS without it.
 */
export type ServerKind =
  | TransportName
  | 'handle-young1'
  | 'ws'
  | 'handle-shared'
  | 'handle-window'
  | 'ws-deflate'
  | 'uws'
  | 'uws-shared'
  | 'bun'
  | 'bun-deflate';
const KINDS: readonly ServerKind[] = [
  'handle',
  'handle-young1',
  'socket',
  'ws',
  'handle-shared',
  'handle-window',
  'ws-deflate',
  'uws',
  'uws-shared',
  'bun',
  'bun-deflate',
];

/** Orchestrator → server. */
export type ServerCommand =
  | { type: 'measure'; expect: number; settleMs: number; waitMs: number; gcSamples: number }
  | { type: 'snapshot' }
  | { type: 'breakdown'; before: string; after: string; connections: number }
  | { type: 'close'; timeoutMs: number };

export interface ServerSample {
  /** Open connections the server counts (lightws stats().connections, ws clients.size). */
  count: number;
  /** Did the count reach `expect` within waitMs? */
  reached: boolean;
  waitedMs: number;
  /** RSS read before the forced GCs: what a look from outside (`ps`, /proc) sees. */
  rssNoGc: number;
  /** RSS after two forced full GCs. */
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  mallocedMemory: number;
  /**
   * Resident bytes of V8's young generation. Empty after a full GC, but V8
   * sizes it by recent allocation rate (up to 32 MiB here) and shrinks it
   * only when its memory reducer runs, ~20 s into idleness or later: it is
   * the ramp's scratch space, not memory the connections hold.
   */
  rssYoung: number;
  /** Resident bytes of the brk heap, where glibc's main arena puts the main thread's malloc (Node's C++ objects). */
  rssMalloc: number;
  totalHeapSize: number;
  usedHeapSize: number;
  /** Full GC pause (global.gc()), median of gcSamples, and every sample. */
  gcMs: number;
  gcSamplesMs: number[];
  /** lightws only (null for ws): pooled buffers lent out, and connections still upgrading. */
  lentBuffers: number | null;
  handshaking: number | null;
}

/** Per-connection heap cost of one kind of object, from two heap snapshots. */
export interface BreakdownRow {
  what: string;
  countPerConn: number;
  bytesPerConn: number;
}

/** Server → orchestrator. */
export type ServerReport =
  | { type: 'ready'; port: number; pid: number }
  | ({ type: 'measured' } & ServerSample)
  | { type: 'snapshotted'; file: string }
  | { type: 'breakdown'; rows: BreakdownRow[]; heapBytesPerConn: number; nativeBytesPerConn: number }
  | { type: 'closed'; closed: number; terminated: number; ms: number };

const { values } = parseArgs({ options: { kind: { type: 'string', default: 'handle' } } });
const kind = values.kind as ServerKind;
if (!KINDS.includes(kind)) throw new RangeError(`--kind must be one of ${KINDS.join(', ')}, not ${kind}`);
// Under Bun (the Bun kinds, which bench/idle.ts runs with Bun itself) startBun puts Bun.gc(true) there.
if (isBunKind(kind) ? process.versions['bun'] === undefined : globalThis.gc === undefined)
  throw new Error(isBunKind(kind) ? `the ${kind} kind runs under Bun` : 'run with --expose-gc');
const gc = (): void => void globalThis.gc!();

interface Subject {
  port: number;
  count(): number;
  pool(): { lentBuffers: number; handshaking: number } | null;
  close(timeoutMs: number): Promise<{ closed: number; terminated: number }>;
}

/** The same echo server in each kind; the connections stay idle, so only what a connection holds is measured. */
async function start(): Promise<Subject> {
  if (isBunKind(kind)) {
    const bun = startBun({ port: 0, host: '127.0.0.1', mode: 'echo', deflate: kind === 'bun-deflate' ? 'on' : 'off' });
    return {
      port: bun.port,
      count: () => bun.connections(),
      pool: () => null,
      async close(timeoutMs) {
        // Bun.serve's stop(true) drops every connection at once, without a closing handshake.
        const n = bun.connections();
        await bun.close();
        const deadline = Date.now() + timeoutMs;
        while (bun.connections() > 0 && Date.now() < deadline) await sleep(20);
        return { closed: 0, terminated: n };
      },
    };
  }
  if (kind === 'uws' || kind === 'uws-shared') {
    const uws = await startUws(0, 'echo', '127.0.0.1', kind === 'uws-shared');
    if (!uws.native) throw new Error('uWebSockets.js: the native binary did not load');
    return {
      port: uws.port,
      count: () => uws.connections(),
      pool: () => null,
      async close() {
        const n = uws.connections();
        await uws.close();
        return { closed: n, terminated: 0 };
      },
    };
  }
  if (kind === 'ws' || kind === 'ws-deflate') {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: kind === 'ws-deflate' });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const address = wss.address();
    return {
      port: address === null || typeof address === 'string' ? 0 : address.port,
      count: () => wss.clients.size,
      pool: () => null,
      async close(timeoutMs) {
        // ws's close() only stops accepting; closing clients is up to us, as in any ws app.
        const before = wss.clients.size;
        for (const ws of wss.clients) ws.close(1001);
        const deadline = Date.now() + timeoutMs;
        while (wss.clients.size > 0 && Date.now() < deadline) await sleep(20);
        const terminated = wss.clients.size;
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        return { closed: before - terminated, terminated };
      },
    };
  }
  // What `lightws echo` does first: the young generation held at 1 MiB per semi-space.
  if (kind === 'handle-young1') limitYoungGeneration();
  const server = createServer({
    transport: kind === 'socket' ? 'socket' : 'handle',
    deflate: kind === 'handle-shared' ? 'shared' : kind === 'handle-window' ? 'window' : 'off',
    logLevel: 'warn',
    message(conn, data, isBinary) {
      conn.send(data, isBinary);
    },
  });
  const address = await server.listen(0, '127.0.0.1');
  return {
    port: address.port,
    count: () => server.stats().connections,
    pool: () => {
      const s = server.stats();
      return { lentBuffers: s.pool.lentBuffers, handshaking: s.handshaking };
    },
    close: (timeoutMs) => server.close({ timeoutMs }),
  };
}

async function measure(subject: Subject, cmd: Extract<ServerCommand, { type: 'measure' }>): Promise<ServerSample> {
  const t0 = performance.now();
  while (subject.count() !== cmd.expect && performance.now() - t0 < cmd.waitMs) await sleep(20);
  const waitedMs = performance.now() - t0;
  const count = subject.count();
  // Let stragglers (timers, deferred frees, the loop's own allocations) settle before collecting.
  await sleep(cmd.settleMs);
  // What `top` sees, before any collection is forced: the figure from outside.
  const rssNoGc = process.memoryUsage.rss();
  gc();
  gc();
  const mem = process.memoryUsage();
  const heap = getHeapStatistics();
  const rssMalloc = brkHeapRss();
  const rssYoung = getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((sum, space) => sum + space.physical_space_size, 0);
  // A full GC's pause grows with what the heap holds: the cost an idle connection
  // keeps charging. Timed after the memory reading, so it cannot disturb it.
  const gcSamplesMs: number[] = [];
  for (let i = 0; i < cmd.gcSamples; i++) {
    const t = performance.now();
    gc();
    gcSamplesMs.push(performance.now() - t);
  }
  const pool = subject.pool();
  return {
    count,
    reached: count === cmd.expect,
    waitedMs,
    rssNoGc,
    rss: mem.rss,
    heapTotal: mem.heapTotal,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    mallocedMemory: heap.malloced_memory,
    rssMalloc,
    rssYoung,
    totalHeapSize: heap.total_heap_size,
    usedHeapSize: heap.used_heap_size,
    gcMs: median(gcSamplesMs),
    gcSamplesMs,
    lentBuffers: pool?.lentBuffers ?? null,
    handshaking: pool?.handshaking ?? null,
  };
}

/**
 * RSS splits into V8's heap pages (anonymous mmaps), code and libraries
 * (file mappings), and malloc. The main thread's malloc lives in the brk
 * heap, so its resident size tracks the native side of a connection (libuv
 * handle, Node's wrap object, cleanup hooks) apart from V8's heap slack.
 */
function brkHeapRss(): number {
  const smaps = readFileSync('/proc/self/smaps', 'latin1');
  const at = smaps.indexOf(' [heap]\n');
  if (at < 0) return 0;
  const rss = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at, at + 400));
  return rss === null ? 0 : Number(rss[1]) * 1024;
}

interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size of heap objects, by kind: constructor name for objects, type for strings, numbers, code. */
function histogram(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotJson;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, { count: number; bytes: number }>();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + iType]!]!;
    // A string node's name is its contents, a number's is its value: group those by type only.
    const key =
      type.includes('string') || type === 'number' || type === 'code'
        ? type
        : `${type} ${strings[nodes[i + iName]!]!.slice(0, 60)}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + iSize]!;
    out.set(key, entry);
  }
  return out;
}

/**
 * What each extra connection added, between two heap snapshots taken at
 * different connection counts. 'native' and 'synthetic' nodes are C++ objects
 * Node reports (TCPWrap, cleanup hooks): sized, but outside the JS heap.
 */
function breakdown(
  before: string,
  after: string,
  connections: number,
): { rows: BreakdownRow[]; heapBytesPerConn: number; nativeBytesPerConn: number } {
  const a = histogram(before);
  const b = histogram(after);
  const rows: BreakdownRow[] = [];
  let heap = 0;
  let native = 0;
  for (const what of new Set([...a.keys(), ...b.keys()])) {
    const start = a.get(what) ?? { count: 0, bytes: 0 };
    const end = b.get(what) ?? { count: 0, bytes: 0 };
    const bytesPerConn = (end.bytes - start.bytes) / connections;
    if (what.startsWith('native ') || what.startsWith('synthetic ')) native += bytesPerConn;
    else heap += bytesPerConn;
    if (Math.abs(bytesPerConn) >= 0.5)
      rows.push({ what, countPerConn: (end.count - start.count) / connections, bytesPerConn });
  }
  rows.sort((x, y) => y.bytesPerConn - x.bytesPerConn);
  for (const file of [before, after]) rmSync(file, { force: true }); // hundreds of MB at the top; do not leave them behind
  return { rows: rows.slice(0, 30), heapBytesPerConn: heap, nativeBytesPerConn: native };
}

const send = (report: ServerReport): Promise<void> => toParent(report);

async function main(): Promise<void> {
  const subject = await start();
  process.on('message', (cmd: ServerCommand) => {
    handle(cmd).catch((error: unknown) => die(`idle-server (${kind})`, error));
  });

  async function handle(cmd: ServerCommand): Promise<void> {
    switch (cmd.type) {
      case 'measure':
        await send({ type: 'measured', ...(await measure(subject, cmd)) });
        return;
      case 'snapshot': {
        gc();
        const file = writeHeapSnapshot(
          join(tmpdir(), `lightws-idle-${kind}-${process.pid}-${subject.count()}.heapsnapshot`),
        );
        await send({ type: 'snapshotted', file });
        return;
      }
      case 'breakdown':
        await send({ type: 'breakdown', ...breakdown(cmd.before, cmd.after, cmd.connections) });
        return;
      case 'close': {
        const t0 = performance.now();
        const result = await subject.close(cmd.timeoutMs);
        await send({ type: 'closed', ...result, ms: performance.now() - t0 });
        process.exit(0);
      }
    }
  }
  await send({ type: 'ready', port: subject.port, pid: process.pid });
}

exitWithParent();
main().catch((error: unknown) => die(`idle-server (${kind})`, error));
