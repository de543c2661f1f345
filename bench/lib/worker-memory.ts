/**
 * The memory of a server's worker processes, as bench:million reports it.
 * Outside: /proc/PID/smaps_rollup summed (PSS is what the machine spends on
 * them; RSS counts the shared Node binary once per worker), no GC forced.
 * Inside: each worker's heap after two forced GCs (servers/heap-on-signal.ts).
 */
import type { HeapLine } from '../servers/heap-on-signal.js';
import type { JsonLinesChild } from './children.js';
import { formatGiB as gib } from './format.js';
import { memoryOf, minus, type Mem } from './proc.js';

/** The workers at one moment, from /proc: summed, per worker, and per connection over the empty cluster. */
export interface ServerMemory {
  workers: Mem;
  perWorker: Mem;
  perConn?: Mem;
}

export function serverMemory(pids: readonly number[], empty?: ServerMemory, connections = 0): ServerMemory {
  const workers = memoryOf(pids);
  const each = (m: Mem, n: number): Mem => ({
    processes: m.processes,
    rss: m.rss / n,
    pss: m.pss / n,
    private: m.private / n,
    shared: m.shared / n,
    anonymous: m.anonymous / n,
  });
  const out: ServerMemory = { workers, perWorker: each(workers, Math.max(1, workers.processes)) };
  if (empty !== undefined) out.perConn = each(minus(workers, empty.workers), Math.max(1, connections));
  return out;
}

export const memLine = (m: ServerMemory): string =>
  `PSS ${gib(m.workers.pss)}, RSS ${gib(m.workers.rss)}, private ${gib(m.workers.private)}, shared ${gib(m.workers.shared)}` +
  (m.perConn === undefined
    ? ''
    : `; per connection over the empty cluster: RSS +${m.perConn.rss.toFixed(0)} B, PSS +${m.perConn.pss.toFixed(0)} B, private +${m.perConn.private.toFixed(0)} B`);

/** Summed over the workers after forced GCs: the JS heap in use and reserved, what lives outside it (Buffers' memory), and RSS then. */
export interface InsideMemory {
  workers: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
  perConn?: { heapUsed: number; external: number; total: number };
}

/** Signals every worker and sums their heap lines (one at a time: 53 full GCs at once would be one long stall). */
export async function insideMemory(
  server: JsonLinesChild,
  pids: readonly number[],
  empty?: InsideMemory,
  connections = 0,
): Promise<InsideMemory> {
  const out: InsideMemory = { workers: 0, heapUsed: 0, heapTotal: 0, external: 0, rss: 0 };
  for (const pid of pids) {
    const line = server.nextWhere((m) => m['type'] === 'heap' && m['pid'] === pid, 60_000, `worker ${pid}'s heap line`);
    process.kill(pid, 'SIGUSR2');
    const heap = (await line) as unknown as HeapLine;
    out.workers++;
    out.heapUsed += heap.heapUsed;
    out.heapTotal += heap.heapTotal;
    out.external += heap.external;
    out.rss += heap.rss;
  }
  if (empty !== undefined) {
    const n = Math.max(1, connections);
    const heapUsed = (out.heapUsed - empty.heapUsed) / n,
      external = (out.external - empty.external) / n;
    out.perConn = { heapUsed, external, total: heapUsed + external };
  }
  return out;
}
