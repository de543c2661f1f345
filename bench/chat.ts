/**
 * bench:chat — the chat room of Bun's public benchmark (oven-sh/bun, bench/websocket-server),
 * written here from its description (load/chat-clients.ts, servers/chat-room.ts and
 * servers/chat-room.bun.mjs): many clients publishing into one room at once, every line to every
 * member. Bun 1.4 (`Bun.serve`), uWebSockets.js (native), lightws on both transports and ws, one
 * server at a time, with the same client process for every server (under Bun when it is found,
 * else this Node), interleaved round by round with the order rotated, medians over --runs:
 *
 *   npm run bench:chat -- [--clients 16,32,64] [--runs 3] [--lines 1600] [--warmup 2] [--seconds 10]
 *                         [--kinds bun,uws,lightws-handle,lightws-socket,ws] [--bun PATH]
 *                         [--rooms 1] [--talk 1]
 *   npm run bench:chat -- --clients 10000 --rooms 100 --talk 0.1 --lines 20     (100 rooms × 100, 10 % talking)
 *
 * Bun is looked for at --bun, $BUN, then the cache the CI uses
 * (~/.cache/lightws-bench/bun: `npm install --prefix ~/.cache/lightws-bench/bun @oven/bun-linux-x64@1.4.4`).
 * Reported per server: deliveries/s (the median of the client's 1-second samples, and the whole window's mean), server CPU
 * per delivery (user+sys from /proc over the measured window ÷ the deliveries in it), and the
 * p50/p99 delivery latency of client 0's lines (each line carries its send time).
 * Results: bench/out/chat.json (--publish: bench/results/).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { findBun } from './lib/bun.js';
import { JsonLinesChild, killChildrenOnExit } from './lib/children.js';
import { printTable } from './lib/format.js';
import { processCpuUs } from './lib/proc.js';
import { RESULTS_OPTIONS, ROOT, packageVersion, writeResults } from './lib/results.js';
import { median } from './lib/stats.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    clients: { type: 'string', default: '16,32,64' },
    runs: { type: 'string', default: '3' },
    lines: { type: 'string', default: '1600' },
    warmup: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    kinds: { type: 'string', default: 'bun,uws,lightws-handle,lightws-socket,ws' },
    rooms: { type: 'string', default: '1' },
    talk: { type: 'string', default: '1' },
    bun: { type: 'string' },
    ...RESULTS_OPTIONS,
  },
});
killChildrenOnExit();
const here = fileURLToPath(new URL('.', import.meta.url));
const bunPath = findBun(values.bun);
const kinds = values.kinds.split(',').filter((k) => k !== 'bun' || bunPath !== undefined);
if (bunPath === undefined && values.kinds.includes('bun'))
  process.stderr.write('bench:chat: Bun not found (--bun, $BUN): its row is left out\n');
const clientRuntime = bunPath ?? process.execPath;
const clientArgs =
  bunPath === undefined && Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];

interface Row {
  kind: string;
  clients: number;
  run: number;
  deliveriesPerSec: number;
  /** Every delivery of the window ÷ its seconds: not quantized by whole rounds as one 1-second sample is. */
  windowPerSec: number;
  cpuUsPerDelivery: number;
  p50Ms: number;
  p99Ms: number;
  native: boolean;
}

