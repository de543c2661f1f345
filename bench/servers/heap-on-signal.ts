/**
 * bench:million's "inside" memory figure: a server worker that receives
 * SIGUSR2 runs two full GCs and prints one JSON line
 * {"type":"heap","pid","rss","heapUsed","heapTotal","external","arrayBuffers"}
 * on stdout, which a cluster worker shares with its primary (the
 * orchestrator's JSON-lines channel; a line this short is written whole).
 *
 * The GC is reached without --expose-gc (V8's flag set at run time, the gc
 * function taken from a fresh context), so the workers run with exactly the
 * flags being measured until the first signal, which comes only after the
 * outside figure (from /proc, no GC forced) has been read.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapLine {
  type: 'heap';
  pid: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

let gc: (() => void) | undefined;

function fullGc(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  // Twice: the first runs the finalizers (and frees the backing stores) of what it found dead.
  gc();
  gc();
}

export function reportHeapOnSignal(): void {
  process.on('SIGUSR2', () => {
    fullGc();
    const m = process.memoryUsage();
    const line: HeapLine = {
      type: 'heap',
      pid: process.pid,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
}