async function one(kind: string, clients: number, run: number): Promise<Row> {
  const server =
    kind === 'bun'
      ? new JsonLinesChild(`server ${kind}`, join(ROOT, 'bench/servers/chat-room.bun.mjs'), [], [], bunPath)
      : new JsonLinesChild(`server ${kind}`, join(here, 'servers/chat-room.js'), ['--kind', kind]);
  try {
    const ready = (await server.nextWhere((m) => m['ready'] === true, 20_000, 'ready')) as {
      port: number;
      pid: number;
      native: boolean;
    };
    const client = new JsonLinesChild(
      'chat clients',
      join(here, 'load/chat-clients.js'),
      [
        '--port',
        String(ready.port),
        '--clients',
        String(clients),
        '--lines',
        values.lines,
        '--warmup',
        values.warmup,
        '--seconds',
        values.seconds,
        '--rooms',
        values.rooms,
        '--talk',
        values.talk,
      ],
      clientArgs,
      clientRuntime,
    );
    try {
      await client.nextWhere((m) => m['start'] === true, 60_000, 'the measured window');
      const before = processCpuUs(ready.pid)!;
      const done = (await client.nextWhere(
        (m) => m['done'] === true,
        60_000 + Number(values.seconds) * 3000, // a loaded machine slows the 1-second samples
        'the results',
      )) as {
        samples: number[];
        deliveries: number;
        latency: { p50: number; p99: number };
      };
      const after = processCpuUs(ready.pid)!;
      const cpuUs = after.user + after.system - before.user - before.system;
      return {
        kind,
        clients,
        run,
        deliveriesPerSec: median(done.samples),
        windowPerSec: done.deliveries / done.samples.length,
        cpuUsPerDelivery: cpuUs / done.deliveries,
        p50Ms: done.latency.p50,
        p99Ms: done.latency.p99,
        native: ready.native,
      };
    } finally {
      client.endInput();
      await client.stop(5000);
    }
  } finally {
    server.endInput();
    await server.stop(5000);
  }
}

const rows: Row[] = [];
const started = Date.now();
for (const clients of values.clients.split(',').map(Number)) {
  for (let run = 0; run < Number(values.runs); run++) {
    const order = kinds.map((_, i) => kinds[(i + run) % kinds.length]!);
    for (const kind of order) {
      const row = await one(kind, clients, run);
      rows.push(row);
      process.stderr.write(
        `${clients} clients, run ${run + 1}, ${kind}: ${Math.round(row.deliveriesPerSec)} deliveries/s (window ${Math.round(row.windowPerSec)}), ${row.cpuUsPerDelivery.toFixed(3)} µs CPU each, p99 ${row.p99Ms.toFixed(1)} ms\n`,
      );
    }
  }
}

const med = (
  kind: string,
  clients: number,
  field: 'deliveriesPerSec' | 'windowPerSec' | 'cpuUsPerDelivery' | 'p50Ms' | 'p99Ms',
): number => median(rows.filter((r) => r.kind === kind && r.clients === clients).map((r) => r[field]));
const table = [];
for (const clients of values.clients.split(',').map(Number)) {
  for (const kind of kinds) {
    const rate = med(kind, clients, 'deliveriesPerSec');
    const mean = med(kind, clients, 'windowPerSec');
    const vs = (other: string): string =>
      kinds.includes(other) ? `${(mean / med(other, clients, 'windowPerSec')).toFixed(2)}×` : '-';
    table.push([
      String(clients),
      kind,
      String(Math.round(rate)),
      String(Math.round(mean)),
      med(kind, clients, 'cpuUsPerDelivery').toFixed(3),
      med(kind, clients, 'p50Ms').toFixed(1),
      med(kind, clients, 'p99Ms').toFixed(1),
      vs('uws'),
      vs('bun'),
    ]);
  }
}
// A 1-second sample holds whole rounds (clients × lines × members deliveries each), so its median
// steps from one round count to the next; the window's mean does not, and the ratios are taken on it.
printTable(
  [
    'clients',
    'server',
    'deliveries/s (median 1-s sample)',
    'deliveries/s (window)',
    'CPU µs/delivery',
    'p50 ms',
    'p99 ms',
    '÷ uWS',
    '÷ Bun',
  ],
  table,
);
const path = writeResults(
  values.rooms === '1' ? 'chat' : `chat-rooms-${values.rooms}`,
  {
    clientRuntime: bunPath === undefined ? `node ${process.version}` : `bun ${clientRuntime}`,
    versions: { ws: packageVersion('ws'), uws: packageVersion('@trufflesuite/uws-js-unofficial') },
    lines: Number(values.lines),
    rooms: Number(values.rooms),
    talk: Number(values.talk),
    seconds: Number(values.seconds),
    rows,
  },
  values,
);
process.stderr.write(`${Math.round((Date.now() - started) / 1000)} s; results in ${path}\n`);
